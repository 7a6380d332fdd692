"""Source columns → target fields with per-column conversions, all as polars expressions.

One ``select`` converts a whole batch: trim, case, value maps (code tables), defaults, dates in many
shapes (2023年1月2日, 20230102, 2023/1/2 …), numbers with separators and units (1,234.50元),
resident ID normalisation (x → X, 15 → 18 digits) and validity. Each field also yields a reason
where its value failed, so a batch splits into rows to load and rows to quarantine in one filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl
from pydantic import BaseModel, Field, field_validator

from pbshare.collect.readers import LINE
from pbshare.core.dynamic import COLUMN_TYPES, safe_identifier
from pbshare.quality import checks

REASON = "__reason"
YEARMONTH = "yearmonth"  # 2023年1月, 2023-01, 202301, 2023/1 → stored as text "2023-01"
DATE_FORMATS = ["%Y-%m-%d", "%Y%m%d"]
DATETIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f",
                    "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S", "%Y%m%d %H:%M:%S"]
TRUE_WORDS = ["1", "true", "t", "yes", "y", "是", "有", "对", "√"]
FALSE_WORDS = ["0", "false", "f", "no", "n", "否", "无", "错", "×"]
NUMBER_NOISE = r"[,，\s¥￥$元%]|人民币|RMB|CNY"


class FieldMap(BaseModel):
    """One target field and how to fill it from the source."""

    target: str = Field(max_length=63, description="target column (lower-case identifier)")
    source: str | None = Field(None, max_length=200, description="source column; empty: default only")
    title: str | None = Field(None, max_length=200, description="display name, e.g. the Chinese header")
    type: str = "string"
    length: int | None = Field(None, ge=1, le=65535)
    required: bool = False
    pii: bool = False
    id_kind: str | None = Field(None, description="cn_ric (resident ID), uscc, phone")
    trim: bool = True
    case: str | None = Field(None, pattern="^(upper|lower)$")
    formats: list[str] = Field(default_factory=list, description="extra date/time formats, strftime style")
    value_map: dict[str, str] = Field(default_factory=dict, description="code table: source value → stored value")
    map_strict: bool = False
    default: str | None = None

    @field_validator("target")
    @classmethod
    def _target(cls, v: str) -> str:
        return safe_identifier(v, what="target")

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        if v != YEARMONTH and (v not in COLUMN_TYPES or v == "json"):
            raise ValueError(f"unsupported type {v}")
        return v


@dataclass
class Converted:
    good: pl.DataFrame  # target columns in mapping order, plus __line
    bad: pl.DataFrame  # the source columns as read, plus __line and __reason
    reasons: dict[str, int]  # how many bad rows failed each check


def _clean_text(raw: pl.Expr, f: FieldMap) -> pl.Expr:
    v = raw.cast(pl.String)
    if f.trim:
        v = v.str.strip_chars()
    v = pl.when(v == "").then(None).otherwise(v)
    if f.case == "upper":
        v = v.str.to_uppercase()
    elif f.case == "lower":
        v = v.str.to_lowercase()
    return v


def _parse_dates(v: pl.Expr, formats: list[str], dtype) -> pl.Expr:
    # 2023年1月2日 / 2023/1/2 / 2023.1.2 all become 2023-1-2; chrono accepts unpadded months and days.
    normal = v.str.replace_all(r"[年月/.]", "-").str.replace_all(r"[日号]", "").str.replace_all(r"[时点分]", ":") \
        .str.replace_all(r"秒", "").str.strip_chars(" :-")
    tries = []
    for fmt in formats:
        target = v if re.search(r"[年月日/.]", fmt) else normal
        tries.append(target.str.strptime(dtype, fmt, strict=False))
    return pl.coalesce(tries)


NUMBER_RE = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def _number_text(v: pl.Expr) -> pl.Expr:
    cleaned = v.str.replace_all(NUMBER_NOISE, "")
    return pl.when(cleaned.str.contains(NUMBER_RE)).then(cleaned).otherwise(None)


def _year_month(v: pl.Expr) -> pl.Expr:
    """2023年1月, 2023-01, 2023/1, 2023.01, 202301 → "2023-01"; null where it is no month."""
    n = v.str.replace_all(r"[年/.]", "-").str.replace_all("月", "").str.strip_chars(" -")
    n = pl.when(n.str.contains(r"^[0-9]{6}$")).then(n.str.slice(0, 4) + "-" + n.str.slice(4, 2)).otherwise(n)
    year = n.str.extract(r"^((?:19|20)[0-9]{2})-([0-9]{1,2})$", 1)
    month = n.str.extract(r"^((?:19|20)[0-9]{2})-([0-9]{1,2})$", 2).cast(pl.Int32, strict=False)
    return pl.when(month.is_between(1, 12)).then(year + "-" + month.cast(pl.String).str.zfill(2)).otherwise(None)


Stages = list[list[pl.Expr]]
Problem = tuple[pl.Expr, str]  # (true where the row fails, the reason shown to the user)


def _problem(failed: pl.Expr, text: str) -> Problem:
    return failed, text


def field_plan(f: FieldMap, i: int, source_columns: list[str], *,
               has15: bool = True) -> tuple[Stages, list[Problem], list[tuple]]:
    """Staged expressions for one field and its failure reasons.

    Each stage is one ``with_columns`` over the batch and refers only to columns made by earlier
    stages, so no sub-expression is evaluated twice (a nested tree re-computes shared parts: the
    resident-ID check digit alone would cost 17 × 17 slices per value).
    """
    label = f.title or f.target
    raw_name, given_name, value_name = f"__r{i}", f"__g{i}", f"__v{i}"
    raw, given = pl.col(raw_name), pl.col(given_name)
    stages: Stages = [[] for _ in range(5)]
    problems: list[Problem] = []
    # (value column, slower expression): tried only when the fast form left a given value unconverted
    fallbacks: list[tuple[str, pl.Expr, pl.Expr]] = []
    source = pl.col(f.source) if f.source and f.source in source_columns else pl.lit(None, dtype=pl.String)
    stages[0].append(_clean_text(source, f).alias(raw_name))
    v = raw
    if f.value_map:
        keys, values = list(f.value_map), list(f.value_map.values())
        mapped = raw.replace_strict(keys, values, default=None, return_dtype=pl.String)
        if f.map_strict:
            allowed = "、".join(keys[:20]) + ("…" if len(keys) > 20 else "")
            problems.append(_problem(raw.is_not_null() & given.is_null(),
                                     f"{label}：代码表中没有该值，允许的值：{allowed} / {f.target}: value not in the "
                                     f"code table; allowed: {allowed.replace('、', ', ')}"))
            v = mapped
        else:
            v = pl.coalesce([mapped, raw])
    if f.default is not None:
        v = v.fill_null(pl.lit(f.default))
    if f.id_kind == "cn_ric":
        v = v.str.to_uppercase()
    elif f.id_kind == "phone":
        v = v.str.replace_all(r"[\s-]", "")
    stages[1].append(v.alias(given_name))
    text = given
    as_number = pl.lit(False)
    if f.id_kind in ("cn_ric", "uscc"):
        # 4.40305E+17, 4.403e+17, 440305199001011000.0: the file kept the ID as a number, digits are lost.
        as_number = given.str.contains(r"^[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+$|^[0-9]+\.[0-9]+$").fill_null(False)
        what = "身份证号" if f.id_kind == "cn_ric" else "统一社会信用代码"
        problems.append(_problem(as_number, f"{label}：文件把{what}存成了数字（如 4.40305E+17），后几位已丢失；请在 Excel 中"
                                            f"把该列设置为“文本”格式，重新填写或导出后再导入 / {f.target}: the file stored "
                                            "the ID as a number (like 4.40305E+17) and its last digits are lost; in "
                                            "Excel format the column as Text, re-enter or re-export it and import again"))
    if f.id_kind == "uscc":
        problems.append(_problem(text.is_not_null() & ~as_number & checks.uscc_invalid(text),
                                 f"{label}：统一社会信用代码无效 / {f.target}: invalid unified social credit code"))
    if f.id_kind == "cn_ric":
        first17, check = f"__f{i}", f"__d{i}"
        if has15:
            # 15-digit numbers (issued before 1999) get "19" and a check digit: 18 digits.
            is15 = given.str.contains(r"^[0-9]{15}$")
            stages[2].append(pl.when(is15).then(given.str.slice(0, 6) + pl.lit("19") + given.str.slice(6, 9))
                             .otherwise(given.str.slice(0, 17)).alias(first17))
            stages[3].append(checks.ric_check_digit(pl.col(first17)).alias(check))
            text_name = f"__n{i}"
            stages[4].append(pl.when(is15).then(pl.col(first17) + pl.col(check)).otherwise(given).alias(text_name))
            text = pl.col(text_name)
        else:
            stages[2].append(given.str.slice(0, 17).alias(first17))
            stages[3].append(checks.ric_check_digit(pl.col(first17)).alias(check))
        # The check digit needs 17 digits already; the date parse checks month and day.
        shape_ok = text.str.contains(r"^[1-9][0-9]{16}[0-9X]$") & text.str.slice(6, 2).is_in(["18", "19", "20"])
        born_ok = text.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False).is_not_null()
        check_ok = text.str.slice(17, 1) == pl.col(check)
        problems.append(_problem(text.is_not_null() & ~as_number & ~(shape_ok & born_ok & check_ok).fill_null(False),
                                           f"{label}：身份证号码无效 / {f.target}: invalid resident ID number"))
    value_stage: list[pl.Expr] = []
    out_col = pl.col(value_name)
    if f.type in ("string", "text", "enum"):
        value_stage.append(text.alias(value_name))
        if f.length:
            problems.append(_problem(checks.too_long(out_col, f.length),
                                               f"{label}：超过 {f.length} 个字符 / {f.target}: longer than {f.length}"))
    elif f.type in ("integer", "bigint"):
        number = _number_text(text)
        value_stage.append(text.cast(pl.Int64, strict=False).alias(value_name))
        fallbacks.append((value_name, pl.when(number.str.contains(r"^[+-]?[0-9]+(\.0*)?$"))
                          .then(number.str.replace(r"\.0*$", "")).otherwise(None).cast(pl.Int64, strict=False), text))
        problems.append(_problem(checks.failed_conversion(given, out_col),
                                 f"{label}：不是整数 / {f.target}: not a whole number"))
    elif f.type == "float":
        value_stage.append(text.cast(pl.Float64, strict=False).alias(value_name))
        fallbacks.append((value_name, _number_text(text).cast(pl.Float64, strict=False), text))
        problems.append(_problem(checks.failed_conversion(given, out_col),
                                 f"{label}：不是数字 / {f.target}: not a number"))
    elif f.type == "decimal":
        # Kept as exact text: PostgreSQL parses it into NUMERIC, SQLite stores the number.
        value_stage.append(pl.when(text.str.contains(NUMBER_RE)).then(text).otherwise(None).alias(value_name))
        fallbacks.append((value_name, _number_text(text), text))
        problems.append(_problem(checks.failed_conversion(given, out_col),
                                 f"{label}：不是数字 / {f.target}: not a number"))
    elif f.type == "date":
        formats = f.formats + DATE_FORMATS
        value_stage.append(text.str.strptime(pl.Date, formats[0], strict=False).alias(value_name))
        fallbacks.append((value_name, _parse_dates(text, formats, pl.Date), text))
        problems.append(_problem(checks.failed_conversion(given, out_col),
                                 f"{label}：无法识别的日期 / {f.target}: unrecognised date"))
    elif f.type == "datetime":
        formats = f.formats + DATETIME_FORMATS
        out = pl.coalesce([_parse_dates(text, formats, pl.Datetime("us")),
                           _parse_dates(text, DATE_FORMATS, pl.Date).cast(pl.Datetime("us"))])
        # Times in delivered files are Beijing time.
        value_stage.append(text.str.strptime(pl.Datetime("us"), formats[0], strict=False)
                           .dt.replace_time_zone("Asia/Shanghai").alias(value_name))
        fallbacks.append((value_name, out.dt.replace_time_zone("Asia/Shanghai"), text))
        problems.append(_problem(checks.failed_conversion(given, out_col),
                                 f"{label}：无法识别的日期时间 / {f.target}: unrecognised date-time"))
    elif f.type == YEARMONTH:
        value_stage.append(_year_month(text).alias(value_name))
        problems.append(_problem(checks.failed_conversion(given, out_col),
                                 f"{label}：无法识别的年月 / {f.target}: unrecognised year and month"))
    elif f.type == "boolean":
        low = text.str.to_lowercase()
        value_stage.append(pl.when(low.is_in(TRUE_WORDS)).then(True).when(low.is_in(FALSE_WORDS)).then(False)
                           .otherwise(None).alias(value_name))
        problems.append(_problem(checks.failed_conversion(given, out_col),
                                           f"{label}：不是“是/否” / {f.target}: not yes/no"))
    else:  # pragma: no cover - FieldMap validates types
        value_stage.append(text.alias(value_name))
    stages.append(value_stage)
    if f.required:
        # Only when nothing was given: a value that failed a check already has its own reason.
        problems.append(_problem(checks.missing(given) & checks.missing(raw),
                                 f"{label}：必填但为空 / {f.target}: required but empty"))
    return stages, problems, fallbacks


FAILED = "__failed"


def _has15(frame: pl.DataFrame, f: FieldMap) -> bool:
    """Whether a resident-ID column holds any 15-digit number (most batches have none: skip that work)."""
    if f.id_kind != "cn_ric" or not f.source or f.source not in frame.columns:
        return False
    return bool(frame.select(pl.col(f.source).str.len_bytes().is_between(15, 17).any()).item())


def score(frame: pl.DataFrame, mapping: list[FieldMap], *, key: list[str] | None = None,
          explain: bool = True) -> pl.DataFrame:
    """Every row with its converted values (``__v0`` …), ``__failed``, and (``explain``) ``__reason``."""
    source_columns = [c for c in frame.columns if c != LINE]
    plans = [field_plan(f, i, source_columns, has15=_has15(frame, f)) for i, f in enumerate(mapping)]
    staged = frame
    for level in range(max(len(p[0]) for p in plans) if plans else 0):
        exprs = [e for stages, _, _ in plans if level < len(stages) for e in stages[level]]
        if exprs:
            staged = staged.with_columns(exprs)
    for _, _, fallbacks in plans:
        for value_name, slow, text in fallbacks:
            missed = staged.select((pl.col(value_name).is_null() & text.is_not_null()).any()).item()
            if missed:
                staged = staged.with_columns(pl.coalesce([pl.col(value_name), slow]).alias(value_name))
    problems = [p for _, why, _ in plans for p in why]
    index = {f.target: i for i, f in enumerate(mapping)}
    for k in key or []:
        if k in index and not mapping[index[k]].required:  # a required field says "required but empty" itself
            i = index[k]
            problems.append(_problem(pl.col(f"__g{i}").is_null() & pl.col(f"__r{i}").is_null(),
                                     f"{k}：业务主键为空 / {k}: business key is empty"))
    flags = [flag.fill_null(False).alias(f"__p{j}") for j, (flag, _) in enumerate(problems)]
    staged = staged.with_columns(flags).with_columns(
        (pl.any_horizontal([pl.col(f"__p{j}") for j in range(len(problems))]) if problems else pl.lit(False))
        .alias(FAILED))
    return explained(staged, problems) if explain else staged


def explained(staged: pl.DataFrame, problems: list[Problem] | None = None,
              texts: list[str] | None = None) -> pl.DataFrame:
    """Add ``__reason``: the joined texts of the failed checks ``__p0`` … (null where none failed)."""
    texts = texts if texts is not None else [t for _, t in problems or []]
    parts = [checks.reason_when(pl.col(f"__p{j}"), t) for j, t in enumerate(texts)]
    return staged.with_columns(checks.reasons(parts).alias(REASON))


def convert(frame: pl.DataFrame, mapping: list[FieldMap], *, key: list[str] | None = None) -> Converted:
    """Convert one batch; rows with any problem go to ``bad`` with their source values untouched.

    Reasons are written out only for the bad rows: joining texts over every row costs time for nothing.
    """
    source_columns = [c for c in frame.columns if c != LINE]
    plans = [field_plan(f, i, source_columns) for i, f in enumerate(mapping)]
    texts = [t for _, why, _ in plans for _, t in why]
    index = {f.target: i for i, f in enumerate(mapping)}
    texts += [f"{k}：业务主键为空 / {k}: business key is empty" for k in key or []
              if k in index and not mapping[index[k]].required]
    staged = score(frame, mapping, key=key, explain=False)
    good = staged.filter(~pl.col(FAILED)).select([pl.col(f"__v{i}").alias(f.target) for i, f in enumerate(mapping)]
                                                 + [pl.col(LINE)])
    bad_rows = staged.filter(pl.col(FAILED))
    reasons: dict[str, int] = {}
    if bad_rows.height and texts:
        counts = bad_rows.select([pl.col(f"__p{j}").sum() for j in range(len(texts))]).row(0)
        reasons = {text: int(n) for text, n in zip(texts, counts, strict=True) if n}
    bad = explained(bad_rows, texts=texts).select([*source_columns, LINE, REASON]) if bad_rows.height else \
        frame.clear().with_columns(pl.lit(None, dtype=pl.String).alias(REASON)).select([*source_columns, LINE, REASON])
    return Converted(good=good, bad=bad, reasons=reasons)


def auto_mapping(source_columns: list[str], *, targets: list[dict] | None = None,
                 sample: pl.DataFrame | None = None, types: dict[str, dict[str, Any]] | None = None) -> list[FieldMap]:
    """Match by name: the target's name or title equals the header (case and spaces ignored).

    Without known targets, every source column maps to a field named after its header: the header
    itself when it is a usable identifier, else its pinyin (公民身份号码 → gongminshenfenhaoma; initials
    when long), with the header kept as the title. Types come from the header and, for identifier
    columns, from the values of the first rows (``sample``); a database source's declared column types
    (``types``) come before the header's.
    """
    def norm(s: str) -> str:
        return re.sub(r"[\s_]", "", s).lower()

    maps: list[FieldMap] = []
    if targets:
        for t in targets:
            src = next((c for c in source_columns if norm(c) in (norm(t["name"]), norm(t.get("title") or "-"))), None)
            values = t.get("values") or []
            maps.append(FieldMap(target=t["name"], source=src, title=t.get("title"),
                                 type="string" if t.get("type") in (None, "enum") else t["type"],
                                 length=t.get("length"), pii=bool(t.get("pii")), id_kind=t.get("id_kind"),
                                 required=bool(t.get("required")), value_map={v: v for v in values},
                                 map_strict=bool(values)))
        return maps
    used: set[str] = set()
    for i, col in enumerate(source_columns):
        name = _field_name(col) or f"c{i + 1}"
        if name in used:
            name = f"{name[:58]}_{i + 1}"
        used.add(name)
        guess = _guess(col)
        declared = (types or {}).get(col)
        if declared and "id_kind" not in guess:
            guess = declared  # a database's own column type beats the header (updated_at is no date)
        guess = guess or _guess_from_values(sample, col)
        maps.append(FieldMap(target=name, source=col, title=col, **guess))
    return maps


def _field_name(header: str) -> str | None:
    """A lower-case identifier from a header: as written when it is one, else its pinyin."""
    from pypinyin import Style, lazy_pinyin

    text = header.strip().lower()
    if re.search(r"[\u4e00-\u9fff]", text):
        syllables = lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: re.sub(r"[^a-z0-9]+", "_", chars))
        text = "".join(syllables)
        if len(text) > 30:
            text = "".join(s[:1] for s in syllables)
    candidate = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    if re.fullmatch(r"[a-z][a-z0-9_]{0,62}", candidate or "") is None:
        return None
    try:
        return safe_identifier(candidate)
    except Exception:
        return None


def _guess(header: str) -> dict:
    """A first guess from the header a clerk wrote; the user corrects it in the mapping step."""
    h = header.lower()
    if re.search(r"身份证|身份号码|证件号码|id_?no|id_?card", h):
        return {"id_kind": "cn_ric", "pii": True}
    if re.search(r"纳税人识别号|信用代码|uscc|credit_?code", h):
        return {"id_kind": "uscc", "pii": True}
    if re.search(r"手机|电话|phone|mobile", h):
        return {"id_kind": "phone", "pii": True}
    if re.search(r"所属期|年月|月份|period", h):
        return {"type": YEARMONTH}
    if re.search(r"日期|date", h) and "时间" not in h:
        return {"type": "date"}
    if re.search(r"金额|\(元\)|（元）|amount|_yuan", h):
        return {"type": "decimal"}
    return {}


def _guess_from_values(sample: pl.DataFrame | None, column: str) -> dict:
    """An identifier column whatever its header: most of its 18-character values pass a checksum."""
    if sample is None or column not in sample.columns or sample.height == 0:
        return {}
    values = sample.select(pl.col(column).cast(pl.String).str.strip_chars().str.to_uppercase().alias("v")) \
        .filter(pl.col("v").str.len_chars() == 18)
    if values.height < max(1, sample.height // 2):
        return {}
    ric_ok, uscc_ok = values.select((~checks.ric_invalid(pl.col("v"))).mean().alias("r"),
                                    (~checks.uscc_invalid(pl.col("v"))).mean().alias("u")).row(0)
    if ric_ok >= 0.8:
        return {"id_kind": "cn_ric", "pii": True}
    if uscc_ok >= 0.8:
        return {"id_kind": "uscc", "pii": True}
    return {}
