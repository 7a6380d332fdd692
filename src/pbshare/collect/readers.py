"""Sources read as batches of text columns: CSV, Excel, a database table or SELECT, a paged JSON API.

Every reader yields ``Batch`` frames whose columns are all text (identifiers must never be guessed
as numbers: polars would read an 18-digit ID as Int64 and lose a trailing X or leading zeros) plus
``__line``, the line or record number the user will see in the quarantine.
Readers refuse malformed input with a clear ``Invalid``/``TooLarge`` before or while reading; the
loader runs in one transaction, so an error part-way leaves nothing written.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from pbshare.core.errors import Invalid, TooLarge
from pbshare.core.i18n import T

if TYPE_CHECKING:  # SQLAlchemy loads only when a database is read
    from sqlalchemy import ColumnElement
    from sqlalchemy.engine import Engine

    from pbshare.core.userquery import QueryLimits, Stop

LINE = "__line"
BLOCK_BYTES = 8 * 1024 * 1024
MAX_CELL_BYTES = 1024 * 1024  # a cell larger than this is refused (the "50 MB cell")
SNIFF_BYTES = 64 * 1024
# Excel files are zip archives: refuse ones that would inflate beyond this, or by more than this ratio.
MAX_XLSX_INFLATED = 400 * 1024 * 1024
MAX_XLSX_RATIO = 150
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
EXCEL_CELL_LIMIT = 32767


REASON = "__reason"
RAW_LINE = "原始行/raw line"
# Words that open a footer row (a total, who made the sheet, a remark) or a subtotal between the data.
FOOTER_WORDS = r"(合计|总计|小计|共计|制表人|制表|填表人|填报人|审核人|负责人|备注|说明|注：)"


def footer_filled(width: int) -> int:
    """A footer row fills at most this many cells: its word and a total or two, most key fields empty."""
    return min(width - 1, max(2, width // 2))


def skip_blank_and_footer(frame: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, dict[str, int]]:
    """Leave out rows with no value at all, and footer rows (合计, 制表人 … with most cells empty)."""
    if frame.height == 0:
        return frame, {}
    filled = pl.sum_horizontal([pl.col(c).str.strip_chars().fill_null("").ne("").cast(pl.Int32) for c in columns])
    first = pl.coalesce([pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c)) for c in columns])
    marks = frame.select((filled == 0).alias("blank"),
                         (first.str.strip_chars().str.contains(f"^{FOOTER_WORDS}").fill_null(False)
                          & (filled > 0) & (filled <= footer_filled(len(columns)))).alias("footer"))
    skipped = {k: int(marks[k].sum()) for k in ("blank", "footer") if marks[k].any()}
    return (frame.filter(~(marks["blank"] | marks["footer"])) if skipped else frame), skipped


@dataclass
class Batch:
    frame: pl.DataFrame
    progress: float | None  # 0..1 where the size is known
    # Rows the reader could not split into the header's fields: source columns, __line, __reason.
    rejected: pl.DataFrame | None = None
    # Rows left out on purpose, by kind: "blank", "footer", "title".
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class CsvOptions:
    encoding: str = "utf-8"
    delimiter: str = ","
    quote: str = '"'
    header_row: int = 1  # 1-based physical line of the header; 0: no header


# --------------------------------------------------------------------------- detection
def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030 (a superset of GBK and GB2312); anything else is refused."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Invalid(T("文件是 UTF-16 编码，请另存为 UTF-8 或 GBK 编码的 CSV 后再导入",
                        "The file is UTF-16; save it as a UTF-8 or GBK CSV and import it again"),
                      code="unsupported_encoding")
    if b"\x00" in sample:
        raise Invalid(T("文件含有二进制内容，不是文本 CSV 文件", "The file holds binary content; it is not a text CSV"),
                      code="not_text")
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    raise Invalid(T("无法识别文件的字符编码（支持 UTF-8、GBK/GB18030），请另存为 UTF-8 后再导入",
                    "The file's character encoding is not recognised (UTF-8 and GBK/GB18030 are supported); "
                    "save it as UTF-8 and import it again"), code="unknown_encoding")


def _normal_encoding(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    if name in ("gbk", "gb2312", "cp936"):
        return "gb18030"  # a superset: decodes every GBK file
    return name


def _decode(data: bytes, encoding: str, line_base: int) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = line_base + data.count(b"\n", 0, exc.start)
        raise Invalid(
            T("第 {line} 行附近的内容不是 {enc} 编码，请在导入选项中选择正确的编码（如 GBK）或把文件另存为 UTF-8",
              "Near line {line} the content is not {enc}; choose the right encoding (such as GBK) in the import "
              "options or save the file as UTF-8", line=line, enc=encoding.upper()),
            code="wrong_encoding", detail={"line": line}) from None


def _split_rows(text: str, delimiter: str, quote: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote))


def guess_header_row(rows: list[list[str]]) -> int:
    """The first row that looks like a header: nearly as many filled cells as the widest row.

    Title lines above the header (a report name, a merged cell in Excel) fill only one or two cells.
    """
    filled = [sum(1 for c in r if str(c).strip()) for r in rows]
    if not filled or max(filled) == 0:
        return 1
    widest = max(filled)
    for i, n in enumerate(filled):
        if n >= max(1, int(widest * 0.8)):
            return i + 1
    return 1


def guess_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the most lines into the same number (> 1) of fields."""
    from collections import Counter

    best, best_score = ",", (0, 0)
    for candidate in (",", "\t", ";", "|"):
        counts = [len(r) for r in _split_rows("\n".join(lines), candidate, '"') if r]
        if not counts:
            continue
        width, hits = Counter(counts).most_common(1)[0]
        score = (hits if width > 1 else 0, width)
        if score > best_score:
            best, best_score = candidate, score
    return best


