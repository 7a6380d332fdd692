"""The answer sheet of an item: an Excel template in the resource's layout, and reading it (or a CSV) back."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from pbshare.core.errors import Invalid
from pbshare.core.i18n import T
from pbshare.exchange.requests.enums import VERIFY_RESULT_LABELS, VerifyResult
from pbshare.exchange.requests.schemas import InfoItemOut

MAX_ROWS = 1000
RESULT_HEADER, INDEX_HEADER, NOTE_HEADER = "核查结果", "序号", "说明"
_RESULTS = {**{zh: r.value for r, (zh, _en) in VERIFY_RESULT_LABELS.items()},
            **{en.lower(): r.value for r, (_zh, en) in VERIFY_RESULT_LABELS.items()},
            **{r.value: r.value for r in VerifyResult}}


def template(*, items: list[InfoItemOut], check_values: list[dict[str, str]] | None, title: str) -> bytes:
    """Query: one column per info item (header = its Chinese name). Verification: the values to check,
    one per row, with a result column to fill in (一致 / 不一致 / 未查到)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has its first sheet
    ws.title = "答复"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    if check_values is None:
        headers = [i.name for i in items]
        ws.append(headers)
    else:
        keys = sorted({k for v in check_values for k in v})
        names = {i.code: i.name for i in items}
        headers = [INDEX_HEADER, *[names.get(k, k) for k in keys], RESULT_HEADER, NOTE_HEADER]
        ws.append(headers)
        for n, values in enumerate(check_values):
            ws.append([n, *[values.get(k, "") for k in keys], "", ""])
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
    for col, header in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(1, col).column_letter].width = max(12, len(header) * 2 + 2)
    guide = wb.create_sheet("填写说明")
    guide.append([title])
    guide.append(["信息项代码", "信息项名称", "类型", "长度", "可选值"])
    for i in items:
        guide.append([i.code, i.name, i.type, i.length or "", "、".join(i.values or [])])
    if check_values is not None:
        guide.append([])
        guide.append(["核查结果请填：一致 / 不一致 / 未查到（或 match / mismatch / not_found）"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _rows(data: bytes, filename: str) -> list[list[Any]]:
    name = filename.lower()
    if name.endswith(".xlsx"):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            raise Invalid(T("无法读取该 Excel 文件，请使用下载的模板（.xlsx）填写", "The Excel file cannot be read; "
                            "fill in the downloaded template (.xlsx)"), code="bad_file") from None
        ws = wb.worksheets[0]
        rows = [[_cell(c) for c in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
        return rows
    if name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes any bytes
            text = data.decode("utf-8", errors="replace")
        return [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text))]
    raise Invalid(T("只接受 .xlsx 或 .csv 文件", "Only .xlsx or .csv files are accepted"), code="bad_file_type")


def read(data: bytes, filename: str, *, items: list[InfoItemOut],
         verification: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(records, results) from an uploaded sheet; headers may be the item names or codes."""
    rows = [r for r in _rows(data, filename) if any(v not in (None, "") for v in r)]
    if not rows:
        raise Invalid(T("文件是空的：请在模板的第一行表头下逐行填写", "The file is empty: fill in rows under the "
                        "template's header row"), code="empty_file")
    if len(rows) - 1 > MAX_ROWS:
        raise Invalid(T("最多 {n} 行", "At most {n} rows", n=MAX_ROWS), code="too_many_rows")
    by_header = {i.name: i.code for i in items} | {i.code: i.code for i in items}
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    if verification:
        if INDEX_HEADER not in header or RESULT_HEADER not in header:
            raise Invalid(T("表头须含“{a}”和“{b}”列：请使用下载的核查模板", "The header needs the columns {a} and {b}: "
                            "use the downloaded verification template", a=INDEX_HEADER, b=RESULT_HEADER),
                          code="bad_header")
        ix, rx = header.index(INDEX_HEADER), header.index(RESULT_HEADER)
        nx = header.index(NOTE_HEADER) if NOTE_HEADER in header else None
        results = []
        for n, row in enumerate(rows[1:], start=2):
            raw = str(row[rx] if rx < len(row) and row[rx] is not None else "").strip()
            result = _RESULTS.get(raw.lower()) or _RESULTS.get(raw)
            if result is None:
                raise Invalid(T("第 {n} 行的核查结果“{v}”无法识别：请填 一致、不一致 或 未查到", "Row {n}: the result "
                                "\"{v}\" is not one of 一致 (match), 不一致 (mismatch), 未查到 (not found)", n=n, v=raw[:20]),
                              code="bad_result", detail={"row": n})
            try:
                index = int(str(row[ix]))
            except (TypeError, ValueError):
                raise Invalid(T("第 {n} 行的序号不是数字", "Row {n}: the index is not a number", n=n),
                              code="bad_index", detail={"row": n}) from None
            note = row[nx] if nx is not None and nx < len(row) else None
            results.append({"index": index, "result": result, "note": str(note)[:500] if note else None})
        return [], results
    unknown = [h for h in header if h and h not in by_header]
    if unknown:
        raise Invalid(T("表头中有资源中没有的列：{c}；请使用下载的模板", "The header has columns the resource does not "
                        "have: {c}; use the downloaded template", c="、".join(unknown[:5])), code="bad_header",
                      detail={"unknown": unknown[:20]})
    codes = [by_header.get(h) for h in header]
    records = []
    for row in rows[1:]:
        records.append({code: row[i] for i, code in enumerate(codes) if code and i < len(row) and row[i] is not None})
    return records, []
