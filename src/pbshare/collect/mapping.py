"""Source columns → target fields with per-column conversions, all as polars expressions.

One ``select`` converts a whole batch: trim, case, value maps (code tables), defaults, dates in many
shapes (2023年1月2日, 20230102, 2023/1/2 …), numbers with separators and units (1,234.50元),
resident ID normalisation (x → X, 15 → 18 digits) and validity. Each field also yields a reason
where its value failed, so a batch splits into rows to load and rows to quarantine in one filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl
from pydantic import BaseModel, Field, field_validator

from pbshare.collect.readers import LINE
from pbshare.core.dynamic import COLUMN_TYPES, safe_identifier
from pbshare.quality import checks

REASON = "__reason"
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
        if v not in COLUMN_TYPES or v == "json":
            raise ValueError(f"unsupported type {v}")
        return v


@dataclass
class Converted:
    good: pl.DataFrame  # target columns in mapping order
    bad: pl.DataFrame  # the source columns as read, plus __line and __reason


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


def _number_text(v: pl.Expr) -> pl.Expr:
    cleaned = v.str.replace_all(NUMBER_NOISE, "")
    return pl.when(cleaned.str.contains(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")).then(cleaned) \
        .otherwise(None)


def field_exprs(f: FieldMap, source_columns: list[str]) -> tuple[pl.Expr, list[pl.Expr]]:
    """The converted value of one field and its failure reasons (null where fine)."""
    label = f.title or f.target
    raw = pl.col(f.source) if f.source and f.source in source_columns else pl.lit(None, dtype=pl.String)
    v = _clean_text(raw, f)
    problems: list[pl.Expr] = []
    if f.value_map:
        keys, values = list(f.value_map), list(f.value_map.values())
        mapped = v.replace_strict(keys, values, default=None, return_dtype=pl.String)
        if f.map_strict:
            problems.append(checks.reason_when(v.is_not_null() & mapped.is_null(),
                                               f"{label}：代码表中没有该值 / {f.target}: value not in the code table"))
            v = mapped
        else:
            v = pl.coalesce([mapped, v])
    if f.default is not None:
        v = v.fill_null(pl.lit(f.default))
    given = v
    if f.id_kind == "cn_ric":
        v = checks.ric_normalise(v)
        problems.append(checks.reason_when(checks.ric_invalid(v),
                                           f"{label}：身份证号码无效 / {f.target}: invalid resident ID number"))
    elif f.id_kind == "phone":
        v = v.str.replace_all(r"[\s-]", "")
    if f.type in ("string", "text", "enum"):
        out = v
        if f.length:
            problems.append(checks.reason_when(checks.too_long(v, f.length),
                                               f"{label}：超过 {f.length} 个字符 / {f.target}: longer than {f.length}"))
    elif f.type in ("integer", "bigint"):
        out = _number_text(v).cast(pl.Float64, strict=False)
        out = pl.when(out == out.floor()).then(out).otherwise(None).cast(pl.Int64, strict=False)
        problems.append(checks.reason_when(checks.failed_conversion(given, out),
                                           f"{label}：不是整数 / {f.target}: not a whole number"))
    elif f.type == "float":
        out = _number_text(v).cast(pl.Float64, strict=False)
        problems.append(checks.reason_when(checks.failed_conversion(given, out),
                                           f"{label}：不是数字 / {f.target}: not a number"))
    elif f.type == "decimal":
        # Kept as exact text: PostgreSQL parses it into NUMERIC, SQLite stores the number.
        out = _number_text(v)
        problems.append(checks.reason_when(checks.failed_conversion(given, out),
                                           f"{label}：不是数字 / {f.target}: not a number"))
    elif f.type == "date":
        out = _parse_dates(v, f.formats + DATE_FORMATS, pl.Date)
        problems.append(checks.reason_when(checks.failed_conversion(given, out),
                                           f"{label}：无法识别的日期 / {f.target}: unrecognised date"))
    elif f.type == "datetime":
        out = pl.coalesce([_parse_dates(v, f.formats + DATETIME_FORMATS, pl.Datetime("us")),
                           _parse_dates(v, DATE_FORMATS, pl.Date).cast(pl.Datetime("us"))])
        # Times in delivered files are Beijing time.
        out = out.dt.replace_time_zone("Asia/Shanghai")
        problems.append(checks.reason_when(checks.failed_conversion(given, out),
                                           f"{label}：无法识别的日期时间 / {f.target}: unrecognised date-time"))
    elif f.type == "boolean":
        low = v.str.to_lowercase()
        out = pl.when(low.is_in(TRUE_WORDS)).then(True).when(low.is_in(FALSE_WORDS)).then(False).otherwise(None)
        problems.append(checks.reason_when(checks.failed_conversion(given, out),
                                           f"{label}：不是“是/否” / {f.target}: not yes/no"))
    else:  # pragma: no cover - FieldMap validates types
        out = v
    if f.required:
        problems.append(checks.reason_when(checks.missing(given),
                                           f"{label}：必填但为空 / {f.target}: required but empty"))
    return out.alias(f.target), problems


def score(frame: pl.DataFrame, mapping: list[FieldMap], *, key: list[str] | None = None) -> pl.DataFrame:
    """Every row with its converted values (``__v0`` …) and ``__reason`` (null where the row is fine)."""
    source_columns = [c for c in frame.columns if c != LINE]
    values: list[pl.Expr] = []
    problems: list[pl.Expr] = []
    for i, f in enumerate(mapping):
        value, why = field_exprs(f, source_columns)
        values.append(value.alias(f"__v{i}"))
        problems.extend(why)
    staged = frame.with_columns(values)
    index = {f.target: i for i, f in enumerate(mapping)}
    for k in key or []:
        if k in index:
            problems.append(checks.reason_when(pl.col(f"__v{index[k]}").is_null(),
                                               f"{k}：业务主键为空 / {k}: business key is empty"))
    return staged.with_columns(checks.reasons(problems).alias(REASON))


def convert(frame: pl.DataFrame, mapping: list[FieldMap], *, key: list[str] | None = None) -> Converted:
    """Convert one batch; rows with any problem go to ``bad`` with their source values untouched."""
    source_columns = [c for c in frame.columns if c != LINE]
    scored = score(frame, mapping, key=key)
    ok = scored[REASON].is_null()
    good = scored.filter(ok).select([pl.col(f"__v{i}").alias(f.target) for i, f in enumerate(mapping)])
    bad = scored.filter(~ok).select([*source_columns, LINE, REASON])
    return Converted(good=good, bad=bad)


def auto_mapping(source_columns: list[str], *, targets: list[dict] | None = None) -> list[FieldMap]:
    """Match by name: the target's name or title equals the header (case and spaces ignored).

    Without known targets, every source column maps to a text field named after it when the header
    is a usable identifier, or ``c1``, ``c2`` … with the header kept as the title (Chinese headers).
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
        candidate = re.sub(r"[^a-z0-9_]", "_", col.strip().lower())
        ok = re.fullmatch(r"[a-z][a-z0-9_]{0,62}", candidate or "") is not None
        try:
            name = safe_identifier(candidate) if ok else f"c{i + 1}"
        except Exception:
            name = f"c{i + 1}"
        if name in used:
            name = f"c{i + 1}"
        used.add(name)
        maps.append(FieldMap(target=name, source=col, title=col))
    return maps
