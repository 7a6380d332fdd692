"""Data models (数据模型): design a draft, publish it as a version (its table follows), compare versions,
and who may read, enter, edit and export a model's records.

Each model is a real table ``forms.f_<code>`` in the warehouse; publishing a draft changes that table only in
safe ways (``forms.migrate``): new fields add columns, renames change labels, a removed field keeps its column
until a person purges it, a type change goes through ``migrate.change_type`` after every value is checked.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbshare.catalog.resources import service as catalog
from pbshare.core.db import Database
from pbshare.core.dynamic import safe_identifier
from pbshare.core.errors import Conflict, Forbidden, Invalid
from pbshare.core.i18n import T
from pbshare.core.lookup import one_or_raise
from pbshare.forms import fields as ftypes
from pbshare.forms import migrate, store
from pbshare.forms.models import DataModel, ModelVersion
from pbshare.security.audit import service as audit
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse

TOPIC = "forms"
ACTIONS = ("read", "enter", "edit", "export")
DEFAULT_ACCESS = {a: ["data_admin", "case_handler"] for a in ACTIONS}
# Properties whose change a version diff shows (the physical column is the system's business).
DIFF_PROPS = ("label", "type", "required", "unique", "default", "help", "placeholder", "pii", "searchable",
              "options", "min", "max", "min_length", "max_length", "regex", "ref_model", "sub_fields", "span",
              "visible_when", "required_when", "deleted")


# --------------------------------------------------------------------------- lookups
def list_models(db: Session, *, principal: Principal) -> list[DataModel]:
    rows = list(db.scalars(select(DataModel).order_by(DataModel.title)))
    return [m for m in rows if may(principal, m, "read")]


def get_model(db: Session, *, code: str) -> DataModel:
    return one_or_raise(db, select(DataModel).where(DataModel.code == code),
                        T("数据模型 {c} 不存在，请从模型列表中选择", "Data model {c} does not exist; pick one from the list",
                          c=code[:60]), code="forms_model_not_found")


def may(principal: Principal, model: DataModel, action: str) -> bool:
    if principal.has(Perm.forms_design):
        return True
    if action in ("enter", "edit") and not principal.has(Perm.forms_enter):
        return False
    allowed = set((model.access or DEFAULT_ACCESS).get(action, []))
    return bool(allowed & set(principal.roles))


def check_may(principal: Principal, model: DataModel, action: str) -> None:
    if not may(principal, model, action):
        words = {"read": ("查看", "read"), "enter": ("录入", "enter"), "edit": ("修改", "edit"),
                 "export": ("导出", "export")}[action]
        raise Forbidden(T("您无权" + words[0] + "“{m}”的记录；请联系数据管理员在模型的权限中加入您的角色",
                          "You may not " + words[1] + " records of '{m}'; ask a data administrator to add your role "
                          "to the model's permissions", m=model.title), code="forms_forbidden")


def published_fields(db: Session, model: DataModel) -> list[dict]:
    """The live fields of the published version (deleted ones left out); a model never published has none."""
    version = current_version(db, model)
    if version is None:
        raise Conflict(T("模型“{m}”还没有发布：请先在设计器中发布", "The model '{m}' is not published yet; publish it in "
                         "the designer first", m=model.title), code="forms_not_published")
    return [f for f in version.fields if not f.get("deleted")]


def current_version(db: Session, model: DataModel) -> ModelVersion | None:
    if not model.published_version:
        return None
    return db.scalar(select(ModelVersion).where(ModelVersion.model_id == model.id,
                                                ModelVersion.version == model.published_version))


def list_versions(db: Session, *, model: DataModel) -> list[ModelVersion]:
    return list(db.scalars(select(ModelVersion).where(ModelVersion.model_id == model.id)
                           .order_by(ModelVersion.version.desc())))


# --------------------------------------------------------------------------- design
def normal_layout(layout: dict | None, fields: list[dict]) -> dict:
    """``{columns: 1–4, tabs: bool, sections: [{id, title, fields: [names]}]}``; fields no section holds go to the
    last section, names of fields that do not exist are dropped."""
    layout = copy.deepcopy(layout or {})
    if not isinstance(layout, dict) or not isinstance(layout.get("sections") or [], list) or \
            not all(isinstance(s, dict) and isinstance(s.get("fields") or [], list) for s in layout.get("sections") or []):
        raise Invalid(T("布局格式不对：{columns, tabs, sections: [{id, title, fields}]}", "The layout is not valid: "
                        "{columns, tabs, sections: [{id, title, fields}]}"), code="forms_bad_layout")
    columns = layout.get("columns", 2)
    if not isinstance(columns, int) or not 1 <= columns <= 4:
        raise Invalid(T("每行列数须为 1–4", "Columns per row must be 1 to 4"), code="forms_bad_layout")
    sections = layout.get("sections") or [{"id": "s1", "title": "基本信息", "fields": []}]
    names = [f["name"] for f in fields if not f.get("deleted")]
    placed: set[str] = set()
    out_sections: list[dict[str, Any]] = []
    kept_lists: list[list[str]] = []
    for i, s in enumerate(sections):
        kept = [n for n in s.get("fields") or [] if n in names and n not in placed]
        placed.update(kept)
        kept_lists.append(kept)
        out_sections.append({"id": str(s.get("id") or f"s{i + 1}"), "title": str(s.get("title") or ""),
                             "fields": kept})
    kept_lists[-1].extend(n for n in names if n not in placed)
    return {"columns": columns, "tabs": bool(layout.get("tabs")), "sections": out_sections}


def code_tables(db: Session, fields: list[dict]) -> list[dict]:
    """Options of select fields that name a code table (``code_table``: ``RESOURCE.ITEM``, an enum info item of
    the catalog) are taken from that item's allowed values when the draft is saved."""
    out = []
    for raw in fields:
        f = dict(raw)
        ref = f.get("code_table")
        if ref and f.get("type") in ("select", "multiselect"):
            res_code, _, item_code = str(ref).partition(".")
            spec = catalog.get_resource(db, code=res_code)
            item = next((i for i in spec.items if i.code.lower() == item_code.lower()), None)
            if item is None or not item.values:
                raise Invalid(T("代码表“{r}”不存在或没有取值：请写成 资源代码.信息项代码，且信息项须是枚举",
                                "The code table '{r}' does not exist or has no values: write RESOURCE.ITEM, naming an "
                                "enum info item", r=str(ref)[:80]), code="forms_bad_code_table")
            f["options"] = [{"value": v, "label": v} for v in item.values]
        out.append(f)
    return out