def column_names(cells: list[Any]) -> list[str]:
    """Header cells as column names: trimmed, empty ones named 列N, repeats numbered."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        name = str(cell).strip() if cell is not None else ""
        name = name or f"列{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


def sniff_csv(path: Path, *, encoding: str | None = None, delimiter: str | None = None,
              header_row: int | None = None) -> CsvOptions:
    """Encoding, delimiter and header line from the first 64 KB, each overridable by the user."""
    with path.open("rb") as fh:
        sample = fh.read(SNIFF_BYTES)
    if not sample.strip():
        raise Invalid(T("文件是空的，没有可导入的内容", "The file is empty; there is nothing to import"),
                      code="empty_file")
    enc = _normal_encoding(encoding) if encoding else detect_encoding(sample)
    text = codecs.getincrementaldecoder(enc)(errors="replace").decode(sample, final=False)
    lines = text.splitlines()[:50]
    if len(sample) == SNIFF_BYTES and lines:
        lines = lines[:-1]  # the last line may be cut off
    if not delimiter:
        delimiter = guess_delimiter(lines[:50])
    if header_row is None:
        header_row = guess_header_row(_split_rows("\n".join(lines[:20]), delimiter, '"'))
    return CsvOptions(encoding=enc, delimiter=delimiter, quote='"', header_row=header_row)


# --------------------------------------------------------------------------- CSV
def _safe_cut(buffer: bytes, quote: bytes, carried_quotes: int) -> int:
    """End (exclusive) of the last complete record in ``buffer``: a newline outside quotes, or -1.

    In RFC 4180 CSV a newline is inside a quoted field exactly when an odd number of quote
    characters came before it. (GBK trail bytes are never ``"`` or ``\\n``, so this holds for GBK too.)
    """
    pos = buffer.rfind(b"\n")
    while pos >= 0:
        if (carried_quotes + buffer.count(quote, 0, pos)) % 2 == 0:
            return pos + 1
        pos = buffer.rfind(b"\n", 0, pos)
    return -1


class CsvReader:
    kind = "csv"

    def __init__(self, path: Path, options: CsvOptions, *, batch_rows: int | None = None,
                 max_cell_bytes: int = MAX_CELL_BYTES, block_bytes: int = BLOCK_BYTES) -> None:
        self.path = path
        self.options = options
        self.max_cell_bytes = max_cell_bytes
        self.block_bytes = block_bytes
        self.size = path.stat().st_size
        if self.size == 0:
            raise Invalid(T("文件是空的，没有可导入的内容", "The file is empty; there is nothing to import"),
                          code="empty_file")
        self.encoding = _normal_encoding(options.encoding)
        self.utf8 = self.encoding in ("utf-8", "utf-8-sig")
        self.titles = 0
        self.columns, self._data_start, self._first_line = self._read_header()
        self.label = path.name

    def _read_header(self) -> tuple[list[str], int, int]:
        """Parse lines up to the header; return column names, byte offset of the data, its line number."""
        with self.path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        offset = 3 if head.startswith(codecs.BOM_UTF8) else 0
        hr = self.options.header_row
        cut = offset
        for _ in range(max(hr, 0)):
            nl = head.find(b"\n", cut)
            if nl < 0:
                cut = len(head)
                break
            cut = nl + 1
        if hr <= 0:
            first = head[offset: head.find(b"\n", offset) if b"\n" in head[offset:] else len(head)]
            width = len(_split_rows(_decode(first, self.encoding, 1), self.options.delimiter, self.options.quote)[0])
            return [f"列{i + 1}" for i in range(width)], offset, 1
        above = head[offset:cut].split(b"\n")
        self.titles = sum(1 for raw in above[:hr - 1] if raw.strip(b" \r\t" + self.options.delimiter.encode()))
        header_bytes = above[hr - 1] if hr >= 1 else b""
        header_text = _decode(header_bytes, self.encoding, hr).rstrip("\r")
        rows = _split_rows(header_text, self.options.delimiter, self.options.quote)
        if not rows or not any(c.strip() for c in rows[0]):
            raise Invalid(T("第 {n} 行是空的，不能作为表头；请选择正确的表头行",
                            "Line {n} is empty and cannot be the header; choose the right header line", n=hr),
                          code="empty_header")
        if cut >= self.size and len(head) == self.size:
            raise Invalid(T("文件只有表头，没有数据行", "The file has a header but no data rows"), code="no_rows")
        return column_names(rows[0]), cut, hr + 1

    def _parse(self, chunk: bytes, line_base: int, *, utf8: bool = False) -> pl.DataFrame:
        data = chunk if self.utf8 or utf8 else _decode(chunk, self.encoding, line_base).encode("utf-8")
        try:
            frame = pl.read_csv(data, has_header=False, new_columns=self.columns, infer_schema=False,
                                separator=self.options.delimiter, quote_char=self.options.quote,
                                schema={c: pl.String for c in self.columns}, truncate_ragged_lines=False,
                                raise_if_empty=False)
        except pl.exceptions.ComputeError as exc:
            self._explain(chunk, line_base, exc)
            raise
        if frame.width != len(self.columns):
            self._explain(chunk, line_base, None)
        return frame

    def _explain(self, chunk: bytes, line_base: int, exc: Exception | None) -> None:
        """Turn a parser failure into a message naming the line."""
        if self.utf8:
            _decode(chunk, "utf-8", line_base)  # raises with the line if it is an encoding problem
        text = _decode(chunk, self.encoding, line_base)
        for i, row in enumerate(_split_rows(text, self.options.delimiter, self.options.quote)):
            if len(row) > len(self.columns):
                raise Invalid(
                    T("第 {line} 行有 {n} 个字段，比表头的 {m} 个多；请检查该行的分隔符和引号",
                      "Line {line} has {n} fields, more than the header's {m}; check that line's delimiters "
                      "and quotes", line=line_base + i, n=len(row), m=len(self.columns)),
                    code="ragged_row", detail={"line": line_base + i}) from exc
        raise Invalid(T("无法解析 CSV 文件（第 {line} 行之后）：{e}", "The CSV cannot be parsed (after line {line}): {e}",
                        line=line_base, e=str(exc)[:200]), code="bad_csv") from exc

    def _check_cells(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        widest = frame.select(pl.max_horizontal([pl.col(c).str.len_bytes() for c in self.columns]).alias("w"))["w"]
        at = widest.arg_max()  # None: every cell is empty
        if at is not None and widest[at] > self.max_cell_bytes:
            line = int(frame[LINE][at])
            raise TooLarge(T("第 {line} 行有一个单元格超过 {mb} MB，不能导入", "Line {line} has a cell larger than {mb} MB; "
                             "it cannot be imported", line=line, mb=round(self.max_cell_bytes / 1048576, 1)),
                           code="cell_too_large", detail={"line": line})

    def _records(self, data: bytes, line_base: int, quoted: bool) -> pl.DataFrame:
        """The chunk's records with the physical line each starts on (``__line``) and its text (``body``).

        ``data`` is the chunk as UTF-8. A record spans several lines when a quoted field holds a
        newline: a line continues the record while the quotes before it are unbalanced. All of it is
        column-wise polars work on the lines.
        """
        try:  # polars' own reader splits lines fastest; a unit separator in the data falls back to split
            lines = pl.read_csv(data, has_header=False, separator="\x1f", quote_char=None, raise_if_empty=False,
                                schema={"body": pl.String})["body"].fill_null("")
        except pl.exceptions.PolarsError:
            lines = pl.Series("body", [_decode(data, "utf-8", line_base)]).str.split("\n").explode()
            if data.endswith(b"\n"):
                lines = lines.head(len(lines) - 1)
        frame = pl.DataFrame({"body": lines}).with_row_index(LINE, offset=line_base) \
            .with_columns(pl.col(LINE).cast(pl.Int64))
        if quoted:
            quotes = pl.col("body").str.count_matches(self.options.quote, literal=True)
            frame = frame.with_columns((((quotes.cum_sum() - quotes) % 2) == 0).alias("__start"))
            if not frame["__start"].all():
                frame = frame.group_by(pl.col("__start").cum_sum().alias("__rec"), maintain_order=True) \
                    .agg(pl.col(LINE).first(), pl.col("body").str.join("\n")).drop("__rec")
            else:
                frame = frame.drop("__start")
        return frame.with_columns(pl.col("body").str.strip_chars_end("\r"))

    def _sort(self, records: pl.DataFrame, quoted: bool) -> pl.DataFrame:
        """Mark each record: ``__blank``, ``__footer``, the number of fields (``__width``).

        The costlier parts (fields outside quotes, filled cells) run only on the few records that need them.
        """
        delim, quote = self.options.delimiter, self.options.quote
        d, q = re.escape(delim), re.escape(quote)
        body = pl.col("body")
        width = len(self.columns)
        records = records.with_columns(
            (~body.str.contains(f"[^\\s{d}{q}]")).alias("__blank"),
            (body.str.count_matches(delim, literal=True) + 1).alias("__width"),
            body.str.contains(f"^[\\s{d}{q}]*{FOOTER_WORDS}").alias("__footer"))
        if quoted:  # a delimiter inside quotes is no field boundary
            has_quote = body.str.contains(quote, literal=True)
            records = records.with_columns(pl.when(has_quote).then(
                body.str.replace_all(f"{q}[^{q}]*{q}", "x").str.count_matches(delim, literal=True) + 1)
                .otherwise(pl.col("__width")).alias("__width"))
        if records["__footer"].any():
            filled = body.str.split(delim).list.eval(pl.element().str.strip_chars(f" \t{quote}") != "").list.sum()
            records = records.with_columns(pl.when(pl.col("__footer")).then(filled <= footer_filled(width))
                                           .otherwise(False).alias("__footer"))
        return records

    def _chunk(self, data: bytes, line_base: int) -> tuple[pl.DataFrame, pl.DataFrame | None, dict[str, int]]:
        """Parse one chunk (UTF-8): the rows to load, the rows with the wrong number of fields, what was skipped."""
        quoted = self.options.quote.encode() in data
        records = self._sort(self._records(data, line_base, quoted), quoted)
        width = len(self.columns)
        blank, footer = records["__blank"], records["__footer"] & ~records["__blank"]
        ragged = ~blank & ~footer & (records["__width"] != width)
        skipped = {k: int(v.sum()) for k, v in (("blank", blank), ("footer", footer)) if v.any()}
        rejected = None
        if ragged.any():
            bad = records.filter(ragged)
            rejected = pl.DataFrame({
                RAW_LINE: bad["body"], LINE: bad[LINE],
                REASON: [f"有 {n} 个字段，表头有 {width} 个：多了分隔符或逗号未加引号 / {n} fields where the header "
                         f"has {width}: a stray delimiter or an unquoted comma" if n > width else
                         f"有 {n} 个字段，表头有 {width} 个：缺少字段 / {n} fields where the header has {width}: "
                         "fields are missing"
                         for n in bad["__width"]]}, schema={RAW_LINE: pl.String, LINE: pl.Int64, REASON: pl.String})
        keep = ~blank & ~footer & ~ragged
        if keep.all():
            frame = self._parse(data, line_base, utf8=True)
        else:
            good = records.filter(keep)
            frame = self._parse(("\n".join(good["body"].to_list()) + "\n").encode("utf-8"), line_base, utf8=True) \
                if good.height else pl.DataFrame(schema={c: pl.String for c in self.columns})
            records = good
        if frame.height != records.height:
            raise Invalid(T("无法解析 CSV 文件（第 {line} 行之后）：引号不成对", "The CSV cannot be parsed (after line "
                            "{line}): unbalanced quotes", line=line_base), code="bad_csv", detail={"line": line_base})
        return frame.with_columns(records[LINE]), rejected, skipped

    def batches(self) -> Iterator[Batch]:
        quote = self.options.quote.encode()
        carried_quotes = 0
        line = self._first_line
        pending = b""
        total_rows = 0
        first = True
        with self.path.open("rb") as fh:
            fh.seek(self._data_start)
            done = self._data_start
            while True:
                block = fh.read(self.block_bytes)
                done += len(block)
                buffer = pending + block
                if not block:
                    chunk, pending = buffer, b""
                else:
                    cut = _safe_cut(buffer, quote, carried_quotes)
                    if cut < 0:
                        if len(buffer) > self.max_cell_bytes + self.block_bytes:
                            raise TooLarge(
                                T("第 {line} 行之后有一行超过 {mb} MB，不能导入（可能是超大单元格或引号未闭合）",
                                  "A line after line {line} is larger than {mb} MB and cannot be imported (a huge "
                                  "cell or an unclosed quote)", line=line, mb=round(self.max_cell_bytes / 1048576, 1)),
                                code="cell_too_large", detail={"line": line})
                        pending = buffer
                        continue
                    chunk, pending = buffer[:cut], buffer[cut:]
                carried_quotes = (carried_quotes + chunk.count(quote)) % 2
                if chunk:
                    data = chunk if self.utf8 else _decode(chunk, self.encoding, line).encode("utf-8")
                    frame, rejected, skipped = self._chunk(data, line)
                    if first and self.titles:
                        skipped["title"] = self.titles
                    first = False
                    self._check_cells(frame)
                    total_rows += frame.height + (rejected.height if rejected is not None else 0)
                    line += chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
                    yield Batch(frame.select([*self.columns, LINE]), min(1.0, done / max(self.size, 1)),
                                rejected=rejected, skipped=skipped)
                if not block:
                    break
        if total_rows == 0:
            raise Invalid(T("文件只有表头，没有数据行", "The file has a header but no data rows"), code="no_rows")


# --------------------------------------------------------------------------- Excel
def cell_text(value: Any) -> str | None:
    """A spreadsheet or database value as the text a person would type."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int) and abs(value) >= 10**15:
        # A spreadsheet number this long went through a float and lost its last digits (an ID
        # number typed into a number cell): shown as Excel shows it, so it is never taken for real.
        return repr(float(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes):
        return value.hex()
    text = str(value)
    return text if text.strip() else None


def check_xlsx_archive(path: Path) -> None:
    """Refuse a file that is not a real workbook or would inflate too far (a zip bomb)."""
    if not zipfile.is_zipfile(path):
        raise Invalid(T("文件不是有效的 Excel (.xlsx) 工作簿", "The file is not a valid Excel (.xlsx) workbook"),
                      code="bad_excel")
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        inflated = sum(i.file_size for i in infos)
        packed = max(sum(i.compress_size for i in infos), 1)
        if inflated > MAX_XLSX_INFLATED or (inflated > 10 * 1024 * 1024 and inflated / packed > MAX_XLSX_RATIO):
            raise TooLarge(
                T("Excel 文件解压后达 {mb} MB（压缩比 {r}:1），超出限制，疑似压缩炸弹，已拒绝",
                  "The Excel file would inflate to {mb} MB (ratio {r}:1), beyond the limit; it looks like a zip "
                  "bomb and was refused", mb=inflated // 1048576, r=inflated // packed),
                code="zip_bomb")
        if "[Content_Types].xml" not in {i.filename for i in infos}:
            raise Invalid(T("文件不是有效的 Excel (.xlsx) 工作簿", "The file is not a valid Excel (.xlsx) workbook"),
                          code="bad_excel")


def excel_sheets(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    if path.suffix.lower() != ".xls":
        check_xlsx_archive(path)
    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as exc:
        raise Invalid(T("无法打开 Excel 文件：{e}", "The Excel file cannot be opened: {e}", e=str(exc)[:200]),
                      code="bad_excel") from None


class ExcelReader:
    kind = "excel"

    def __init__(self, path: Path, *, sheet: str | None = None, header_row: int | None = None,
                 batch_rows: int = 50_000, max_cell_bytes: int = MAX_CELL_BYTES) -> None:
        from python_calamine import CalamineWorkbook

        self.path = path
        self.batch_rows = batch_rows
        if path.stat().st_size == 0:
            raise Invalid(T("文件是空的，没有可导入的内容", "The file is empty; there is nothing to import"),
                          code="empty_file")
        sheets = excel_sheets(path)
        if sheet and sheet not in sheets:
            raise Invalid(T("工作簿中没有名为“{s}”的工作表；现有：{all}", "The workbook has no sheet '{s}'; it has: {all}",
                            s=sheet, all="、".join(sheets)), code="no_sheet")
        self.sheet = sheet or sheets[0]
        try:
            rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(self.sheet).to_python(
                skip_empty_area=False)
        except Exception as exc:
            raise Invalid(T("无法读取工作表“{s}”：{e}", "Sheet '{s}' cannot be read: {e}", s=self.sheet,
                            e=str(exc)[:200]), code="bad_excel") from None
        while rows and not any(cell_text(c) for c in rows[-1]):
            rows.pop()
        if not rows:
            raise Invalid(T("工作表“{s}”是空的", "Sheet '{s}' is empty", s=self.sheet), code="empty_file")
        self.header_row = header_row or guess_header_row([[cell_text(c) or "" for c in r] for r in rows[:20]])
        header = rows[self.header_row - 1]
        self.titles = sum(1 for r in rows[:self.header_row - 1] if any(cell_text(c) for c in r))
        width = max(len(r) for r in rows)
        self.columns = column_names(list(header) + [None] * (width - len(header)))
        self._rows = rows[self.header_row:]
        if not self._rows:
            raise Invalid(T("工作表只有表头，没有数据行", "The sheet has a header but no data rows"), code="no_rows")
        self.max_cell_bytes = max_cell_bytes
        self.label = f"{path.name}#{self.sheet}"

    def batches(self) -> Iterator[Batch]:
        total = len(self._rows)
        width = len(self.columns)
        for start in range(0, total, self.batch_rows):
            part = self._rows[start:start + self.batch_rows]
            cols: list[list[str | None]] = [[] for _ in range(width)]
            for n, row in enumerate(part):
                for i in range(width):
                    text = cell_text(row[i]) if i < len(row) else None
                    # Excel cells hold at most 32,767 characters and parsers cut longer ones there:
                    # a cell at that limit was most likely cut, so it is refused rather than loaded short.
                    if text is not None and (len(text) >= EXCEL_CELL_LIMIT or (
                            len(text) * 3 > self.max_cell_bytes and len(text.encode("utf-8")) > self.max_cell_bytes)):
                        line = self.header_row + start + n + 1
                        raise TooLarge(T("第 {line} 行有一个单元格过大（超过 Excel 单元格上限或 {mb} MB），不能导入",
                                         "Line {line} has a cell that is too large (beyond Excel's cell limit or "
                                         "{mb} MB); it cannot be imported",
                                         line=line, mb=round(self.max_cell_bytes / 1048576, 1)),
                                       code="cell_too_large", detail={"line": line})
                    cols[i].append(text)
            frame = pl.DataFrame({name: pl.Series(name, values, dtype=pl.String)
                                  for name, values in zip(self.columns, cols, strict=True)})
            frame = frame.with_columns(pl.int_range(0, frame.height, dtype=pl.Int64).alias(LINE)
                                       + (self.header_row + start + 1))
            frame, skipped = skip_blank_and_footer(frame, self.columns)
            if start == 0 and self.titles:
                skipped["title"] = self.titles
            yield Batch(frame, min(1.0, (start + len(part)) / total), skipped=skipped)


# --------------------------------------------------------------------------- rows from Python records
def frame_from_records(records: list[dict] | list[tuple], columns: list[str], first_line: int) -> pl.DataFrame:
    data: dict[str, list[str | None]] = {c: [] for c in columns}
    for rec in records:
        if isinstance(rec, dict):
            for c in columns:
                data[c].append(cell_text(rec.get(c)))
        else:
            for c, v in zip(columns, rec, strict=False):
                data[c].append(cell_text(v))
    frame = pl.DataFrame({c: pl.Series(c, v, dtype=pl.String) for c, v in data.items()})
    return frame.with_columns((pl.int_range(0, frame.height, dtype=pl.Int64) + first_line).alias(LINE))


# How many fingerprints of the rows at the watermark a profile keeps; past this many rows sharing one
# cursor value, the ones not remembered are read again and the business key (upsert) keeps them single.
MAX_SEEN = 10_000


@dataclass
class Watermark:
    """Where an incremental load stopped: the highest cursor value loaded, and fingerprints of the rows
    loaded at that value (``seen``). The next run reads from the value inclusively, so a row written
    later with the same value is not lost, and leaves out the rows it already loaded."""

    column: str
    value: Any = None
    kind: str = "str"
    seen: list[str] | None = None  # None: a watermark from before inclusive reads (read strictly after it)

    def to_json(self) -> dict:
        value = self.value
        out: dict[str, Any] = {"column": self.column}
        if isinstance(value, datetime):
            out |= {"value": value.isoformat(), "kind": "datetime"}
        elif isinstance(value, date):
            out |= {"value": value.isoformat(), "kind": "date"}
        elif isinstance(value, Decimal):
            out |= {"value": str(value), "kind": "decimal"}
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out |= {"value": value, "kind": type(value).__name__}
        else:
            out |= {"value": None if value is None else str(value), "kind": "str"}
        if self.seen is not None:
            out["seen"] = self.seen[:MAX_SEEN]
        return out

    @classmethod
    def from_json(cls, data: dict | None, column: str) -> Watermark:
        if not data or data.get("column") != column or data.get("value") is None:
            return cls(column)
        kind, value = data.get("kind", "str"), data["value"]
        if kind == "datetime":
            value = datetime.fromisoformat(value)
        elif kind == "date":
            value = date.fromisoformat(value)
        elif kind == "decimal":
            value = Decimal(value)
        seen = data.get("seen")
        return cls(column, value, kind, list(seen) if isinstance(seen, list) else None)


@dataclass
class SourceState:
    """What a run learned about its source that the profile keeps (the incremental watermark)."""

    watermark: Watermark | None = None


# --------------------------------------------------------------------------- database
def field_type(sql_type: Any) -> dict[str, Any]:
    """The field type a source column declares (INT, DATE, DATETIME, NUMERIC …), as a mapping guess;
    empty when it says nothing more than text."""
    from sqlalchemy import types as sat

    if isinstance(sql_type, sat.Boolean):
        return {"type": "boolean"}
    if isinstance(sql_type, sat.DateTime):
        return {"type": "datetime"}
    if isinstance(sql_type, sat.Date):
        return {"type": "date"}
    if isinstance(sql_type, sat.BigInteger):
        return {"type": "bigint"}
    if isinstance(sql_type, sat.Integer):
        return {"type": "integer"}
    if isinstance(sql_type, sat.Float):
        return {"type": "float"}
    if isinstance(sql_type, sat.Numeric):
        return {"type": "decimal"}
    if isinstance(sql_type, sat.String) and not isinstance(sql_type, sat.Text) and sql_type.length:
        return {"type": "string", "length": sql_type.length}
    return {}


def value_types(columns: list[str], records: list[tuple]) -> dict[str, dict[str, Any]]:
    """Field types from a query's values (the driver's datetime, date, Decimal, int …), for the first
    mapping guess of a SELECT, whose columns declare no types; text says nothing more."""
    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(columns):
        value = next((r[i] for r in records if r[i] is not None), None)
        if isinstance(value, bool):
            out[name] = {"type": "boolean"}
        elif isinstance(value, datetime):
            out[name] = {"type": "datetime"}
        elif isinstance(value, date):
            out[name] = {"type": "date"}
        elif isinstance(value, int):
            out[name] = {"type": "bigint" if any(isinstance(r[i], int) and abs(r[i]) > 2**31 - 1 for r in records)
                         else "integer"}
        elif isinstance(value, Decimal):
            out[name] = {"type": "decimal"}
        elif isinstance(value, float):
            out[name] = {"type": "float"}
        else:
            out[name] = {}
    return out


def check_select(sql: str, *, dialect: str | None = None) -> str:
    """A source query must be one read-only SELECT (parsed by sqlglot, never trusted as text)."""
    from pbshare.collect.sqlcheck import parse_read_only

    return parse_read_only(sql, dialect=dialect).sql(dialect=dialect)


# The database refused the login (PostgreSQL 28P01/28000, MySQL/MariaDB 1044/1045/1698), in its own words.
_LOGIN_REFUSED = re.compile(r"password authentication failed|authentication failed|access denied for user|"
                            r"role \S+ does not exist|is not permitted to log in|no pg_hba\.conf entry", re.I)
_LOGIN_CODES = {1044, 1045, 1698}
# The server could not be reached at all.
_UNREACHABLE = re.compile(r"connection refused|could not translate host|can't connect|could not connect|"
                          r"name or service not known|unknown (mysql )?server host|no route to host|timed out|"
                          r"timeout expired|server closed the connection", re.I)


def database_says(exc: BaseException) -> str:
    """The database's own message for ``exc`` (not SQLAlchemy's wrapper with the statement), one line,
    secrets scrubbed."""
    from pbshare.core.logs import scrub

    orig = getattr(exc, "orig", None) or exc
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    pymysql = len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str)  # (1054, "Unknown …")
    text = args[1] if pymysql else str(orig)
    text = " ".join(text.split()) if text.strip() else type(orig).__name__
    text = re.sub(r"\s*\(Background on this error at: \S+\)", "", text)
    text = re.sub(r"\s*\[SQL: .*$", "", text)
    return scrub(text)[:400]


def source_error(exc: BaseException, source: str) -> Invalid:
    """What went wrong talking to a source database, as a 422 with the database's own message: a login
    it refused, a server it could not reach, or a table, column or query it did not accept."""
    said = database_says(exc)
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "args", (None,))[0] if getattr(orig, "args", None) else None
    if (isinstance(code, int) and code in _LOGIN_CODES) or _LOGIN_REFUSED.search(said):
        return Invalid(T("登录被拒绝：数据源“{s}”的数据库拒绝了登录，请在“目录与元数据管理 → 数据源”中检查它的用户名和密码（数据库返回：{e}）",
                         "Login refused by the database: check the user name and password of source '{s}' under "
                         "Catalog & metadata admin → Data sources (the database said: {e})", s=source, e=said),
                       code="source_login_refused", detail={"source": source, "database_message": said})
    if _UNREACHABLE.search(said):
        return Invalid(T("无法连接数据源“{s}”的数据库，请检查它的地址、端口和网络（{e}）",
                         "The database of source '{s}' cannot be reached; check its host, port and the network ({e})",
                         s=source, e=said),
                       code="source_unreachable", detail={"source": source, "database_message": said})
    return Invalid(T("数据源“{s}”的数据库报错：{e}。请检查表名、字段名或查询语句",
                     "The database of source '{s}' answered with an error: {e}. Check the table, the column names "
                     "or the query", s=source, e=said),
                   code="source_query_failed", detail={"source": source, "database_message": said})


def _before(value: Any, mark: Any) -> bool:
    """Whether a cursor value is below the watermark (read only where whole seconds are compared)."""
    try:
        return value is not None and value < mark
    except TypeError:
        return False


def _default_fingerprint(texts: list[str]) -> list[str]:
    import hashlib

    return [hashlib.sha256(t.encode("utf-8")).hexdigest()[:32] for t in texts]


class DatabaseReader:
    """A table or a SELECT on another database, streamed in batches; incremental by a cursor column.

    Incremental reads start AT the watermark (``cursor >= value``), not after it: a row written later
    with the same cursor value as the last one loaded (two updates in one second) is read. The rows
    this profile already loaded at that value are recognised by their fingerprints and skipped
    (``skipped["already_loaded"]``); a row changed in place keeps its business key, so upsert
    replaces it rather than adding it twice.
    """

    kind = "database"

    def __init__(self, engine: Engine, *, table: str | None = None, query: str | None = None,
                 cursor_column: str | None = None, watermark: Watermark | None = None,
                 batch_rows: int = 50_000, label: str = "database", limits: QueryLimits | None = None,
                 source_name: str | None = None,
                 fingerprint: Callable[[list[str]], list[str]] | None = None) -> None:
        from sqlalchemy import MetaData, String, Table, bindparam, func, literal_column, select, text
        from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

        from pbshare.core.userquery import QueryLimits

        if not table and not query:
            raise Invalid(T("请填写源表名或查询语句", "Give a source table or a query"), code="no_source_table")
        self.engine = engine
        self.batch_rows = batch_rows
        self.source_name = source_name or label
        self.fingerprint = fingerprint or _default_fingerprint
        # The source's declared types (a table's reflected columns), for the first mapping guess.
        self.column_types: dict[str, dict[str, Any]] = {}
        preparer = engine.dialect.identifier_preparer
        cursor: ColumnElement[Any] | None
        if table:
            schema, _, name = table.rpartition(".")
            try:
                source = Table(name, MetaData(), schema=schema or None, autoload_with=engine)
            except NoSuchTableError:
                raise Invalid(T("源数据库中找不到表 {t}，请检查表名（在“目录与元数据管理 → 数据源”中采集后可查看它的表）",
                                "The source database has no table {t}; check the name (harvest the source under "
                                "Catalog & metadata admin → Data sources to see its tables)", t=table),
                              code="no_source_table") from None
            except SQLAlchemyError as exc:  # a refused login, an unreachable server …: not "no table"
                raise source_error(exc, self.source_name) from None
            stmt = select(source)
            self.column_types = {c.name: field_type(c.type) for c in source.c}
            cursor = source.c[cursor_column] if cursor_column and cursor_column in source.c else None
            if cursor_column and cursor is None:
                raise Invalid(T("源表没有增量字段 {c}", "The source table has no cursor column {c}", c=cursor_column),
                              code="no_cursor_column")
        else:
            clean = check_select(query or "", dialect=engine.dialect.name if engine.dialect.name != "postgresql"
                                 else "postgres")
            stmt = select(literal_column("*")).select_from(text(f"({clean}) AS src"))
            cursor = literal_column(f"src.{preparer.quote(cursor_column)}") if cursor_column else None
        self.watermark = watermark or (Watermark(cursor_column) if cursor_column else None)
        if cursor is not None:
            wm = self.watermark
            if wm and wm.value is not None:
                param = bindparam("wm", wm.value, type_=cursor.type if table else None)
                if wm.seen is None:  # kept before reads became inclusive: it knows no rows at its value
                    stmt = stmt.where(cursor > param)
                elif engine.dialect.name == "sqlite" and isinstance(wm.value, datetime):
                    # SQLite keeps times as text, with or without fractions depending on who wrote them:
                    # compare whole seconds (rows earlier in that second are left out below).
                    stmt = stmt.where(func.datetime(cursor) >= func.datetime(
                        bindparam("wm", wm.value.strftime("%Y-%m-%d %H:%M:%S"), type_=String())))
                else:
                    stmt = stmt.where(cursor >= param)
            stmt = stmt.order_by(cursor)
        self.stmt = stmt
        self.label = label
        self.cursor_column = cursor_column
        self.columns: list[str] = []
        self.state = SourceState(watermark=self.watermark)
        # the source's own database is read within the query limits, read-only (docs/collect.md)
        self.limits = limits or QueryLimits(seconds=60.0, max_rows=5_000_000, max_memory_mb=256)

    def batches(self) -> Iterator[Batch]:
        from sqlalchemy.exc import SQLAlchemyError

        from pbshare.core.errors import AppError
        from pbshare.core.userquery import explain, limited

        try:
            with self.engine.connect() as conn, conn.begin(), limited(conn, self.limits) as stop:
                try:
                    yield from self._batches(conn, stop)
                except AppError:
                    raise
                except Exception as exc:
                    stopped = explain(exc, stop, self.limits)
                    if stopped is not None:
                        raise stopped from None
                    if isinstance(exc, SQLAlchemyError):
                        raise source_error(exc, self.source_name) from None
                    raise
        except SQLAlchemyError as exc:  # connecting (a refused login) or ending the transaction
            raise source_error(exc, self.source_name) from None

    def _prints(self, rows: list[tuple]) -> list[str]:
        """Keyed fingerprints of whole rows (their text as imported), to know a row loaded before."""
        texts = ["row\x1f" + "\x1f".join("\x00" if v is None else (cell_text(v) or "") for v in r) for r in rows]
        return self.fingerprint(texts)

    def _batches(self, conn: Any, stop: Stop) -> Iterator[Batch]:
        from pbshare.core.userquery import too_many_rows

        line, rows_read = 1, 0
        result = conn.execution_options(stream_results=True, yield_per=self.batch_rows).execute(self.stmt)
        self.columns = list(result.keys())
        start = self.watermark if self.cursor_column else None
        # Rows at the starting watermark that this profile loaded before are left out.
        mark = start.value if start is not None and start.value is not None and start.seen else None
        loaded_at_mark = set(start.seen or []) if start is not None and mark is not None else set()
        top = start.value if start is not None else None
        top_seen: list[str] = list(start.seen or []) if start is not None else []
        idx = self.columns.index(self.cursor_column) if self.cursor_column in self.columns else -1
        for part in result.partitions(self.batch_rows):
            rows_read += len(part)
            if rows_read > self.limits.max_rows:
                raise too_many_rows(self.limits)
            records = [tuple(r) for r in part]
            if not self.column_types:  # a SELECT declares no types: its values' Python types tell them
                self.column_types = value_types(self.columns, records)
            numbers = list(range(line, line + len(records)))
            line += len(records)
            skipped: dict[str, int] = {}
            if idx >= 0 and mark is not None:
                at = [i for i, r in enumerate(records) if r[idx] == mark]
                drop = {i for i, p in zip(at, self._prints([records[i] for i in at]), strict=True)
                        if p in loaded_at_mark} | {i for i, r in enumerate(records) if _before(r[idx], mark)}
                if drop:
                    records = [r for i, r in enumerate(records) if i not in drop]
                    numbers = [n for i, n in enumerate(numbers) if i not in drop]
                    skipped["already_loaded"] = len(drop)
            if idx >= 0 and records:
                batch_top = max((r[idx] for r in records if r[idx] is not None), default=None)
                if batch_top is not None and (top is None or batch_top > top):
                    top, top_seen = batch_top, []
                if batch_top is not None and batch_top == top:
                    known = set(top_seen)
                    top_seen += [p for p in self._prints([r for r in records if r[idx] == top]) if p not in known]
                self.state.watermark = Watermark(self.cursor_column or "", top, seen=top_seen[:MAX_SEEN])
            frame = frame_from_records(records, self.columns, 1)
            if records:
                frame = frame.with_columns(pl.Series(LINE, numbers, dtype=pl.Int64))
            yield Batch(frame, None, skipped=skipped)
            stop.renew(self.limits.seconds)  # the time limit is per fetch, as PostgreSQL's statement_timeout


# --------------------------------------------------------------------------- REST API
class ApiReader:
    """A JSON API returning pages of records: ``?page=N&size=M`` until a short or empty page."""

    kind = "api"

    def __init__(self, url: str, *, records_path: str = "", page_param: str = "page", size_param: str = "size",
                 page_size: int = 500, start_page: int = 1, headers: dict[str, str] | None = None,
                 max_pages: int = 10_000, timeout: float = 30.0, max_page_bytes: int = 20 * 1024 * 1024) -> None:
        if not url.startswith(("http://", "https://")):
            raise Invalid(T("接口地址必须以 http:// 或 https:// 开头", "The API address must start with http:// or https://"),
                          code="bad_url")
        self.url = url
        self.records_path = [p for p in records_path.split(".") if p]
        self.page_param, self.size_param, self.page_size = page_param, size_param, page_size
        self.start_page, self.headers, self.max_pages = start_page, headers or {}, max_pages
        self.timeout, self.max_page_bytes = timeout, max_page_bytes
        self.columns: list[str] = []
        self.label = url.split("?")[0][:300]

    def _records(self, body: Any) -> list[dict]:
        for part in self.records_path:
            body = body.get(part) if isinstance(body, dict) else None
        if body is None:
            return []
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            raise Invalid(T("接口返回的不是记录列表（请检查“记录路径”）", "The API did not return a list of records "
                            "(check the records path)"), code="bad_api_body")
        return body

    def _page(self, client, page: int) -> list[dict]:
        import httpx

        params = {self.page_param: page, self.size_param: self.page_size}
        try:
            with client.stream("GET", self.url, params=params, headers=self.headers) as res:
                if res.status_code >= 400:
                    raise Invalid(T("接口返回错误 {s}（第 {p} 页）", "The API answered {s} (page {p})", s=res.status_code,
                                    p=page), code="api_error")
                data = b""
                for piece in res.iter_bytes():
                    data += piece
                    if len(data) > self.max_page_bytes:
                        raise TooLarge(T("接口单页内容超过 {mb} MB", "An API page is larger than {mb} MB",
                                         mb=self.max_page_bytes // 1048576), code="api_page_too_large")
        except httpx.HTTPError as exc:
            raise Invalid(T("无法访问接口：{e}", "The API cannot be reached: {e}", e=type(exc).__name__),
                          code="api_unreachable") from None
        try:
            return self._records(json.loads(data))
        except ValueError:
            raise Invalid(T("接口返回的不是 JSON（第 {p} 页）", "The API did not return JSON (page {p})", p=page),
                          code="bad_api_body") from None

    def batches(self) -> Iterator[Batch]:
        import httpx

        line = 1
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            for n in range(self.max_pages):
                records = self._page(client, self.start_page + n)
                if not records:
                    break
                for rec in records:
                    for key in rec:
                        if key not in self.columns:
                            self.columns.append(key)
                frame = frame_from_records(records, self.columns, line)
                line += frame.height
                yield Batch(frame, None)
                if len(records) < self.page_size:
                    break
