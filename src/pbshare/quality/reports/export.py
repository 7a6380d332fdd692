"""One quality report as an Excel workbook (openpyxl) or a PDF (fpdf2 with a CJK TrueType font).

Both take the report as the API shows it (``ReportOut``): samples are already masked. The PDF needs a
font with Chinese glyphs: ``PBSHARE_PDF_FONT`` names one, else the first of the usual system paths
(Debian's ``fonts-wqy-microhei``, ``fonts-noto-cjk``) is used; with none, the export answers 503 and
says which package to install.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from pbshare.core.clock import LOCAL_TZ, as_utc
from pbshare.core.errors import AppError
from pbshare.core.i18n import T
from pbshare.quality.reports.schemas import ReportOut
from pbshare.quality.reports.scoring import DIMENSION_LABELS, DIMENSIONS, VERDICT_LABELS

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
SUBJECT_LABELS = {"import_run": "导入 / import run", "delivery": "交换报送 / delivery"}
SEVERITY_LABELS = {"error": "错误 / error", "warning": "警告 / warning"}


class NoFont(AppError):
    status = 503
    code = "pdf_font_missing"
    default_message = T("服务器上没有中文字体，无法生成 PDF：请安装 fonts-wqy-microhei（或设置 PBSHARE_PDF_FONT 指向"
                        "一个中文 TrueType 字体），或先下载 Excel 版",
                        "The server has no Chinese font to make the PDF: install fonts-wqy-microhei (or point "
                        "PBSHARE_PDF_FONT at a Chinese TrueType font), or download the Excel version")


def _both(pair: tuple[str, str]) -> str:
    return f"{pair[0]} / {pair[1]}"


def _when(value: Any) -> str:
    return as_utc(value).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if value else ""


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def _summary(r: ReportOut) -> list[tuple[str, str]]:
    rows = [("报告编号 / report", r.id), ("对象 / subject", f"{SUBJECT_LABELS.get(r.subject_kind, r.subject_kind)} "
                                                      f"{r.subject_id}"),
            ("目录资源 / resource", r.resource_code or "—"), ("数源单位 / unit", r.unit_code or "—"),
            ("目标表 / table", r.target or "—"), ("生成时间 / created", _when(r.created_at)),
            ("行数 / rows", str(r.rows)), ("隔离行 / rows kept out", str(r.error_rows)),
            ("警告行 / rows with warnings", str(r.warning_rows)), ("总分 / overall score", _num(r.score)),
            ("结论 / verdict", _both(VERDICT_LABELS.get(r.verdict, (r.verdict, r.verdict)))),
            ("结论依据 / why", r.verdict_reason.replace("\n", " / "))]
    if r.overridden_at:
        rows += [("规则给出的结论 / computed verdict", _both(VERDICT_LABELS.get(r.computed_verdict,
                                                                           (r.computed_verdict,) * 2))),
                 ("人工更改 / overridden by", f"{r.overridden_by or ''} {_when(r.overridden_at)}"),
                 ("更改理由 / reason", r.override_reason or "")]
    return rows


def _dimension_rows(r: ReportOut) -> list[tuple[str, str, str, str, str]]:
    out = []
    for d in DIMENSIONS:
        c = r.checks.get(d, {})
        out.append((_both(DIMENSION_LABELS[d]), _num(r.scores.get(d)), _num(r.weights.get(d)),
                    str(c.get("checked", 0)), str(c.get("failed", 0))))
    return out


def _sample_text(s: dict) -> str:
    key = ", ".join(f"{k}={v}" for k, v in (s.get("key") or {}).items())
    value = s.get("value")
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    parts = [f"第 {s['line']} 行" if s.get("line") is not None else "", key, str(value) if value is not None else ""]
    return " ".join(p for p in parts if p)


def to_excel(r: ReportOut) -> bytes:
    """Sheets 概览 (summary and dimension scores), 规则 (one row per rule), 样例 (the sample rows)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "概览"
    ws.append(["质量报告 / Quality report"])
    ws["A1"].font = Font(bold=True, size=14)
    for label, value in _summary(r):
        ws.append([label, value])
    ws.append([])
    ws.append(["维度 / dimension", "得分 / score", "权重 / weight", "检查数 / checked", "未通过 / failed"])
    for d in DIMENSIONS:
        c = r.checks.get(d, {})
        ws.append([_both(DIMENSION_LABELS[d]), r.scores.get(d), r.weights.get(d), c.get("checked", 0),
                   c.get("failed", 0)])
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 60
    rules = wb.create_sheet("规则")
    rules.append(["序号 / #", "规则 / rule", "类型 / kind", "维度 / dimension", "级别 / severity", "字段 / columns",
                  "检查行数 / checked", "未通过 / failed", "未通过比例 / share", "未执行原因 / skipped"])
    for x in r.rules:
        rules.append([x.position + 1, x.name, x.kind, _both(DIMENSION_LABELS.get(x.dimension, (x.dimension,) * 2)),
                      SEVERITY_LABELS.get(x.severity, x.severity), ", ".join(x.columns), x.checked, x.failed,
                      x.share_failed, x.skipped or ""])
    rules.column_dimensions["B"].width = 50
    samples = wb.create_sheet("样例")
    samples.append(["规则 / rule", "行号 / line", "业务主键 / key", "值 / value"])
    for x in r.rules:
        for sample in x.sample:
            shown = sample.get("value")
            samples.append([x.name, sample.get("line"),
                            ", ".join(f"{k}={v}" for k, v in (sample.get("key") or {}).items()),
                            json.dumps(shown, ensure_ascii=False) if isinstance(shown, (dict, list)) else shown])
    samples.column_dimensions["A"].width = 50
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def font_path() -> Path:
    configured = os.environ.get("PBSHARE_PDF_FONT")
    for candidate in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise NoFont()