def _model_codes(db: Session) -> set[str]:
    return set(db.scalars(select(DataModel.code)))


def create_model(db: Session, *, code: str, title: str, description: str | None = None,
                 fields: list[dict] | None = None, layout: dict | None = None, access: dict | None = None,
                 principal: Principal) -> DataModel:
    safe_identifier(code, what="code")
    if len(code) > 40:
        raise Invalid(T("模型代码最长 40 个字符", "A model code takes at most 40 characters"), code="forms_bad_code")
    if db.scalar(select(DataModel).where(DataModel.code == code)) is not None:
        raise Conflict(T("模型代码 {c} 已被使用，请换一个", "The model code {c} is taken; choose another", c=code),
                       code="forms_model_exists")
    checked = ftypes.check_definition(code_tables(db, fields or []), models=_model_codes(db) | {code})
    model = DataModel(code=code, title=title.strip() or code, description=description, topic=TOPIC,
                      table_name=f"f_{code}", fields=checked, layout=normal_layout(layout, checked),
                      access=_access(access), created_by=principal.username)
    db.add(model)
    db.flush()
    audit.record(db, action="forms.model.create", principal=principal, object_type="form_model", object_id=code)
    return model


def _access(access: dict | None) -> dict:
    out = copy.deepcopy(DEFAULT_ACCESS)
    for action, roles in (access or {}).items():
        if action not in ACTIONS or not isinstance(roles, list):
            raise Invalid(T("权限项只能是 read、enter、edit、export", "Permissions are read, enter, edit and export"),
                          code="forms_bad_access")
        out[action] = [str(r) for r in roles]
    return out


