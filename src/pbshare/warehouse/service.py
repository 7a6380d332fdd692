"""Topic databases (专题库) and their tables: a registry on top of ``core.dynamic.TopicStore``.

Personal identifiers in warehouse tables are stored sealed (``security.pii``) with a blind index
column ``<name>_bidx`` beside them, so rows can be matched and joined without decrypting; reads
show them masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Index, String, Table, cast, func, select
from sqlalchemy.orm import Session

from pbshare.catalog.resources import service as catalog_service
from pbshare.core import dictionary
from pbshare.core.db import Database
from pbshare.core.dynamic import COLUMN_TYPES, ColumnSpec, TopicStore, safe_identifier
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T
from pbshare.core.lookup import matching, one_or_raise
from pbshare.security.audit import service as audit
from pbshare.security.crypto import pii
from pbshare.units.principal import Principal
from pbshare.warehouse.models import TableOrigin, TopicDB, WarehouseTable

BLIND_SUFFIX = "_bidx"


def topic_store(database: Database) -> TopicStore:
    return TopicStore(database.warehouse_engine, database.settings.resolved_data_dir)


# --------------------------------------------------------------------------- topics
def list_topics(db: Session, *, q: str | None = None) -> list[TopicDB]:
    stmt = select(TopicDB).order_by(TopicDB.name)
    if (match := matching(q, TopicDB.name, TopicDB.title)) is not None:
        stmt = stmt.where(match)
    return list(db.scalars(stmt))


def find_topic(db: Session, *, name: str) -> TopicDB | None:
    return db.scalar(select(TopicDB).where(TopicDB.name == name))


def get_topic(db: Session, *, name: str) -> TopicDB:
    return one_or_raise(db, select(TopicDB).where(TopicDB.name == name),
                        T("专题库 {t} 不存在，请先创建", "Topic database {t} does not exist; create it first", t=name),
                        code="topic_not_found")


def create_topic(db: Session, database: Database, *, name: str, title: str, description: str | None = None,
                 principal: Principal | None = None, exist_ok: bool = False) -> TopicDB:
    safe_identifier(name, what="topic")
    existing = find_topic(db, name=name)
    if existing is not None:
        if exist_ok:
            topic_store(database).create_topic(name)
            return existing
        raise Conflict(T("专题库 {t} 已存在", "Topic database {t} already exists", t=name), code="topic_exists")
    return register_topic(db, topic_store(database), name=name, title=title, description=description,
                          principal=principal)


def register_topic(db: Session, store: TopicStore, *, name: str, title: str, description: str | None = None,
                   principal: Principal | None = None) -> TopicDB:
    """Create the topic database on ``store`` and its registry row."""
    store.create_topic(name)
    topic = TopicDB(name=name, title=title, description=description,
                    created_by=principal.username if principal else None)
    db.add(topic)
    db.flush()
    audit.record(db, action="warehouse.topic.create", principal=principal, object_type="topic", object_id=name)
    return topic


def table_counts(db: Session) -> dict[str, int]:
    rows = db.execute(select(WarehouseTable.topic, func.count()).group_by(WarehouseTable.topic)).all()
    return {t: n for t, n in rows}


# --------------------------------------------------------------------------- tables
def list_tables(db: Session, *, topic: str | None = None, q: str | None = None) -> list[WarehouseTable]:
    stmt = select(WarehouseTable).order_by(WarehouseTable.topic, WarehouseTable.name)
    if topic:
        stmt = stmt.where(WarehouseTable.topic == topic)
    if (match := matching(q, WarehouseTable.name, WarehouseTable.title)) is not None:
        stmt = stmt.where(match)
    return list(db.scalars(stmt))


def find_table(db: Session, *, topic: str, name: str) -> WarehouseTable | None:
    return db.scalar(select(WarehouseTable).where(WarehouseTable.topic == topic, WarehouseTable.name == name))


def table_label(db: Session, *, topic: str, name: str) -> str:
    """What a person calls a topic table: its topic's and its own title ("案件专题库 · 社保缴费明细"), for pages
    that would otherwise show the internal ``topic.table`` name; a name not registered (yet) is shown as it is."""
    row = find_table(db, topic=topic, name=name)
    found = find_topic(db, name=topic)
    return f"{found.title if found else topic} · {row.title if row and row.title else name}"


def get_table(db: Session, *, topic: str, name: str) -> WarehouseTable:
    return one_or_raise(db, select(WarehouseTable).where(WarehouseTable.topic == topic, WarehouseTable.name == name),
                        T("表 {t}.{n} 不存在", "Table {t}.{n} does not exist", t=topic, n=name), code="table_not_found")


def physical_columns(fields: list[dict]) -> list[dict]:
    """Registry columns for fields: a pii field is stored sealed and gets a blind index column."""
    cols: list[dict] = []
    for f in fields:
        kind = f.get("type", "string")
        if kind not in COLUMN_TYPES:
            raise Invalid(T("不支持的字段类型：{t}", "Unsupported column type: {t}", t=kind), code="bad_column_type")
        if f.get("pii"):
            cols.append({"name": f["name"], "type": "text", "title": f.get("title"), "pii": True,
                         "id_kind": f.get("id_kind"), "value_type": kind})
            cols.append({"name": f["name"] + BLIND_SUFFIX, "type": "string", "length": 64,
                         "title": (f.get("title") or f["name"]) + "（检索索引）", "blind_index_of": f["name"]})
        else:
            cols.append({"name": f["name"], "type": kind, "length": f.get("length"), "title": f.get("title"),
                         "pii": False, "id_kind": f.get("id_kind")})
    return cols


def storage_key(columns: list[dict], key: list[str]) -> list[str]:
    """Key columns as stored: a sealed key column is matched through its blind index."""
    pii_cols = {c["name"] for c in columns if c.get("pii")}
    return [k + BLIND_SUFFIX if k in pii_cols else k for k in key]


@dataclass
class NewTable:
    """A table checked and defined but not created yet: its SQLAlchemy table (with the business key's index),
    the registry columns and the stored key. An import creates it inside the transaction that loads it."""

    topic: str
    name: str
    table: Table
    columns: list[dict]
    key: list[str]
    stored_key: list[str]


def plan_table(db: Session, database: Database, *, topic: str, name: str, fields: list[dict],
               key: list[str] | None = None) -> NewTable:
    """Check and define a new table (nothing is written). ``fields``: ``[{name, type, length, title, pii, id_kind}]``."""
    get_topic(db, name=topic)
    store = topic_store(database)
    if find_table(db, topic=topic, name=name) is not None or store.has_table(topic, name):
        raise Conflict(T("表 {t}.{n} 已存在", "Table {t}.{n} already exists", t=topic, n=name), code="table_exists")
    key = key or []
    names = {f["name"] for f in fields}
    missing = [k for k in key if k not in names]
    if missing:
        raise Invalid(T("业务主键字段不在字段列表中：{k}", "Business key columns are not among the fields: {k}",
                        k=", ".join(missing)), code="bad_key")
    columns = physical_columns(fields)
    specs = [ColumnSpec(c["name"], c["type"], c.get("length")) for c in columns]
    table = store.define_table(topic, name, specs)
    stored_key = storage_key(columns, key)
    if stored_key:
        Index(f"ix_{name}_key"[:63], *[table.c[k] for k in stored_key])
    return NewTable(topic=topic, name=name, table=table, columns=columns, key=key, stored_key=stored_key)


def register_table(db: Session, new: NewTable, *, title: str, origin: str = TableOrigin.manual.value,
                   origin_id: str | None = None, resource_code: str | None = None, row_count: int = 0,
                   principal: Principal | None = None) -> WarehouseTable:
    """The registry row (and its audit record) of a table just created from ``new``."""
    row = WarehouseTable(topic=new.topic, name=new.name, title=title, columns=new.columns, key=new.key, origin=origin,
                         origin_id=origin_id, resource_code=resource_code, row_count=row_count)
    db.add(row)
    db.flush()
    audit.record(db, action="warehouse.table.create", principal=principal, object_type="table",
                 object_id=f"{new.topic}.{new.name}", detail={"origin": origin})
    return row


def create_table(db: Session, database: Database, *, topic: str, name: str, title: str, fields: list[dict],
                 key: list[str] | None = None, origin: str = TableOrigin.manual.value, origin_id: str | None = None,
                 resource_code: str | None = None, principal: Principal | None = None) -> WarehouseTable:
    """Create the physical table and its registry row. ``fields``: ``[{name, type, length, title, pii, id_kind}]``."""
    new = plan_table(db, database, topic=topic, name=name, fields=fields, key=key)
    new.table.create(database.warehouse_engine)
    return register_table(db, new, title=title, origin=origin, origin_id=origin_id, resource_code=resource_code,
                          principal=principal)


def create_manual_table(db: Session, database: Database, *, topic: str, name: str, title: str, fields: list[dict],
                        key: list[str] | None = None, resource_code: str | None = None,
                        principal: Principal | None = None) -> WarehouseTable:
    """A table a person defines: from the fields given or, with ``resource_code``, one column per info item of
    that catalog resource (its business key too)."""
    if resource_code:
        fields, key = resource_fields(db, code=resource_code)
    if not fields:
        raise Invalid(T("请填写字段或选择目录资源", "Give fields or a catalog resource"), code="no_columns")
    return create_table(db, database, topic=topic, name=name, title=title, fields=fields, key=key,
                        origin=TableOrigin.manual.value, resource_code=resource_code, principal=principal)


def register_existing(db: Session, database: Database, *, topic: str, name: str, title: str | None = None,
                      origin: str, origin_id: str | None = None) -> WarehouseTable:
    """Register (or refresh the registry of) a table another step created, from its reflected columns."""
    table = topic_store(database).reflect_table(topic, name)
    columns = []
    for col in table.columns:
        kind = _kind_of(col.type)
        columns.append({"name": col.name, "type": kind, "title": col.name, "pii": False})
    row = find_table(db, topic=topic, name=name)
    if row is None:
        row = WarehouseTable(topic=topic, name=name, title=title or name, columns=columns, key=[], origin=origin,
                             origin_id=origin_id)
        db.add(row)
    else:
        row.columns, row.origin, row.origin_id = columns, origin, origin_id
        if title:
            row.title = title
    db.flush()
    return row


def _kind_of(sqltype) -> str:
    name = type(sqltype).__name__.lower()
    for word, kind in (("bigint", "bigint"), ("int", "integer"), ("numeric", "decimal"), ("decimal", "decimal"),
                       ("float", "float"), ("double", "float"), ("real", "float"), ("datetime", "datetime"),
                       ("timestamp", "datetime"), ("date", "date"), ("bool", "boolean"), ("text", "text")):
        if word in name:
            return kind
    return "string"


def drop_table(db: Session, database: Database, *, topic: str, name: str, principal: Principal | None = None) -> None:
    row = get_table(db, topic=topic, name=name)
    store = topic_store(database)
    if store.has_table(topic, name):
        store.drop_table(topic, name)
    db.delete(row)
    db.flush()
    audit.record(db, action="warehouse.table.drop", principal=principal, object_type="table",
                 object_id=f"{topic}.{name}")


def count_rows(database: Database, *, topic: str, name: str) -> int:
    table = topic_store(database).reflect_table(topic, name)
    with database.warehouse_engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def refresh_count(db: Session, database: Database, *, topic: str, name: str) -> int:
    """Count the table's rows again (a full scan: after a derived table is rebuilt, say)."""
    n = count_rows(database, topic=topic, name=name)
    row = find_table(db, topic=topic, name=name)
    if row is not None:
        row.row_count = n
    return n


def count_loaded(db: Session, database: Database, *, topic: str, name: str, inserted: int,
                 deleted: int | None, replaced: bool = False) -> int:
    """Move the registry's row count on by what a load did, without counting the table: a replace leaves
    ``inserted`` rows; otherwise the count gains ``inserted - deleted``. Counted only when the registry has no
    count yet or the load could not say what it removed."""
    row = find_table(db, topic=topic, name=name)
    if replaced:
        n = inserted
    elif row is not None and row.row_count is not None and deleted is not None:
        n = row.row_count + inserted - deleted
    else:
        n = count_rows(database, topic=topic, name=name)
    if row is not None:
        row.row_count = n
    return n


def drop_created(database: Database, *, topic: str, name: str) -> None:
    """Drop a table a failed run created before it was registered (nothing else knows it)."""
    store = topic_store(database)
    if store.has_table(topic, name):
        store.drop_table(topic, name)


def readable_tables(db: Session) -> set[str]:
    """``topic.table`` names a user with warehouse:read may query (datasets, transforms)."""
    return {f"{t.topic}.{t.name}" for t in list_tables(db)}


@dataclass(frozen=True)
class RowQuery:
    """What the table browser asks for: text anywhere, column filters (column -> text it contains), an order."""

    q: str | None = None
    filters: tuple[tuple[str, str], ...] = ()
    sort: str | None = None
    desc: bool = False


def _row_select(row: WarehouseTable, table: Table, shown: list[Column], query: RowQuery) -> Any:
    """``SELECT shown FROM table`` narrowed and ordered by ``query``. Sealed identifiers are stored encrypted,
    so they are neither searched, filtered nor sorted: naming one is refused with the reason."""
    sealed = {c["name"] for c in row.columns if c.get("pii")}
    plain = [c for c in shown if c.name not in sealed]
    by_name = {c.name: c for c in shown}
    titles = {c["name"]: c.get("title") or c["name"] for c in row.columns}

    def usable(name: str) -> Column:
        col = by_name.get(name)
        if col is None:
            raise Invalid(T("表中没有列“{c}”，请从列表中选择", "The table has no column “{c}”; pick one from the list", c=name),
                          code="no_such_column")
        if name in sealed:
            raise Invalid(T("“{c}”是加密保存的个人标识，不能筛选或排序；请按其他列查找",
                            "“{c}” is a sealed personal identifier and cannot be filtered or sorted; use another column",
                            c=titles.get(name, name)), code="sealed_column")
        return col

    stmt = select(*shown)
    if plain and (match := matching(query.q, *(cast(c, String) for c in plain))) is not None:
        stmt = stmt.where(match)
    for name, text in query.filters:
        col = usable(name)
        if (match := matching(text, cast(col, String))) is not None:
            stmt = stmt.where(match)
    if query.sort:
        col = usable(query.sort)
        stmt = stmt.order_by(col.desc() if query.desc else col.asc())
    return stmt


def _selection(db: Session, database: Database, *, topic: str, name: str,
               query: RowQuery | None) -> tuple[WarehouseTable, list[Column], Any]:
    """The table's registry row, the columns a person may see, and the select ``query`` makes of them: what the
    browser's page and its Excel export both read."""
    row = get_table(db, topic=topic, name=name)
    table = topic_store(database).reflect_table(topic, name)
    shown = visible_columns(row, table)
    return row, shown, _row_select(row, table, shown, query or RowQuery())


def table_rows(db: Session, database: Database, *, topic: str, name: str, page: int = 1, size: int = 50,
               principal: Principal | None = None, query: RowQuery | None = None) -> dict:
    """One page of a table, searched, filtered and sorted by ``query``; sealed identifiers opened and masked,
    blind indexes hidden."""
    row, shown, stmt = _selection(db, database, topic=topic, name=name, query=query)
    with database.warehouse_engine.connect() as conn:
        total = int(conn.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = conn.execute(stmt.limit(size).offset((page - 1) * size)).all()
    out = masked_rows(row, shown, rows, pii.vault_for(database.settings.resolved_data_dir))
    if any(c.get("pii") for c in row.columns):
        audit.record(db, action="warehouse.read", principal=principal, object_type="table",
                     object_id=f"{topic}.{name}", detail={"page": page, "masked": True})
    sealed = [c["name"] for c in row.columns if c.get("pii")]
    return {"columns": [{**c, "sealed": c["name"] in sealed} for c in column_titles(row, shown)], "rows": out,
            "total": total, "page": page, "size": size}


EXPORT_MAX_ROWS = 200_000


def export_rows(db: Session, database: Database, *, topic: str, name: str, principal: Principal | None = None,
                query: RowQuery | None = None) -> tuple[bytes, int]:
    """The rows ``query`` selects as an .xlsx (at most ``EXPORT_MAX_ROWS``), identifiers masked as on screen;
    the export is in the audit log with its row count."""
    from pbshare.security.exports import ExportColumn, masked_workbook

    row, shown, stmt = _selection(db, database, topic=topic, name=name, query=query)
    with database.warehouse_engine.connect() as conn:
        total = int(conn.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        if total > EXPORT_MAX_ROWS:
            raise Invalid(T("符合条件的有 {n} 行，超过导出上限 {m} 行；请先搜索或筛选缩小范围",
                            "{n} rows match, more than the export limit of {m}; narrow them with search or filters first",
                            n=total, m=EXPORT_MAX_ROWS), code="export_too_large")
        rows = conn.execute(stmt).all()
    out = masked_rows(row, shown, rows, pii.vault_for(database.settings.resolved_data_dir))
    columns = [ExportColumn(key=c["name"], title=c["title"]) for c in column_titles(row, shown)]
    return masked_workbook(db, principal=principal, sheet=row.title or name, columns=columns, rows=out,
                           object_type="table", action="warehouse.export")


def visible_columns(row: WarehouseTable, table: Table) -> list[Column]:
    """The table's columns a person may see: every one but the blind indexes."""
    hidden = {c["name"] for c in row.columns if c.get("blind_index_of")}
    return [c for c in table.columns if c.name not in hidden]


def masked_rows(row: WarehouseTable, shown: list[Column], rows: Sequence[Any], vault: pii.PiiVault) -> list[dict]:
    """Rows read as ``shown``, with each sealed identifier opened and masked."""
    pii_cols = {c["name"]: c.get("id_kind") or "" for c in row.columns if c.get("pii")}
    out = []
    for r in rows:
        item = {}
        for col, value in zip(shown, r, strict=True):
            if col.name in pii_cols and value is not None:
                try:
                    value = pii.mask(vault.open(value), pii_cols[col.name])
                except Exception:  # a value sealed under a retired key: shown as hidden, never in clear
                    value = "******"
            item[col.name] = value
        out.append(item)
    return out


def column_titles(row: WarehouseTable, shown: list[Column]) -> list[dict[str, str]]:
    """Each shown column's title and field type (the page formats money, numbers and times by the type)."""
    titles = {c["name"]: c.get("title") or c["name"] for c in row.columns}
    types = {c["name"]: c.get("type") or "string" for c in row.columns}
    return [{"name": c.name, "title": titles.get(c.name, c.name), "type": types.get(c.name, "string")} for c in shown]


def resource_fields(db: Session, *, code: str) -> tuple[list[dict], list[str]]:
    """The columns and business key of a table made for a catalog resource: one column per info item."""
    res = catalog_service.get_resource(db, code=code)
    fields = [{"name": safe_identifier(i.code.lower(), what="item"), "title": i.name,
               "type": "string" if i.type == "enum" else i.type, "length": i.length, "pii": bool(i.pii),
               "id_kind": i.id_kind, "values": list(i.values or [])} for i in res.items]
    return fields, [k.lower() for k in (res.key or [])]


def _audit_names(db: Session, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Tables an audit record points at ("topic.name") by their titles, linked to the topic-table browser."""
    out: dict[str, tuple[str, str | None]] = {}
    for oid in ids:
        topic, _, name = oid.partition(".")
        if name and find_table(db, topic=topic, name=name) is not None:
            out[oid] = (table_label(db, topic=topic, name=name), "/warehouse")
    return out


audit.register_namer("table", _audit_names)


def dictionary_hits(db: Session, q: str, kind: str | None, limit: int) -> list[dict[str, Any]]:
    """Topic tables and their columns whose name or title holds ``q``, as data-dictionary hits (core.dictionary)."""
    if kind not in (None, "table", "column"):
        return []
    needle = q.lower()
    hits: list[dict[str, Any]] = []
    for row in list_tables(db):
        where = f"topic:{row.topic}.{row.name}"
        if kind in (None, "table") and (needle in row.name.lower() or needle in (row.title or "").lower()):
            hits.append({"kind": "table", "id": row.id, "name": row.name, "qualified_name": where,
                         "comment": row.title, "data_type": None, "row_count": row.row_count})
        if kind in (None, "column"):
            for c in row.columns or []:
                name, title = str(c.get("name", "")), str(c.get("title") or "")
                if needle in name.lower() or needle in title.lower():
                    hits.append({"kind": "column", "id": None, "name": name, "qualified_name": f"{where}.{name}",
                                 "comment": f"{title or name}（{row.title}）", "data_type": c.get("type"),
                                 "row_count": None})
        if len(hits) >= limit:
            break
    return hits[:limit]


dictionary.register("warehouse", dictionary_hits)
