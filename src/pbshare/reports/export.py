"""Dashboards and query results as Excel (openpyxl), CSV, or PDF (fpdf2 with a CJK font).

A tile is ``{title, columns: [{name, title}], rows: [{name: value}]}``; values are already masked. The PDF
shows each tile's chart as the browser drew it (a PNG the page sends along) above its table. The font is
found as for quality reports (``PBSHARE_PDF_FONT`` or the usual Debian paths); without one the PDF export
answers 503 and says which package to install.
"""

from __future__ import annotations

import base64
import csv
import io
import os
from pathlib import Path
from typing import Any

from pbshare.core.errors import AppError, Invalid
from pbshare.core.i18n import T
from pbshare.core.sheets import worksheet_value

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
MAX_PDF_ROWS = 200  # per tile; the Excel file has them all
MAX_IMAGE_BYTES = 3 * 1024 * 1024


class NoFont(AppError):
    status = 503
    code = "pdf_font_missing"
    default_message = T("服务器上没有中文字体，无法生成 PDF：请安装 fonts-wqy-microhei（或设置 PBSHARE_PDF_FONT 指向"
                        "一个中文 TrueType 字体），或先导出 Excel",
                        "The server has no Chinese font to make the PDF: install fonts-wqy-microhei (or point "
                        "PBSHARE_PDF_FONT at a Chinese TrueType font), or export to Excel")


def font_path() -> Path:
    configured = os.environ.get("PBSHARE_PDF_FONT")
    for candidate in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise NoFont()


def _cell(v: Any) -> Any:
    if v is None or isinstance(v, (int, float, bool)):
        return v
    return worksheet_value(str(v))


def _sheet_name(title: str, taken: set[str]) -> str:
    base = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28] or "Sheet"
    name, n = base, 2
    while name in taken:
        name, n = f"{base[:25]}_{n}", n + 1
    taken.add(name)
    return name


def to_excel(title: str, tiles: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for tile in tiles:
        ws = wb.create_sheet(_sheet_name(tile.get("title") or title, taken))
        cols = tile.get("columns") or []
        ws.append([c.get("title") or c["name"] for c in cols])
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in tile.get("rows") or []:
            ws.append([_cell(row.get(c["name"])) for c in cols])
        if tile.get("totals"):
            ws.append([_cell(tile["totals"].get(c["name"], "合计 / total" if i == 0 else None))
                       for i, c in enumerate(cols)])
        for i, _ in enumerate(cols):
            ws.column_dimensions[ws.cell(row=1, column=i + 1).column_letter].width = 18
    if not wb.sheetnames:
        wb.create_sheet(_sheet_name(title, taken))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_csv(tile: dict[str, Any]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    cols = tile.get("columns") or []
    w.writerow([c.get("title") or c["name"] for c in cols])
    for row in tile.get("rows") or []:
        w.writerow(["" if row.get(c["name"]) is None else row.get(c["name"]) for c in cols])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # a BOM so Excel opens it as UTF-8


def _image(data_url: str | None) -> io.BytesIO | None:
    if not data_url or not data_url.startswith("data:image/png;base64,"):
        return None
    raw = base64.b64decode(data_url.split(",", 1)[1], validate=False)
    if len(raw) > MAX_IMAGE_BYTES:
        raise Invalid(T("图表图片过大（超过 3 MB）", "A chart image is too large (over 3 MB)"), code="image_too_big")
    return io.BytesIO(raw)


def to_pdf(title: str, tiles: list[dict[str, Any]], images: dict[str, str] | None = None) -> bytes:
    """A4 landscape: the title, then per tile its chart image (if sent) and its first rows."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    font = font_path()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", fname=str(font))
    pdf.add_font("cjk", style="B", fname=str(font))
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(text=title, new_x="LMARGIN", new_y="NEXT")
    heading = FontFace(emphasis="BOLD", fill_color=(235, 240, 248))
    for i, tile in enumerate(tiles):
        pdf.ln(4)
        pdf.set_font("cjk", size=12)
        pdf.cell(text=str(tile.get("title") or ""), new_x="LMARGIN", new_y="NEXT")
        if tile.get("error"):
            pdf.set_font("cjk", size=9)
            pdf.multi_cell(0, 5, text=str(tile["error"]), new_x="LMARGIN", new_y="NEXT")
            continue
        img = _image((images or {}).get(str(i)))
        if img is not None:
            pdf.image(img, w=160)
        cols = tile.get("columns") or []
        rows = (tile.get("rows") or [])[:MAX_PDF_ROWS]
        if not cols:
            continue
        pdf.set_font("cjk", size=8)
        with pdf.table(headings_style=heading, width=min(270, 30 * len(cols))) as table:
            head = table.row()
            for c in cols:
                head.cell(str(c.get("title") or c["name"]))
            for r in rows:
                row = table.row()
                for c in cols:
                    v = r.get(c["name"])
                    row.cell("" if v is None else str(v))
        if len(tile.get("rows") or []) > MAX_PDF_ROWS:
            pdf.cell(text=f"… 仅显示前 {MAX_PDF_ROWS} 行，完整数据请导出 Excel / first {MAX_PDF_ROWS} rows; export to "
                          "Excel for all", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
