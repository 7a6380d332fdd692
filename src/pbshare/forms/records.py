"""Records of a published model: create, edit, soft delete and restore, history, and a list with filters on
every field (=, !=, >, >=, <, <=, between, contains, starts with, in, is empty), sort, paging and columns.

Personal fields are sealed with a blind index; they are masked on every read unless a person with
``pii:unmask`` gives a purpose, and every read of a model holding personal fields is audited.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import String, Table, and_, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pbshare.core.clock import utcnow
from pbshare.core.db import Database
from pbshare.core.errors import Conflict, Forbidden, Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.core.ids import new_id
from pbshare.forms import attachments, service, store
from pbshare.forms import fields as ftypes
from pbshare.forms.models import DataModel, RecordChange
from pbshare.security.audit import service as audit
from pbshare.security.crypto import pii
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal


def _has_personal(fields: list[dict]) -> bool:
    return any(ftypes.is_personal(f) for f in fields)


def check_unmask(principal: Principal, unmask: bool, purpose: str | None) -> None:
    if not unmask:
        return
    if not principal.has(Perm.pii_unmask):
        raise Forbidden(T("您无权查看完整的个人信息", "You may not see personal values in full"), code="forms_no_unmask")
    if not purpose or len(purpose.strip()) < 4:
        raise Invalid(T("查看完整个人信息须说明用途（至少 4 个字）", "Say why you need personal values in full "
                        "(at least 4 characters)"), code="forms_purpose_needed")


# --------------------------------------------------------------------------- values in
def prepare(db: Session, database: Database, *, model: DataModel, fields: list[dict], values: dict[str, Any],
            current: dict[str, Any] | None, record_id: str | None, line: int | None = None,
            check_stored: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """Convert and check the values given (``current``: the record's plain values on an edit). Returns the
    converted values of the fields given and the whole record after the change (as the API shows it); raises
    ``Invalid`` listing every field that is wrong. ``check_stored=False`` leaves the checks against stored
    records (unique, references, attachments) to ``check_batch``, as an import does for all its rows at once."""
    by_name = {f["name"]: f for f in fields}
    unknown = [k for k in values if k not in by_name]
    if unknown:
        raise Invalid(T("没有这些字段：{f}", "No such fields: {f}", f=", ".join(unknown)[:200]),
                      code="forms_unknown_field")
    errors: list[dict[str, Any]] = []
    converted: dict[str, Any] = {}
    for name, raw in values.items():
        f = by_name[name]
        try:
            v = ftypes.convert(f, raw)
            ftypes.check_settings(f, v)
            converted[name] = v
        except Invalid as exc:
            errors.append({"field": name, "message": exc.message.render("zh"), "message_en": exc.message.render("en")})
    if current is None:
        for f in fields:
            if f["name"] not in values and f.get("default") not in (None, ""):
                converted[f["name"]] = ftypes.convert(f, f["default"])
    merged = {f["name"]: ftypes.to_json(f, (current or {}).get(f["name"])) for f in fields}
    merged.update({k: ftypes.to_json(by_name[k], v) for k, v in converted.items()})
    for f in fields:
        if ftypes.required(f, merged) and merged.get(f["name"]) in (None, "", []) \
                and not any(e["field"] == f["name"] for e in errors):
            errors.append({"field": f["name"], "message": f"“{f['label']}”必填", "message_en": f"'{f['label']}' is required"})
    if not errors and check_stored:
        errors = _unique_and_refs(db, database, model, fields, converted, record_id)
    if errors:
        first = errors[0]
        where = T("第 {line} 行：", "Line {line}: ", line=line) if line else None
        raise Invalid(T((where.zh if where else "") + "{m}（共 {n} 处问题）", (where.en if where else "") +
                        "{e} ({n} problems in all)", m=first["message"], e=first["message_en"], n=len(errors)),
                      code="forms_bad_record", detail={"errors": errors})
    return converted, merged


def _unique_and_refs(db: Session, database: Database, model: DataModel, fields: list[dict],
                     converted: dict[str, Any], record_id: str | None) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    table = store.table(db, database, model)
    vault = store.vault(database)
    with store.reading(db, database) as conn:
        for f in fields:
            v = converted.get(f["name"])
            if v is None:
                continue
            if f.get("unique"):
                col, value = _match(table, f, v, vault)
                stmt = select(func.count()).select_from(table).where(col == value, table.c.rec_deleted.is_(False))
                if record_id:
                    stmt = stmt.where(table.c.rec_id != record_id)
                if conn.scalar(stmt):
                    errors.append({"field": f["name"], "message": f"“{f['label']}”与已有记录重复，须唯一",
                                   "message_en": f"'{f['label']}' repeats an existing record's; it must be unique"})
    data_dir = database.settings.resolved_data_dir
    for f in fields:
        v = converted.get(f["name"])
        if f["type"] == "attachment" and v is not None and not attachments.exists(data_dir, json.loads(v)["id"]):
            errors.append({"field": f["name"], "message": f"“{f['label']}”的附件不存在，请重新上传",
                           "message_en": f"'{f['label']}': the attachment does not exist; upload it again"})
        if f["type"] == "reference" and v is not None:
            target = service.get_model(db, code=f["ref_model"])
            ref_table = store.table(db, database, target)
            with store.reading(db, database) as conn:
                if not conn.scalar(select(func.count()).select_from(ref_table).where(ref_table.c.rec_id == v)):
                    errors.append({"field": f["name"], "message": f"“{f['label']}”关联的记录不存在，请重新选择",
                                   "message_en": f"'{f['label']}' refers to a record that does not exist; pick again"})
    return errors


def check_batch(db: Session, database: Database, *, model: DataModel, fields: list[dict],
                rows: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The checks against stored records for many new rows (``(line, converted)``) in a few queries: unique
    values already taken, references to records that do not exist, attachments not uploaded."""
    errors: list[dict[str, Any]] = []
    table = store.table(db, database, model)
    vault = store.vault(database)
    data_dir = database.settings.resolved_data_dir
    for f in fields:
        present = [(line, row[f["name"]]) for line, row in rows if row.get(f["name"]) is not None]
        if not present:
            continue
        if f.get("unique"):
            keyed = [(line, _match(table, f, v, vault)) for line, v in present]
            col = keyed[0][1][0]
            values = list({k[1] for _, k in keyed})
            taken: set[Any] = set()
            with store.reading(db, database) as conn:
                for i in range(0, len(values), 500):
                    taken.update(conn.scalars(select(col).where(col.in_(values[i:i + 500]),
                                                                table.c.rec_deleted.is_(False))))
            errors += [{"line": line, "field": f["name"], "message": f"“{f['label']}”与已有记录重复，须唯一",
                        "message_en": f"'{f['label']}' repeats an existing record's; it must be unique"}
                       for line, (_, v) in keyed if v in taken]
        if f["type"] == "reference":
            target = service.get_model(db, code=f["ref_model"])
            ref_table = store.table(db, database, target)
            ids = list({v for _, v in present})
            found: set[Any] = set()
            with store.reading(db, database) as conn:
                for i in range(0, len(ids), 500):
                    found.update(conn.scalars(select(ref_table.c.rec_id).where(ref_table.c.rec_id.in_(ids[i:i + 500]))))
            errors += [{"line": line, "field": f["name"], "message": f"“{f['label']}”关联的记录不存在",
                        "message_en": f"'{f['label']}' refers to a record that does not exist"}
                       for line, v in present if v not in found]
        if f["type"] == "attachment":
            errors += [{"line": line, "field": f["name"], "message": f"“{f['label']}”的附件不存在，请先上传",
                        "message_en": f"'{f['label']}': the attachment does not exist; upload it first"}
                       for line, v in present if not attachments.exists(data_dir, json.loads(v)["id"])]
    return errors


def _match(table: Table, f: dict, value: Any, vault: pii.PiiVault) -> tuple[Any, Any]:
    """The column and value to compare for equality (the blind index for a personal field)."""
    if ftypes.is_personal(f):
        return table.c[f["column"] + store.BIDX], vault.blind_index(str(ftypes.to_json(f, value)), kind=ftypes.mask_kind(f))
    return table.c[f["column"]], value


# --------------------------------------------------------------------------- write
def _history(db: Session, model: DataModel, record_id: str, action: str, principal: Principal | None,
             changes: dict[str, list[Any]], vault: pii.PiiVault) -> None:
    sealed = vault.seal(json.dumps(changes, ensure_ascii=False, default=str)) if changes else None
    db.add(RecordChange(model_id=model.id, record_id=record_id, action=action,
                        changed_by=principal.username if principal else None, changes_sealed=sealed))


def create(db: Session, database: Database, *, model: DataModel, values: dict[str, Any],
           principal: Principal) -> dict[str, Any]:
    service.check_may(principal, model, "enter")
    fields = service.published_fields(db, model)
    converted, _ = prepare(db, database, model=model, fields=fields, values=values, current=None, record_id=None)
    rec_id = insert_many(db, database, model=model, fields=fields, rows=[converted], principal=principal,
                         action="create")[0]
    return get(db, database, model=model, record_id=rec_id, principal=principal, audit_read=False)


def insert_many(db: Session, database: Database, *, model: DataModel, fields: list[dict], rows: list[dict],
                principal: Principal, action: str) -> list[str]:
    """Insert checked rows in one statement (one transaction): all or none."""
    vault = store.vault(database)
    table = store.table(db, database, model)
    now = utcnow()
    params, ids = [], []
    for converted in rows:
        rec_id = new_id()
        row: dict[str, Any] = {"rec_id": rec_id, "rec_deleted": False, "rec_created_at": now,
                               "rec_created_by": principal.username, "rec_updated_at": now,
                               "rec_updated_by": principal.username}
        for f in fields:
            row.update(store.encode(f, converted.get(f["name"]), vault))
        params.append(row)
        ids.append(rec_id)
        changes = {f["name"]: [None, _shown(f, converted[f["name"]])] for f in fields
                   if converted.get(f["name"]) is not None}
        _history(db, model, rec_id, action, principal, changes, vault)
    if params:
        with store.connect(db, database) as conn:
            conn.execute(table.insert(), params)
    audit.record(db, action=f"forms.record.{action}", principal=principal, object_type="form_model",
                 object_id=model.code, detail={"records": len(ids)})
    return ids


def _shown(f: dict, value: Any) -> Any:
    """A value for the history (stored sealed; masked again when read)."""
    return ftypes.display(f, value) if value is not None else None


def _load(db: Session, database: Database, model: DataModel, record_id: str) -> dict[str, Any]:
    table = store.table(db, database, model)
    with store.reading(db, database) as conn:
        row = conn.execute(select(table).where(table.c.rec_id == record_id)).mappings().first()
    if row is None:
        raise NotFound(T("记录不存在，可能已被清除", "The record does not exist; it may have been purged"),
                       code="forms_record_not_found")
    return dict(row)


def update_record(db: Session, database: Database, *, model: DataModel, record_id: str, values: dict[str, Any],
                  principal: Principal) -> dict[str, Any]:
    """Change the fields given (others stay). A personal field sent back masked, as it was read, is unchanged."""
    service.check_may(principal, model, "edit")
    fields = service.published_fields(db, model)
    vault = store.vault(database)
    row = _load(db, database, model, record_id)
    if row["rec_deleted"]:
        raise Conflict(T("记录已删除：请先恢复再修改", "The record is deleted: restore it before editing"),
                       code="forms_record_deleted")
    by_name = {f["name"]: f for f in fields}
    current = {f["name"]: store.plain(f, row.get(f["column"]), vault) for f in fields}
    given = {}
    for k, v in values.items():
        f = by_name.get(k)
        if f is not None and ftypes.is_personal(f) and current.get(k) is not None and \
                v == pii.mask(str(current[k]), ftypes.mask_kind(f)):
            continue
        given[k] = v
    conv_current = {}
    for f in fields:
        try:
            conv_current[f["name"]] = ftypes.convert(f, ftypes.to_json(f, current[f["name"]])) if ftypes.is_personal(f) \
                else current[f["name"]]
        except Invalid:
            conv_current[f["name"]] = current[f["name"]]
    converted, _ = prepare(db, database, model=model, fields=fields, values=given, current=conv_current,
                           record_id=record_id)
    changes = {}
    new_cols: dict[str, Any] = {}
    for name, v in converted.items():
        f = by_name[name]
        old = conv_current.get(name)
        if _shown(f, old) != _shown(f, v):
            changes[name] = [_shown(f, old), _shown(f, v)]
            new_cols.update(store.encode(f, v, vault))
    if changes:
        table = store.table(db, database, model)
        new_cols.update({"rec_updated_at": utcnow(), "rec_updated_by": principal.username})
        with store.connect(db, database) as conn:
            conn.execute(table.update().where(table.c.rec_id == record_id).values(new_cols))
        _history(db, model, record_id, "update", principal, changes, vault)
        audit.record(db, action="forms.record.update", principal=principal, object_type="form_model",
                     object_id=model.code, detail={"record": record_id, "fields": sorted(changes)})
    return get(db, database, model=model, record_id=record_id, principal=principal, audit_read=False)


def set_deleted(db: Session, database: Database, *, model: DataModel, record_id: str, deleted: bool,
                principal: Principal) -> dict[str, Any]:
    service.check_may(principal, model, "edit")
    service.published_fields(db, model)
    row = _load(db, database, model, record_id)
    if bool(row["rec_deleted"]) == deleted:
        raise Conflict(T("记录已经是删除状态", "The record is already deleted") if deleted else
                       T("记录没有被删除，无需恢复", "The record is not deleted; nothing to restore"),
                       code="forms_record_state")
    table = store.table(db, database, model)
    with store.connect(db, database) as conn:
        conn.execute(table.update().where(table.c.rec_id == record_id).values(
            rec_deleted=deleted, rec_updated_at=utcnow(), rec_updated_by=principal.username))
    action = "delete" if deleted else "restore"
    _history(db, model, record_id, action, principal, {}, store.vault(database))
    audit.record(db, action=f"forms.record.{action}", principal=principal, object_type="form_model",
                 object_id=model.code, detail={"record": record_id})
    return get(db, database, model=model, record_id=record_id, principal=principal, audit_read=False)


# --------------------------------------------------------------------------- read
def _out(fields: list[dict], row: dict[str, Any], vault: pii.PiiVault, *, unmask: bool,
         columns: list[str] | None = None) -> dict[str, Any]:
    shown = [f for f in fields if columns is None or f["name"] in columns]
    return {"id": row["rec_id"], "deleted": bool(row["rec_deleted"]),
            "values": {f["name"]: store.decode(f, row.get(f["column"]), vault, unmask=unmask) for f in shown},
            "created_at": row["rec_created_at"], "created_by": row["rec_created_by"],
            "updated_at": row["rec_updated_at"], "updated_by": row["rec_updated_by"]}


def get(db: Session, database: Database, *, model: DataModel, record_id: str, principal: Principal,
        unmask: bool = False, purpose: str | None = None, ip: str | None = None,
        audit_read: bool = True) -> dict[str, Any]:
    service.check_may(principal, model, "read")
    check_unmask(principal, unmask, purpose)
    fields = service.published_fields(db, model)
    row = _load(db, database, model, record_id)
    if audit_read and _has_personal(fields):
        audit.record(db, action="forms.record.read", principal=principal, object_type="form_model",
                     object_id=model.code, detail={"record": record_id, "masked": not unmask}, purpose=purpose,
                     ip=ip)
    return _out(fields, row, store.vault(database), unmask=unmask)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _condition(table: Table, f: dict, op: str, value: Any, vault: pii.PiiVault) -> ColumnElement[bool]:
    if op not in ftypes.OPERATORS:
        raise Invalid(T("筛选方式“{o}”不支持，可选：{all}", "The filter operator '{o}' is not supported; use one of {all}",
                        o=str(op)[:20], all=", ".join(ftypes.OPERATORS)), code="forms_bad_filter")
    col = table.c[f["column"]]
    if op == "empty":
        return or_(col.is_(None), cast(col, String) == "") if ftypes.storage_type(f) == "text" else col.is_(None)
    if op == "not_empty":
        return and_(col.is_not(None), cast(col, String) != "") if ftypes.storage_type(f) == "text" else col.is_not(None)
    if ftypes.is_personal(f):
        if op not in ("eq", "ne", "in"):
            raise Invalid(T("“{f}”是个人信息，只能按“等于”“不等于”“属于”或“为空”筛选", "'{f}' is personal: filter it "
                            "with =, !=, in or is empty only", f=f["label"]), code="forms_bad_filter")
        items = value if op == "in" else [value]
        idx = table.c[f["column"] + store.BIDX]
        keys = [vault.blind_index(str(ftypes.to_json(f, ftypes.convert(f, v))), kind=ftypes.mask_kind(f)) for v in items]
        return or_(idx.is_(None), idx != keys[0]) if op == "ne" else idx.in_(keys)
    if op in ("contains", "starts"):
        text = str(value)
        if f["type"] == "multiselect" and op == "contains":
            option = json.loads(ftypes.convert(f, text))[0]
            pattern = "%" + _like_escape(json.dumps(option, ensure_ascii=False)) + "%"
        else:
            pattern = ("%" if op == "contains" else "") + _like_escape(text) + "%"
        return cast(col, String).like(pattern, escape="\\")
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise Invalid(T("“介于”需要两个值：[起, 止]", "'between' needs two values: [from, to]"),
                          code="forms_bad_filter")
        return and_(col >= ftypes.convert(f, value[0]), col <= ftypes.convert(f, value[1]))
    if op == "in":
        items = value if isinstance(value, list) else [v for v in str(value).split(",") if v.strip()]
        return col.in_([ftypes.convert(f, v) for v in items])
    v = ftypes.convert(f, value)
    if f["type"] == "multiselect" and op in ("eq", "ne"):
        return col == v if op == "eq" else or_(col.is_(None), col != v)
    return {"eq": lambda: col == v, "ne": lambda: or_(col.is_(None), col != v), "gt": lambda: col > v,
            "ge": lambda: col >= v, "lt": lambda: col < v, "le": lambda: col <= v}[op]()


def _quick_search(table: Table, fields: list[dict], q: str, vault: pii.PiiVault) -> ColumnElement[bool]:
    searchable = [f for f in fields if f.get("searchable")] or \
        [f for f in fields if f["type"] in ("text", "long_text") and not ftypes.is_personal(f)]
    parts: list[ColumnElement[bool]] = []
    for f in searchable:
        if ftypes.is_personal(f):
            parts.append(table.c[f["column"] + store.BIDX] == vault.blind_index(q, kind=ftypes.mask_kind(f)))
        else:
            parts.append(cast(table.c[f["column"]], String).like("%" + _like_escape(q) + "%", escape="\\"))
    if not parts:
        raise Invalid(T("这个模型没有可搜索的字段：请在设计器中勾选“可搜索”，或使用筛选", "This model has no searchable "
                        "field: tick 'Searchable' in the designer, or use filters"), code="forms_nothing_searchable")
    return or_(*parts)


def _label_field(fields: list[dict]) -> dict | None:
    """The field that names a record in pickers: the first plain text or select field."""
    return next((f for f in fields if f["type"] in ("text", "select") and not ftypes.is_personal(f)), None)


def _reference_labels(db: Session, database: Database, fields: list[dict],
                      items: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """For each reference field on the page: record id → the referred record's label."""
    out: dict[str, dict[str, str]] = {}
    for f in fields:
        if f["type"] != "reference" or not f.get("ref_model"):
            continue
        ids = {i["values"].get(f["name"]) for i in items} - {None}
        if not ids:
            continue
        target = service.get_model(db, code=f["ref_model"])
        label = _label_field(service.published_fields(db, target))
        table = store.table(db, database, target)
        with store.reading(db, database) as conn:
            rows = conn.execute(select(table.c.rec_id, table.c[label["column"]] if label else table.c.rec_id)
                                .where(table.c.rec_id.in_(ids))).all()
        out[f["name"]] = {r[0]: str(r[1]) for r in rows}
    return out


def list_records(db: Session, database: Database, *, model: DataModel, principal: Principal,
                 filters: list[dict] | None = None, sort: str | None = None, page: int = 1, size: int = 20,
                 columns: list[str] | None = None, deleted: bool = False, unmask: bool = False,
                 purpose: str | None = None, ip: str | None = None, q: str | None = None) -> dict[str, Any]:
    """``q`` searches the searchable fields: contained in a plain one, the whole value of a personal one."""
    service.check_may(principal, model, "read")
    check_unmask(principal, unmask, purpose)
    fields = service.published_fields(db, model)
    by_name = {f["name"]: f for f in fields}
    table = store.table(db, database, model)
    vault = store.vault(database)
    where: list[ColumnElement[bool]] = [table.c.rec_deleted.is_(deleted)]
    for flt in filters or []:
        f = by_name.get(str(flt.get("field")))
        if f is None:
            raise Invalid(T("筛选的字段“{f}”不存在", "The filter names a field '{f}' that does not exist",
                            f=str(flt.get("field"))[:63]), code="forms_bad_filter")
        try:
            where.append(_condition(table, f, str(flt.get("op") or "eq"), flt.get("value"), vault))
        except Invalid as exc:
            if exc.code == "forms_bad_filter":
                raise
            raise Invalid(T("筛选条件“{f}”的值有误：{m}", "The filter on '{f}' has a wrong value: {m}", f=f["label"],
                            m=exc.message.render("zh")), code="forms_bad_filter") from exc
    if q and q.strip():
        where.append(_quick_search(table, fields, q.strip(), vault))
    order: list[Any] = []
    if sort:
        name = sort.lstrip("-")
        if name in ("created_at", "updated_at"):
            col = table.c[f"rec_{name}"]
        elif name in by_name and not ftypes.is_personal(by_name[name]):
            col = table.c[by_name[name]["column"]]
        else:
            raise Invalid(T("不能按“{f}”排序：字段不存在或是个人信息", "Cannot sort by '{f}': no such field, or it is "
                            "personal", f=name[:63]), code="forms_bad_sort")
        order.append(col.desc() if sort.startswith("-") else col.asc())
    order.append(table.c.rec_created_at.desc())
    order.append(table.c.rec_id)
    if columns:
        bad = [c for c in columns if c not in by_name]
        if bad:
            raise Invalid(T("没有这些列：{c}", "No such columns: {c}", c=", ".join(bad)[:200]), code="forms_bad_columns")
    with store.reading(db, database) as conn:
        total = int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)
        rows = conn.execute(select(table).where(*where).order_by(*order).limit(size)
                            .offset((page - 1) * size)).mappings().all()
    items = [_out(fields, dict(r), vault, unmask=unmask, columns=columns) for r in rows]
    refs = _reference_labels(db, database, fields, items)
    if _has_personal(fields) and items:
        audit.record(db, action="forms.record.list", principal=principal, object_type="form_model",
                     object_id=model.code, detail={"records": len(items), "masked": not unmask,
                                                   "filters": [str(x.get("field")) for x in filters or []]},
                     purpose=purpose, ip=ip)
    return {"items": items, "total": total, "page": page, "size": size, "masked": not unmask, "refs": refs}


def history(db: Session, database: Database, *, model: DataModel, record_id: str, principal: Principal,
            unmask: bool = False, purpose: str | None = None) -> list[dict[str, Any]]:
    """Who changed the record, when, and each field's old → new (personal values masked unless shown in full)."""
    service.check_may(principal, model, "read")
    check_unmask(principal, unmask, purpose)
    service.published_fields(db, model)
    _load(db, database, model, record_id)
    version = service.current_version(db, model)
    by_name = {f["name"]: f for f in (version.fields if version else [])}
    vault = store.vault(database)
    out = []
    for ch in db.scalars(select(RecordChange).where(RecordChange.model_id == model.id,
                                                    RecordChange.record_id == record_id).order_by(RecordChange.id)):
        changes = json.loads(vault.open(ch.changes_sealed)) if ch.changes_sealed else {}
        shown = {}
        for name, (old, new) in changes.items():
            f = by_name.get(name, {"type": "text", "label": name})
            if ftypes.is_personal(f) and not unmask:
                old, new = pii.mask(old, ftypes.mask_kind(f)), pii.mask(new, ftypes.mask_kind(f))
            shown[name] = {"label": f.get("label", name), "old": old, "new": new}
        out.append({"action": ch.action, "by": ch.changed_by, "at": ch.changed_at, "changes": shown})
    if any(ftypes.is_personal(f) for f in by_name.values()):
        audit.record(db, action="forms.record.history", principal=principal, object_type="form_model",
                     object_id=model.code, detail={"record": record_id, "masked": not unmask}, purpose=purpose)
    return out


def choices(db: Session, database: Database, *, model: DataModel, principal: Principal, q: str | None = None,
            limit: int = 20) -> list[dict[str, str]]:
    """Records to pick for a reference field: id and a label (the first text field that is not personal)."""
    service.check_may(principal, model, "read")
    fields = service.published_fields(db, model)
    label_field = _label_field(fields)
    table = store.table(db, database, model)
    stmt = select(table).where(table.c.rec_deleted.is_(False)).order_by(table.c.rec_created_at.desc()).limit(limit)
    if q and label_field:
        stmt = stmt.where(cast(table.c[label_field["column"]], String).like("%" + _like_escape(q) + "%", escape="\\"))
    with store.reading(db, database) as conn:
        rows = conn.execute(stmt).mappings().all()
    return [{"id": r["rec_id"], "label": str(r[label_field["column"]]) if label_field else r["rec_id"][:8]}
            for r in rows]