def save_draft(db: Session, *, model: DataModel, title: str | None = None, description: str | None = None,
               fields: list[dict], layout: dict | None = None, access: dict | None = None,
               principal: Principal) -> DataModel:
    """Replace the draft. A published field left out is kept as deleted (its data stays until purged); a
    published field keeps its column and, here, its type (``change_type`` changes it safely)."""
    published = {f["name"]: f for f in (current_version(db, model).fields if model.published_version else [])}  # type: ignore[union-attr]
    incoming = []
    for raw in fields:
        f = dict(raw)
        old = published.get(str(f.get("name")))
        if old is not None:
            f["column"] = old["column"]
            if old.get("retired"):
                f["retired"] = old["retired"]
            if f.get("type") != old["type"]:
                raise Conflict(T("字段“{n}”已发布，不能在草稿中直接改类型：请用“更改类型”，它会先检查每个已有值能否转换",
                                 "Field '{n}' is published, so its type cannot change in the draft: use 'Change type', "
                                 "which first checks that every stored value converts", n=old["label"]),
                               code="forms_type_change_needs_check", detail={"field": old["name"]})
            if bool(f.get("pii", old.get("pii"))) != bool(old.get("pii")):
                raise Conflict(T("字段“{n}”已发布，不能更改个人信息标记；请新增一个字段", "Field '{n}' is published: its "
                                 "personal-information flag cannot change; add a new field instead", n=old["label"]),
                               code="forms_pii_flag_fixed")
        else:
            f.pop("column", None)
        incoming.append(f)
    names = {str(f.get("name")) for f in incoming}
    for name, old in published.items():
        if name not in names:
            incoming.append({**old, "deleted": True})
    checked = ftypes.check_definition(code_tables(db, incoming), models=_model_codes(db))
    if title is not None:
        model.title = title.strip() or model.title
    if description is not None:
        model.description = description
    model.fields = checked
    model.layout = normal_layout(layout if layout is not None else model.layout, checked)
    if access is not None:
        model.access = _access(access)
    db.flush()
    return model


def diff(old: list[dict] | None, new: list[dict], old_layout: dict | None = None,
         new_layout: dict | None = None) -> dict[str, Any]:
    """What changed between two versions: fields added, deleted, and changed property by property."""
    before = {f["name"]: f for f in old or []}
    after = {f["name"]: f for f in new}
    added = [{"name": n, "label": f["label"], "type": f["type"]} for n, f in after.items()
             if not f.get("deleted") and (n not in before or before[n].get("deleted"))]
    deleted = [{"name": n, "label": f["label"]} for n, f in before.items()
               if not f.get("deleted") and (n not in after or after[n].get("deleted"))]
    changed = []
    for n, f in after.items():
        if n in before and not f.get("deleted") and not before[n].get("deleted"):
            props = {p: [before[n].get(p), f.get(p)] for p in DIFF_PROPS
                     if before[n].get(p) not in (None, "", False, []) or f.get(p) not in (None, "", False, [])
                     if before[n].get(p) != f.get(p)}
            if props:
                changed.append({"name": n, "label": f["label"], "changes": props})
    layout_changed = (old_layout or {}) != (new_layout or {}) and old is not None
    return {"added": added, "deleted": deleted, "changed": changed, "layout_changed": layout_changed}


def draft_diff(db: Session, *, model: DataModel) -> dict[str, Any]:
    version = current_version(db, model)
    return diff(version.fields if version else None, model.fields, version.layout if version else None,
                model.layout)


def versions_diff(db: Session, *, model: DataModel, a: int, b: int) -> dict[str, Any]:
    def get(n: int) -> ModelVersion:
        return one_or_raise(db, select(ModelVersion).where(ModelVersion.model_id == model.id,
                                                           ModelVersion.version == n),
                            T("版本 {n} 不存在", "Version {n} does not exist", n=n), code="forms_version_not_found")
    va, vb = get(a), get(b)
    return diff(va.fields, vb.fields, va.layout, vb.layout)


def publish(db: Session, database: Database, *, model: DataModel, note: str | None = None,
            principal: Principal) -> ModelVersion:
    """Publish the draft as the next version; the table is created, or gains the new fields' columns."""
    fields = ftypes.check_definition(model.fields, models=_model_codes(db))
    if not [f for f in fields if not f.get("deleted")]:
        raise Invalid(T("发布前请至少添加一个字段", "Add at least one field before publishing"), code="forms_no_fields")
    version = current_version(db, model)
    if version is None:
        migrate.create_table(db, database, model=model, fields=fields, principal=principal)
    else:
        migrate.add_columns(db, database, model=model, old=version.fields, new=fields)
    number = (db.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.model_id == model.id)) or 0) + 1
    row = ModelVersion(model_id=model.id, version=number, fields=copy.deepcopy(fields),
                       layout=copy.deepcopy(model.layout), note=note, published_by=principal.username)
    db.add(row)
    model.fields = fields
    model.published_version = number
    db.flush()
    audit.record(db, action="forms.model.publish", principal=principal, object_type="form_model",
                 object_id=model.code, detail={"version": number})
    return row


