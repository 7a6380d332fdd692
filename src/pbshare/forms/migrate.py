"""Safe changes to a published model's table: never silent loss.

- a new field adds a column (and a blind index column when personal);
- a rename changes the label only; the column keeps its name;
- a type change first converts every stored value (deleted records too) and refuses, listing the ones that
  do not convert; when all do, the converted values go to a new column and the old column stays (retired)
  until a person purges it;
- a deleted field keeps its column and data until a person purges it.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from sqlalchemy import Index, Table, bindparam, select, text, update
from sqlalchemy.orm import Session

from pbshare.core.db import Database
from pbshare.core.dynamic import ColumnSpec, safe_identifier
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T
from pbshare.forms import fields as ftypes
from pbshare.forms import store
from pbshare.forms.models import DataModel
from pbshare.security.crypto import pii
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse

MAX_BAD_SHOWN = 200


def create_table(db: Session, database: Database, *, model: DataModel, fields: list[dict],
                 principal: Principal) -> None:
    warehouse.create_topic(db, database, name=model.topic, title="表单录入数据", exist_ok=True, principal=principal)
    live = [f for f in fields if not f.get("deleted")]
    if warehouse.find_table(db, topic=model.topic, name=model.table_name) is None:
        # a first publish that failed after creating the table left it unregistered and empty: start again
        warehouse.drop_created(database, topic=model.topic, name=model.table_name)
    warehouse.create_table(db, database, topic=model.topic, name=model.table_name, title=model.title,
                           fields=[*store.SYSTEM_COLUMNS, *store.warehouse_fields(live)], key=["rec_id"],
                           origin_id=model.id, principal=principal)
    _index(db, database, model, live)


def _index(db: Session, database: Database, model: DataModel, fields: list[dict]) -> None:
    """Index what lookups use: a personal field's blind index, and unique or searchable plain fields."""
    table = store.table(db, database, model)
    short = ("reference", "select", "year_month")  # long text is never indexed (PostgreSQL's btree row limit)
    columns = [f["column"] + store.BIDX if ftypes.is_personal(f) else f["column"] for f in fields
               if ftypes.is_personal(f) or ((f.get("unique") or f.get("searchable"))
                                            and (ftypes.storage_type(f) != "text" or f["type"] in short))]
    with store.connect(db, database) as conn:
        for col in columns:
            if col in table.c:
                digest = hashlib.sha256(f"{model.table_name}.{col}".encode()).hexdigest()[:8]
                Index(f"ix_{model.table_name[:40]}_{digest}", table.c[col]).create(conn, checkfirst=True)


def _add_physical(db: Session, database: Database, model: DataModel, new_fields: list[dict]) -> None:
    """ALTER TABLE … ADD COLUMN for each field's column (and blind index), and the warehouse registry."""
    columns = warehouse.physical_columns(store.warehouse_fields(new_fields))
    topic, name = safe_identifier(model.topic), safe_identifier(model.table_name)
    with store.connect(db, database) as conn:
        for c in columns:
            col = ColumnSpec(c["name"], c["type"], c.get("length")).to_column()
            type_sql = col.type.compile(dialect=conn.dialect)
            conn.execute(text(f'ALTER TABLE "{topic}"."{name}" ADD COLUMN "{col.name}" {type_sql}'))
    registry = warehouse.get_table(db, topic=model.topic, name=model.table_name)
    registry.columns = [*registry.columns, *columns]
    _index(db, database, model, new_fields)


def add_columns(db: Session, database: Database, *, model: DataModel, old: list[dict], new: list[dict]) -> None:
    existing = {c.name for c in store.table(db, database, model).columns}
    added = [f for f in new if not f.get("deleted") and f["column"] not in existing]
    if added:
        _add_physical(db, database, model, added)


def _rows(db: Session, database: Database, model: DataModel, column: str) -> list[tuple[str, Any]]:
    table = store.table(db, database, model)
    with store.reading(db, database) as conn:
        return [(r[0], r[1]) for r in conn.execute(select(table.c.rec_id, table.c[column]).order_by(table.c.rec_id))]