def to_pdf(r: ReportOut) -> bytes:
    """An A4 page (or more): summary, dimension scores, the rules' table, the first samples of each rule."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    font = font_path()
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", fname=str(font))
    pdf.add_font("cjk", style="B", fname=str(font))
    pdf.set_title(f"质量报告 {r.id}")
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(text="质量报告 / Quality report", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=9)
    heading = FontFace(emphasis="BOLD", fill_color=(235, 240, 248))
    with pdf.table(col_widths=(45, 145), headings_style=heading, first_row_as_headings=False) as table:
        for label, value in _summary(r):
            row = table.row()
            row.cell(label)
            row.cell(value)
    pdf.ln(4)
    with pdf.table(col_widths=(50, 30, 30, 40, 40), headings_style=heading) as table:
        head = table.row()
        for h in ("维度 / dimension", "得分 / score", "权重 / weight", "检查数 / checked", "未通过 / failed"):
            head.cell(h)
        for values in _dimension_rows(r):
            row = table.row()
            for v in values:
                row.cell(v)
    pdf.ln(4)
    with pdf.table(col_widths=(8, 70, 25, 22, 20, 20, 25), headings_style=heading) as table:
        head = table.row()
        for h in ("#", "规则 / rule", "维度 / dimension", "级别 / severity", "检查 / checked", "未通过 / failed",
                  "比例 / share"):
            head.cell(h)
        for x in r.rules:
            row = table.row()
            for v in (str(x.position + 1), x.name, DIMENSION_LABELS.get(x.dimension, (x.dimension,))[0],
                      SEVERITY_LABELS.get(x.severity, x.severity).split(" / ")[0], str(x.checked), str(x.failed),
                      f"{100 * x.share_failed:.2f}%" if x.share_failed is not None else (x.skipped or "—")):
                row.cell(v)
    shown = [(x, s) for x in r.rules if x.failed for s in x.sample[:5]]
    if shown:
        pdf.ln(4)
        pdf.set_font("cjk", size=11)
        pdf.cell(text="未通过样例（证件号码已遮蔽） / failing samples, identifiers masked", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=8)
        with pdf.table(col_widths=(80, 110), headings_style=heading) as table:
            head = table.row()
            head.cell("规则 / rule")
            head.cell("行号、主键、值 / line, key, value")
            for x, s in shown:
                row = table.row()
                row.cell(x.name)
                row.cell(_sample_text(s))
    return bytes(pdf.output())