def replace_field(db: Session, *, model: DataModel, field: dict, note: str, principal: Principal) -> ModelVersion:
    """A new published version with one field replaced (a type change); the draft gets the same field."""
    version = current_version(db, model)
    assert version is not None
    fields = [field if f["name"] == field["name"] else f for f in version.fields]
    model.fields = [{**f, "type": field["type"], "column": field["column"], "retired": field["retired"]}
                    if f["name"] == field["name"] else f for f in model.fields]
    number = (db.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.model_id == model.id)) or 0) + 1
    row = ModelVersion(model_id=model.id, version=number, fields=copy.deepcopy(fields),
                       layout=copy.deepcopy(version.layout), note=note, published_by=principal.username)
    db.add(row)
    model.published_version = number
    db.flush()
    return row


def model_out(db: Session, model: DataModel) -> dict[str, Any]:
    version = current_version(db, model)
    return {"id": model.id, "code": model.code, "title": model.title, "description": model.description,
            "table": f"{model.topic}.{model.table_name}",
            "table_title": warehouse.table_label(db, topic=model.topic, name=model.table_name), "fields": model.fields, "layout": model.layout,
            "access": model.access, "published_version": model.published_version,
            "published": {"version": version.version, "fields": version.fields, "layout": version.layout,
                          "published_at": version.published_at, "published_by": version.published_by}
            if version else None,
            "draft_changed": bool(version is None or version.fields != model.fields
                                  or version.layout != model.layout),
            "created_at": model.created_at, "updated_at": model.updated_at}


def types_out() -> list[dict[str, Any]]:
    return [{"type": k, "label": v[1], "label_en": v[2], "personal": k in ftypes.PERSONAL_BY_DEFAULT}
            for k, v in ftypes.TYPES.items()]


# --------------------------------------------------------------------------- safe changes
def _published_field(db: Session, model: DataModel, name: str) -> dict:
    for f in published_fields(db, model):
        if f["name"] == name:
            return f
    raise Invalid(T("已发布的模型中没有字段“{n}”", "The published model has no field '{n}'", n=name[:63]),
                  code="forms_no_such_field")


def check_type_change(db: Session, database: Database, *, model: DataModel, name: str, new_type: str,
                      settings: dict | None = None) -> dict[str, Any]:
    field = _published_field(db, model, name)
    target = migrate.new_field(field, new_type, settings)
    result = migrate.check_type(db, database, model=model, field=field, target=target, vault=store.vault(database))
    result.pop("converted")
    return result


def change_type(db: Session, database: Database, *, model: DataModel, name: str, new_type: str,
                settings: dict | None = None, principal: Principal) -> ModelVersion:
    """Change a published field's type when every stored value converts; else 409 with the ones that do not."""
    field = _published_field(db, model, name)
    target = migrate.new_field(field, new_type, settings)
    vault = store.vault(database)
    result = migrate.check_type(db, database, model=model, field=field, target=target, vault=vault)
    if result["bad"]:
        raise Conflict(T("有 {n} 条记录的“{f}”不能转换为新类型：请先修改这些值，或另建字段",
                         "{n} records have a value of '{f}' that does not convert to the new type: fix those values "
                         "first, or add a new field", n=len(result["bad"]), f=field["label"]),
                       code="forms_values_do_not_convert", detail={"bad": result["bad"], "total": result["total"]})
    target = migrate.apply_type(db, database, model=model, field=field, target=target,
                                converted=result["converted"], vault=vault)
    row = replace_field(db, model=model, field=target, principal=principal,
                        note=f"{field['label']}: {field['type']} → {new_type}")
    audit.record(db, action="forms.model.change_type", principal=principal, object_type="form_model",
                 object_id=model.code, detail={"field": name, "from": field["type"], "to": new_type,
                                               "records": result["total"], "version": row.version})
    return row


def purgeable(db: Session, *, model: DataModel) -> list[dict[str, Any]]:
    """Columns still holding data no live field shows: deleted fields and the old columns of type changes."""
    version = current_version(db, model)
    out: list[dict[str, Any]] = []
    for f in version.fields if version else []:
        if f.get("deleted"):
            out.append({"field": f["name"], "label": f["label"], "column": f["column"], "why": "deleted",
                        "personal": bool(f.get("pii"))})
        for r in f.get("retired") or []:
            out.append({"field": f["name"], "label": f["label"], "column": r["column"], "why": "retired_type",
                        "type": r["type"], "personal": bool(f.get("pii"))})
    return out


