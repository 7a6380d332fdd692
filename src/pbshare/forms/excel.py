"""Excel in the form's layout: a template to fill in, an import that reports bad rows by line and writes
nothing unless every row is good, and an export (personal values masked, audited)."""

from __future__ import annotations

import io
import json
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from pbshare.core.db import Database
from pbshare.core.errors import Invalid, TooLarge
from pbshare.core.i18n import T
from pbshare.core.sheets import worksheet_value
from pbshare.forms import fields as ftypes
from pbshare.forms import records, service
from pbshare.forms.models import DataModel
from pbshare.security.audit import service as audit
from pbshare.units.principal import Principal

MAX_IMPORT_ROWS = 20_000
MAX_EXPORT_ROWS = 100_000
HEAD = Font(bold=True)
REQUIRED = PatternFill("solid", fgColor="FDE2E2")


def _ordered(db: Session, model: DataModel) -> list[dict]:
    """Fields in the form's layout order (sections top to bottom); attachments left out (files are uploaded
    one by one); a sub-table is one cell of JSON rows."""
    fields = {f["name"]: f for f in service.published_fields(db, model)}
    version = service.current_version(db, model)
    layout = service.normal_layout(version.layout if version else None, list(fields.values()))
    names = [n for s in layout["sections"] for n in s["fields"]]
    return [fields[n] for n in names if n in fields and fields[n]["type"] != "attachment"]


def _hint(f: dict) -> str:
    parts = [ftypes.TYPES[f["type"]][1]]
    if f.get("required"):
        parts.append("必填")
    if f.get("options"):
        parts.append("可选：" + "、".join(str(o.get("label") or o["value"]) for o in f["options"]))
    if f["type"] == "multiselect":
        parts.append("多个用顿号分隔")
    if f["type"] == "subtable":
        parts.append('JSON 行，如 [{"' + '": "…", "'.join(s["name"] for s in f.get("sub_fields") or []) + '": "…"}]')
    if f.get("help"):
        parts.append(str(f["help"]))
    return "；".join(parts)


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template(db: Session, *, model: DataModel, principal: Principal) -> bytes:
    service.check_may(principal, model, "enter")
    fields = _ordered(db, model)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = model.title[:31] or model.code
    for i, f in enumerate(fields, start=1):
        cell = ws.cell(row=1, column=i, value=f["label"])
        cell.font = HEAD
        if f.get("required"):
            cell.fill = REQUIRED
        ws.column_dimensions[get_column_letter(i)].width = max(12, len(f["label"]) * 2 + 4)
    notes = wb.create_sheet("填写说明")
    notes.append(["字段", "填写要求"])
    for f in fields:
        notes.append([f["label"], _hint(f)])
    return _save(wb)


def import_rows(db: Session, database: Database, *, model: DataModel, content: bytes,
                principal: Principal) -> dict[str, Any]:
    """Check every row first; any bad row (reported by its line) and nothing is written."""
    service.check_may(principal, model, "enter")
    fields = _ordered(db, model)
    all_fields = service.published_fields(db, model)
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise Invalid(T("文件不是有效的 Excel（.xlsx）：请用“下载模板”得到的文件填写", "The file is not a valid Excel "
                        "(.xlsx) workbook: fill in the file from 'Download template'"), code="forms_bad_excel") from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, [])]
    by_label = {f["label"]: f for f in fields}
    missing = [f["label"] for f in fields if f["label"] not in header]
    unknown = [h for h in header if h and h not in by_label]
    if unknown or not header or not [h for h in header if h in by_label]:
        raise Invalid(T("表头与模板不一致：{c}。请下载最新模板后重填", "The header row does not match the template: {c}. "
                        "Download the current template and fill it in", c="、".join(unknown or missing)[:200]),
                      code="forms_bad_header", detail={"unknown": unknown, "missing": missing})
    good: list[dict] = []
    lines: list[int] = []
    errors: list[dict[str, Any]] = []
    for line, raw in enumerate(rows, start=2):
        if raw is None or all(v is None or str(v).strip() == "" for v in raw):
            continue
        if len(good) + len(errors) >= MAX_IMPORT_ROWS:
            raise TooLarge(T("一次最多导入 {n} 行，请分批导入", "Import at most {n} rows at a time; split the file",
                             n=MAX_IMPORT_ROWS), code="forms_too_many_rows")
        values = {by_label[h]["name"]: v for h, v in zip(header, raw, strict=False) if h in by_label}
        try:
            converted, _ = records.prepare(db, database, model=model, fields=all_fields, values=values, current=None,
                                           record_id=None, line=line, check_stored=False)
            good.append(converted)
            lines.append(line)
        except Invalid as exc:
            for e in (exc.detail or {}).get("errors", [{"field": "", "message": exc.message.render("zh"),
                                                        "message_en": exc.message.render("en")}]):
                errors.append({"line": line, **e})
    _repeats(all_fields, good, lines, errors)
    errors += records.check_batch(db, database, model=model, fields=all_fields, rows=list(zip(lines, good, strict=True)))
    errors.sort(key=lambda e: e["line"])
    if errors:
        raise Invalid(T("有 {n} 处问题，没有导入任何记录：请按行号修改后重新导入", "{n} problems found; nothing was "
                        "imported: fix the lines shown and import again", n=len(errors)),
                      code="forms_import_rejected", detail={"errors": errors[:500], "count": len(errors)})
    records.insert_many(db, database, model=model, fields=all_fields, rows=good, principal=principal,
                        action="import")
    return {"imported": len(good)}


def _repeats(fields: list[dict], good: list[dict], lines: list[int], errors: list[dict[str, Any]]) -> None:
    """Unique fields must not repeat inside the file either."""
    for f in fields:
        if not f.get("unique"):
            continue
        seen: set[str] = set()
        for line, row in zip(lines, good, strict=True):
            v = row.get(f["name"])
            if v is None:
                continue
            if str(v) in seen:
                errors.append({"line": line, "field": f["name"], "message": f"“{f['label']}”在文件中重复",
                               "message_en": f"'{f['label']}' repeats within the file"})
            seen.add(str(v))


def export(db: Session, database: Database, *, model: DataModel, principal: Principal,
           filters: list[dict] | None = None, sort: str | None = None) -> bytes:
    service.check_may(principal, model, "export")
    fields = _ordered(db, model)
    page = records.list_records(db, database, model=model, principal=principal, filters=filters, sort=sort,
                                page=1, size=MAX_EXPORT_ROWS)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = model.title[:31] or model.code
    ws.append(["记录编号", *[f["label"] for f in fields], "创建人", "创建时间"])
    for c in ws[1]:
        c.font = HEAD
    for item in page["items"]:
        ws.append([item["id"], *[_cell(f, item["values"].get(f["name"])) for f in fields], item["created_by"],
                   str(item["created_at"])[:19]])
    audit.record(db, action="forms.record.export", principal=principal, object_type="form_model",
                 object_id=model.code, detail={"records": len(page["items"]), "masked": True})
    return _save(wb)


def _cell(f: dict, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if f["type"] == "subtable":
        return worksheet_value(json.dumps(value, ensure_ascii=False))
    if isinstance(value, list):
        return worksheet_value("、".join(str(v) for v in value))
    if f["type"] in ("integer",):
        return value
    return worksheet_value(str(value))