def new_field(field: dict, new_type: str, settings: dict | None) -> dict:
    if new_type not in ftypes.TYPES:
        raise Invalid(T("类型“{t}”不支持", "The type '{t}' is not supported", t=new_type), code="forms_bad_field")
    if new_type == field["type"]:
        raise Invalid(T("字段“{n}”已是这个类型", "Field '{n}' already has this type", n=field["label"]),
                      code="forms_same_type")
    if new_type == "subtable" or field["type"] == "subtable":
        raise Invalid(T("子表不能与其他类型互相转换", "A sub-table cannot change to or from another type"),
                      code="forms_bad_field")
    out = {**copy.deepcopy(field), **(settings or {}), "type": new_type, "name": field["name"]}
    return ftypes.check_definition([out])[0]


def check_type(db: Session, database: Database, *, model: DataModel, field: dict, target: dict,
               vault: pii.PiiVault) -> dict[str, Any]:
    """Convert every stored value of ``field`` to ``target``'s type: counts, converted values by record and the
    values that do not convert (masked when personal), each with what is wrong."""
    total = 0
    converted: dict[str, Any] = {}
    bad: list[dict[str, Any]] = []
    for rec_id, stored in _rows(db, database, model, field["column"]):
        total += 1
        value = store.plain(field, stored, vault)
        if value is None:
            converted[rec_id] = None
            continue
        shown = ftypes.to_json(field, value)
        try:
            new_value = ftypes.convert(target, ftypes.display(field, value) if field["type"] == "multiselect" else shown)
            ftypes.check_settings(target, new_value)
            converted[rec_id] = new_value
        except Invalid as exc:
            if len(bad) < MAX_BAD_SHOWN:
                text_value = ftypes.display(field, value)
                if ftypes.is_personal(field):
                    text_value = pii.mask(text_value, ftypes.mask_kind(field)) or ""
                bad.append({"record_id": rec_id, "value": text_value, "message": exc.message.render("zh"),
                            "message_en": exc.message.render("en")})
            else:
                bad.append({"record_id": rec_id})
    return {"total": total, "convertible": total - len(bad), "bad": bad, "converted": converted}


def apply_type(db: Session, database: Database, *, model: DataModel, field: dict, target: dict,
               converted: dict[str, Any], vault: pii.PiiVault) -> dict:
    """Write the converted values into a new column; the old column stays, listed as retired on the field."""
    existing = {c.name for c in store.table(db, database, model).columns}
    for n in range(2, 1000):
        column = f"{field['name'][:55]}_v{n}"
        if column not in existing:
            break
    else:
        raise Conflict(T("字段“{n}”的类型改动次数过多", "Field '{n}' changed type too many times", n=field["label"]))
    target = {**target, "column": column,
              "retired": [*(field.get("retired") or []), {"column": field["column"], "type": field["type"]}]}
    _add_physical(db, database, model, [target])
    table: Table = store.table(db, database, model)
    params = []
    for rec_id, value in converted.items():
        row = store.encode(target, value, vault)
        params.append({"_id": rec_id, **{f"v_{k}": v for k, v in row.items()}})
    if params:
        cols = list(store.encode(target, None, vault))
        stmt = update(table).where(table.c.rec_id == bindparam("_id")).values(
            {table.c[c]: bindparam(f"v_{c}") for c in cols})
        with store.connect(db, database) as conn:
            conn.execute(stmt, params)
    return target


def purge(db: Session, database: Database, *, model: DataModel, columns: list[str]) -> None:
    """Drop columns of deleted fields or retired types (a person asked for it; the data is gone after this)."""
    topic, name = safe_identifier(model.topic), safe_identifier(model.table_name)
    existing = {c.name for c in store.table(db, database, model).columns}
    drop = [c for c in columns if c in existing]
    table = store.table(db, database, model)
    with store.connect(db, database) as conn:
        for idx in list(table.indexes):
            if {c.name for c in idx.columns} & set(drop):
                idx.drop(conn)
        for c in drop:
            conn.execute(text(f'ALTER TABLE "{topic}"."{name}" DROP COLUMN "{safe_identifier(c)}"'))
    registry = warehouse.get_table(db, topic=model.topic, name=model.table_name)
    registry.columns = [c for c in registry.columns if c["name"] not in drop]