def purge(db: Session, database: Database, *, model: DataModel, column: str, principal: Principal) -> None:
    item = next((p for p in purgeable(db, model=model) if p["column"] == column), None)
    if item is None:
        raise Invalid(T("列“{c}”不是已删除字段或旧类型的列，不能清除", "Column '{c}' is not a deleted field's or an old "
                        "type's column; it cannot be purged", c=column[:63]), code="forms_not_purgeable")
    columns = [column] + ([column + store.BIDX] if item["personal"] else [])
    migrate.purge(db, database, model=model, columns=columns)
    version = current_version(db, model)
    assert version is not None
    fields = []
    for f in copy.deepcopy(version.fields):
        if f.get("deleted") and f["column"] == column:
            continue
        f["retired"] = [r for r in f.get("retired") or [] if r["column"] != column]
        fields.append(f)
    version.fields = fields
    model.fields = [f for f in copy.deepcopy(model.fields) if not (f.get("deleted") and f["column"] == column)]
    for f in model.fields:
        f["retired"] = [r for r in f.get("retired") or [] if r["column"] != column]
    db.flush()
    audit.record(db, action="forms.model.purge", principal=principal, object_type="form_model",
                 object_id=model.code, detail={"field": item["field"], "column": column})


_JSON_TYPES: dict[str, dict[str, Any]] = {
    "integer": {"type": "integer"}, "decimal": {"type": "string", "format": "decimal"},
    "money": {"type": "string", "format": "decimal", "description": "元，两位小数 / yuan, two decimals"},
    "date": {"type": "string", "format": "date"}, "datetime": {"type": "string", "format": "date-time"},
    "year_month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}, "boolean": {"type": "boolean"},
    "multiselect": {"type": "array", "items": {"type": "string"}},
    "attachment": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                                    "size": {"type": "integer"}, "type": {"type": "string"}}},
    "subtable": {"type": "array", "items": {"type": "object"}},
}


def _value_schema(f: dict) -> dict[str, Any]:
    """JSON Schema of one field's value as the records API takes and gives it (null when not filled in)."""
    kind = f["type"]
    if ftypes.is_personal(f):
        schema: dict[str, Any] = {"type": "string"}  # sealed; read back masked unless unmasked with a purpose
    elif kind in ("select", "multiselect") and f.get("options"):
        values = [str(o["value"]) for o in f["options"]]
        schema = {"type": "array", "items": {"type": "string", "enum": values}} if kind == "multiselect" \
            else {"type": "string", "enum": values}
    elif kind == "subtable":
        subs = [sf for sf in f.get("sub_fields") or [] if not sf.get("deleted")]
        schema = {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                             "properties": {sf["name"]: _value_schema(sf) for sf in subs}}}
    else:
        schema = copy.deepcopy(_JSON_TYPES.get(kind, {"type": "string"}))
        if kind == "integer":
            for key, word in (("min", "minimum"), ("max", "maximum")):
                if isinstance(f.get(key), int | float) and not isinstance(f.get(key), bool):
                    schema[word] = f[key]
        if schema.get("type") == "string" and isinstance(f.get("max_length"), int) and kind not in _JSON_TYPES:
            schema["maxLength"] = f["max_length"]
    schema["type"] = [schema["type"], "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    schema["title"] = f.get("label") or f["name"]
    notes = [ftypes.TYPES[kind][1] + " / " + ftypes.TYPES[kind][2]] if kind in ftypes.TYPES else []
    if kind == "money":
        notes.append("元，两位小数 / yuan, two decimals")
    if ftypes.is_personal(f):
        notes.append("个人信息：加密存储，读取时遮蔽 / personal: sealed, masked on read")
    if f.get("regex"):
        notes.append(f"须完整匹配 / must fully match: {f['regex']}")
    if f.get("ref_model"):
        notes.append(f"关联模型 {f['ref_model']} 的记录编号 / a record id of model {f['ref_model']}")
    if f.get("visible_when") or f.get("required_when"):
        notes.append("有条件 / conditional: " + json.dumps({k: f.get(k) for k in ("visible_when", "required_when")
                                                        if f.get(k)}, ensure_ascii=False))
    if f.get("help"):
        notes.append(str(f["help"]))
    schema["description"] = "；".join(notes)
    return schema


def openapi_for(db: Session, *, model: DataModel) -> dict[str, Any]:
    """An OpenAPI 3.1 document of one model's records API: its published fields as the schema of a record's
    ``values`` (types, options, ranges, personal fields, sub-table rows), and the routes that take and give it."""
    fields = published_fields(db, model)
    stem = "".join(p.capitalize() for p in model.code.split("_"))
    values_name, record_name, page_name = f"{stem}Values", f"{stem}Record", f"{stem}Page"
    values = {"type": "object", "title": model.title, "additionalProperties": False,
              "properties": {f["name"]: _value_schema(f) for f in fields},
              "required": [f["name"] for f in fields if f.get("required")]}
    when = {"type": ["string", "null"], "format": "date-time"}
    record = {"type": "object", "required": ["id", "deleted", "values"], "properties": {
        "id": {"type": "string"}, "deleted": {"type": "boolean"}, "values": {"$ref": f"#/components/schemas/{values_name}"},
        "created_at": when, "created_by": {"type": ["string", "null"]}, "updated_at": when,
        "updated_by": {"type": ["string", "null"]}}}
    page = {"type": "object", "required": ["items", "total"], "properties": {
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{record_name}"}},
        "total": {"type": "integer"}, "page": {"type": "integer"}, "size": {"type": "integer"},
        "masked": {"type": "boolean"}, "refs": {"type": "object"}}}
    base = f"/api/v1/forms/models/{model.code}/records"
    body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"values": {"$ref": f"#/components/schemas/{values_name}"}},
        "required": ["values"]}}}}
    out = {"description": "记录 / the record",
           "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{record_name}"}}}}
    error = {"description": "错误：code 与中英文说明 / error: its code and what to do",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    filters = {"name": "filters", "in": "query", "schema": {"type": "string"},
               "description": 'JSON [{"field","op","value"}]; op: ' + ", ".join(ftypes.OPERATORS)}
    unmask = [{"name": "unmask", "in": "query", "schema": {"type": "boolean"},
               "description": "显示完整个人信息（需 pii:unmask 与用途）/ show personal values in full"},
              {"name": "purpose", "in": "query", "schema": {"type": "string"}}]
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{model.title} ({model.code})", "version": str(model.published_version),
                 "description": f"数据模型“{model.title}”第 {model.published_version} 版的记录 API。认证同平台："
                                "会话 Cookie（写操作带 X-CSRF-Token）或 Bearer 令牌。 / The records API of version "
                                f"{model.published_version} of this data model; authenticate as for the platform "
                                "(session cookie with X-CSRF-Token for writes, or a bearer token)."},
        "externalDocs": {"description": "平台 OpenAPI / the platform's OpenAPI", "url": "/api/openapi.json"},
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            base: {"get": {"summary": "记录列表 / list", "operationId": f"list_{model.code}", "parameters": [
                filters, *[{"name": n, "in": "query", "schema": {"type": t}} for n, t in (
                    ("q", "string"), ("sort", "string"), ("page", "integer"), ("size", "integer"))], *unmask],
                "responses": {"200": {"description": "一页记录 / a page of records", "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{page_name}"}}}}, "4XX": error}},
                   "post": {"summary": "新增 / create", "operationId": f"create_{model.code}", "requestBody": body,
                            "responses": {"201": out, "4XX": error}}},
            base + "/{record_id}": {
                "parameters": [{"name": "record_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {"summary": "读取 / read", "operationId": f"get_{model.code}", "parameters": unmask,
                        "responses": {"200": out, "4XX": error}},
                "patch": {"summary": "修改给出的字段 / change the fields given", "operationId": f"update_{model.code}",
                          "requestBody": body, "responses": {"200": out, "4XX": error}},
                "delete": {"summary": "删除（可恢复） / soft delete", "operationId": f"delete_{model.code}",
                           "responses": {"200": out, "4XX": error}}},
        },
        "components": {
            "schemas": {values_name: values, record_name: record, page_name: page, "Error": {
                "type": "object", "properties": {"error": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}, "detail": {}}}}}},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "pbshare_session"}},
        },
    }


def _audit_names(db: Session, codes: list[str]) -> dict[str, tuple[str, str | None]]:
    """Data models an audit record points at (by code) by their titles, linked to their records."""
    rows = db.execute(select(DataModel.code, DataModel.title).where(DataModel.code.in_(codes)))
    return {code: (title, f"/forms/{code}/records") for code, title in rows}


audit.register_namer("form_model", _audit_names)
