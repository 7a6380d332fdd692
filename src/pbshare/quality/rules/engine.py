"""The rules engine: a polars frame and a rule set in, per-rule counts and per-row verdicts out.

Pure: no database session. Every row rule becomes one boolean polars expression (true where the row
fails) and all of them run in one lazy ``select``, so polars evaluates them in parallel over the whole
frame; nothing walks the rows in Python. Set-level rules (required share, volume, timeliness) judge
the delivery as a whole; referential, code-table, cross-unit conflict and custom SQL rules get what
they need beyond the frame from a ``RuleContext`` the caller fills (``rules.service.context_for``).

Values shown to people (samples, reasons) are masked when personal: a rule on a personal column
(``params["pii"]``, a personal built-in format, or a column passed in ``personal``) shows
``440301********1234``; anything that looks like an ID or mobile number is masked wherever it is.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from pbshare.core.errors import Invalid
from pbshare.core.i18n import T
from pbshare.quality.rules import builtins, expressions

SAMPLE_SIZE = 20
_VALUE_CHARS = 60


class Dimension(enum.StrEnum):
    completeness = "completeness"  # 完整性
    validity = "validity"  # 有效性
    consistency = "consistency"  # 一致性
    uniqueness = "uniqueness"  # 唯一性
    timeliness = "timeliness"  # 及时性


DIMENSION_LABELS = {"completeness": ("完整性", "Completeness"), "validity": ("有效性", "Validity"),
                    "consistency": ("一致性", "Consistency"), "uniqueness": ("唯一性", "Uniqueness"),
                    "timeliness": ("及时性", "Timeliness")}


class Severity(enum.StrEnum):
    error = "error"  # 错误：该行隔离
    warning = "warning"  # 警告：加载并标记


# kind -> (default dimension, Chinese label, English label)
KINDS: dict[str, tuple[Dimension, str, str]] = {
    "not_null": (Dimension.completeness, "不能为空", "must not be empty"),
    "required_share": (Dimension.completeness, "填报率", "required share filled"),
    "unique": (Dimension.uniqueness, "不能重复", "must be unique"),
    "format": (Dimension.validity, "格式", "format"),
    "range": (Dimension.validity, "取值范围", "range"),
    "allowed": (Dimension.validity, "允许值", "allowed values"),
    "length": (Dimension.validity, "长度", "length"),
    "referential": (Dimension.consistency, "引用存在", "reference exists"),
    "cross_field": (Dimension.consistency, "字段间条件", "cross-field condition"),
    "conflict": (Dimension.consistency, "内容冲突", "conflicting content"),
    "timeliness": (Dimension.timeliness, "及时性", "timeliness"),
    "volume": (Dimension.completeness, "数据量变化", "volume change"),
    "custom_sql": (Dimension.validity, "自定义 SQL", "custom SQL"),
}
SET_KINDS = frozenset({"required_share", "volume", "timeliness"})


@dataclass(frozen=True)
class Rule:
    kind: str
    columns: tuple[str, ...]
    params: dict = field(default_factory=dict, hash=False, compare=True)
    severity: Severity = Severity.error
    dimension: Dimension | None = None
    name: str = ""
    id: str | None = None

    @property
    def effective_dimension(self) -> Dimension:
        return self.dimension or KINDS[self.kind][0]

    @property
    def label(self) -> str:
        """The name people see: the stored one, else '<columns> 不能为空 / must not be empty' and so on."""
        if self.name:
            return self.name
        _, zh, en = KINDS.get(self.kind, (None, self.kind, self.kind))
        builtin = self.params.get("builtin")
        if self.kind == "format" and builtin in builtins.BUILTINS:
            _, bzh, ben, _ = builtins.BUILTINS[builtin]
            zh, en = f"须为有效的{bzh}", f"must be a valid {ben}"
        cols = ",".join(self.columns)
        return f"{cols} {zh} / {en}".strip()

    @property
    def personal(self) -> bool:
        builtin = self.params.get("builtin")
        return bool(self.params.get("pii")) or (builtin in builtins.BUILTINS and builtins.BUILTINS[builtin][3])


@dataclass
class RuleOutcome:
    rule: Rule
    checked: int
    failed: int
    sample: list[dict] = field(default_factory=list)
    passed: bool = True  # False when the rule failed (for a set rule: the delivery as a whole)
    skipped: str | None = None  # why it could not run (e.g. no lookup for a referential rule)
    detail: dict = field(default_factory=dict)  # set rules: share, previous rows, delay …


class Evaluation:
    """What a run of the rules found: per-rule outcomes and, per row, error / warning flags and reasons.

    ``reasons`` (the text a quarantined row carries) is built on first use: a report needs only the counts
    and samples, so it does not pay for a text per failing row.
    """

    def __init__(self, rows: int, outcomes: list[RuleOutcome], errors: pl.Series, reasons: pl.Series | None = None,
                 warnings: pl.Series | None = None, *, reasons_from: Callable[[], pl.Series] | None = None) -> None:
        self.rows = rows
        self.outcomes = outcomes
        self.errors = errors
        self.warnings = warnings if warnings is not None else pl.repeat(False, errors.len(), eager=True,
                                                                        dtype=pl.Boolean)
        self._reasons = reasons
        self._reasons_from = reasons_from

    @property
    def reasons(self) -> pl.Series:
        if self._reasons is None:
            self._reasons = (self._reasons_from() if self._reasons_from is not None
                             else pl.repeat(None, self.errors.len(), eager=True, dtype=pl.String))
        return self._reasons

    @property
    def error_rows(self) -> int:
        return int(self.errors.sum())

    @property
    def warning_rows(self) -> int:
        return int(self.warnings.sum())

    def __repr__(self) -> str:
        return f"Evaluation(rows={self.rows}, outcomes={len(self.outcomes)}, errors={self.error_rows})"


@dataclass
class RuleContext:
    previous_rows: int | None = None
    expected_every: timedelta | None = None
    last_delivery_at: datetime | None = None
    delivered_at: datetime | None = None
    lookup: Callable[[str, str], pl.Series] | None = None
    sql: Callable[[str], pl.DataFrame] | None = None
    # (table, columns) -> frame: the other side of a cross-unit conflict rule
    table: Callable[[str, Sequence[str]], pl.DataFrame] | None = None


def _bad(zh: str, en: str, **kw: Any) -> Invalid:
    return Invalid(T(zh, en, **kw), code="rule_invalid")


# ---------------------------------------------------------------- validation of one rule

def validate_rule(rule: Rule, columns: Sequence[str] | None = None) -> None:
    """Raise Invalid (422) with what to fix when a rule cannot run as written."""
    if rule.kind not in KINDS:
        raise _bad("未知的规则类型“{k}”；可用：{a}", "Unknown rule kind “{k}”; use one of: {a}", k=rule.kind,
                   a=", ".join(KINDS))
    p = rule.params
    needs_columns = rule.kind not in ("volume", "timeliness", "custom_sql", "cross_field")
    if needs_columns and not rule.columns:
        raise _bad("规则“{n}”需要至少一列", "The rule “{n}” needs at least one column", n=rule.label)
    _check_params(rule)
    if columns is not None:
        missing = [c for c in rule.columns if c not in columns]
        if missing:
            raise _bad("规则“{n}”引用的列不存在：{m}", "The rule “{n}” names columns that do not exist: {m}",
                       n=rule.label, m=", ".join(missing))
    if rule.kind == "format":
        if p.get("builtin"):
            if p["builtin"] not in builtins.BUILTINS:
                raise _bad("未知的内置格式“{b}”；可用：{a}", "Unknown built-in format “{b}”; use one of: {a}",
                           b=p["builtin"], a=", ".join(builtins.BUILTINS))
        elif not p.get("pattern"):
            raise _bad("格式规则需要 pattern（正则表达式）或 builtin", "A format rule needs a pattern (regex) or a builtin")
        else:
            try:
                pl.Series(["x"]).str.contains(_anchored(p["pattern"]))
            except Exception as exc:  # polars reports a bad regex as a ComputeError
                raise _bad("正则表达式无效：{e}", "The regular expression is not valid: {e}",
                           e=str(exc).splitlines()[0][:200]) from None
    if rule.kind in ("range", "length") and p.get("min") is None and p.get("max") is None:
        raise _bad("“{n}”需要 min 或 max", "“{n}” needs min or max", n=rule.label)
    if rule.kind == "allowed" and not p.get("values") and not p.get("code_table"):
        raise _bad("允许值规则需要 values（列表）或 code_table", "An allowed-values rule needs values (a list) or a code_table")
    if rule.kind == "referential" and not (p.get("table") and p.get("column")):
        raise _bad("引用规则需要 table 和 column", "A referential rule needs table and column")
    if rule.kind == "cross_field":
        expressions.to_polars(str(p.get("expression") or ""))
        tree = expressions.parse(str(p.get("expression") or ""))
        if columns is not None:
            unknown = [c for c in expressions.columns_of(tree) if c not in columns]
            if unknown:
                raise Invalid(T("条件中的列不存在：{m}", "The condition names columns that do not exist: {m}",
                                m=", ".join(unknown)), code="expression_unknown_column")
    if rule.kind == "required_share":
        share = p.get("min_share")
        if not isinstance(share, int | float) or not 0 < share <= 1:
            raise _bad("填报率规则需要 min_share（0 到 1 之间，例如 0.95）",
                       "A required-share rule needs min_share between 0 and 1 (e.g. 0.95)")
    if rule.kind == "volume":
        pct = p.get("max_change_pct")
        if not isinstance(pct, int | float) or pct < 0:
            raise _bad("数据量规则需要 max_change_pct（百分比，例如 30）", "A volume rule needs max_change_pct (e.g. 30)")
    if rule.kind == "conflict" and not p.get("values") and not p.get("against"):
        raise _bad("冲突规则需要 values（比较的列）", "A conflict rule needs values (the columns compared)")
    if rule.kind == "custom_sql":
        from pbshare.core.sqlcheck import parse_read_only
        parse_read_only(str(p.get("sql") or ""))


def _resolved(rule: Rule, schema: pl.Schema, by_lower: dict[str, str]) -> Rule:
    """The rule with its columns matched to the frame's case-insensitively (CASE_NO finds case_no)."""
    if all(c in schema for c in rule.columns):
        return rule
    return replace(rule, columns=tuple(c if c in schema else by_lower.get(c.lower(), c) for c in rule.columns))


def _absent(rule: Rule, schema: pl.Schema) -> list[str]:
    """Columns the rule names that the delivery lacks (a missing column is reported, not a crash)."""
    names = list(rule.columns)
    if rule.kind == "cross_field":
        names += expressions.columns_of(expressions.parse(str(rule.params.get("expression") or "")))
    if rule.kind == "conflict":
        names += [v for v in rule.params.get("values") or []]
    return [c for c in dict.fromkeys(names) if c not in schema]


_TEXT_PARAMS = ("pattern", "builtin", "expression", "sql", "code_table", "code_column", "table", "column", "against")
_NUMBER_PARAMS = ("min_share", "max_change_pct", "grace", "max_age_days")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _is_date(v: Any) -> bool:
    try:
        datetime.fromisoformat(v)
    except (TypeError, ValueError):
        return False
    return isinstance(v, str)


def _check_params(rule: Rule) -> None:
    """Parameter types, so a stored rule cannot fail later when it runs."""
    p = rule.params
    for name in _TEXT_PARAMS:
        if name in p and not isinstance(p[name], str):
            raise _bad("参数 {p} 应为文字", "The parameter {p} must be text", p=name)
    for name in _NUMBER_PARAMS:
        if name in p and p[name] is not None and not _is_number(p[name]):
            raise _bad("参数 {p} 应为数字", "The parameter {p} must be a number", p=name)
    for name in ("min", "max"):
        v = p.get(name)
        if v is None:
            continue
        if rule.kind == "length" and not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
            raise _bad("长度的 {p} 应为不小于 0 的整数", "The length {p} must be a whole number ≥ 0", p=name)
        if rule.kind == "range" and not _is_number(v) and not _is_date(v):
            raise _bad("范围的 {p} 应为数字或日期（YYYY-MM-DD）", "The range {p} must be a number or a date "
                           "(YYYY-MM-DD)", p=name)
    for name in ("values",):
        if name in p and p[name] is not None and (
                not isinstance(p[name], list) or not all(isinstance(x, str | int | float | bool) for x in p[name])):
            raise _bad("参数 values 应为文字或数字的列表", "The parameter values must be a list of texts or numbers")
    if "keep" in p and p["keep"] not in (None, "first", "none"):
        raise _bad("参数 keep 只能是 first", "The parameter keep can only be first")
    if "exclusive" in p and not isinstance(p["exclusive"], bool):
        raise _bad("参数 exclusive 应为 true 或 false", "The parameter exclusive must be true or false")


def _anchored(pattern: str) -> str:
    return pattern if pattern.startswith("^") else f"^(?:{pattern})$"


# ---------------------------------------------------------------- row rules as expressions

def _text(c: str) -> pl.Expr:
    return pl.col(c).cast(pl.String)


def _is_missing(c: str, schema: pl.Schema, blank: bool) -> pl.Expr:
    col = pl.col(c)
    if blank and schema.get(c) == pl.String:
        return col.is_null() | (col.str.strip_chars() == "")
    return col.is_null()


def _bound(value: Any, dtype: pl.DataType | None) -> Any:
    if isinstance(value, str) and dtype is not None and dtype.is_temporal():
        return datetime.fromisoformat(value).date() if dtype == pl.Date else datetime.fromisoformat(value)
    return value


def _range_fail(c: str, p: dict, schema: pl.Schema) -> pl.Expr:
    dtype = schema.get(c)
    lo, hi = p.get("min"), p.get("max")
    probe = lo if lo is not None else hi
    col = pl.col(c)
    if dtype == pl.String:
        col = col.str.to_date(strict=False) if isinstance(probe, str) else col.cast(pl.Float64, strict=False)
        dtype = pl.Date() if isinstance(probe, str) else pl.Float64()
    lo, hi = _bound(lo, dtype), _bound(hi, dtype)
    bad = pl.lit(False)
    if lo is not None:
        bad = bad | (col < lo) if not p.get("exclusive") else bad | (col <= lo)
    if hi is not None:
        bad = bad | (col > hi) if not p.get("exclusive") else bad | (col >= hi)
    unreadable = pl.col(c).is_not_null() & col.is_null()
    return (pl.col(c).is_not_null() & bad.fill_null(False)) | unreadable


def _member(value: pl.Expr, allowed: pl.Series) -> pl.Expr:
    """Membership: a few equality tests beat a hash lookup for a short list (half the time for 5 values)."""
    allowed = allowed.drop_nulls().unique(maintain_order=True)
    if allowed.len() == 0:
        return pl.lit(False)
    if allowed.len() <= 8:
        return pl.any_horizontal([value == v for v in allowed.to_list()]).fill_null(False)
    return value.is_in(pl.lit(allowed).implode())


def _row_fail(rule: Rule, schema: pl.Schema, key: Sequence[str], context: RuleContext | None,
              frame: pl.DataFrame | None = None) -> tuple[pl.Expr | None, str | None]:
    """(fail expression, reason it was skipped)."""
    p, cols, kind = rule.params, rule.columns, rule.kind
    if kind == "not_null":
        return pl.any_horizontal([_is_missing(c, schema, bool(p.get("blank"))) for c in cols]), None
    if kind == "unique":
        present = pl.all_horizontal([pl.col(c).is_not_null() for c in cols])
        if len(cols) == 1 and p.get("keep") != "first" and frame is not None:
            # The repeated values first (one grouping), then a lookup in that short list: about 0.6 of
            # the CPU of is_duplicated on a million keys, ordered or not, numbers or text.
            repeated = (frame.lazy().group_by(cols[0]).len().filter(pl.col("len") > 1).select(cols[0])
                        .collect().to_series())
            return present & pl.col(cols[0]).is_in(repeated.implode()), None
        k = pl.col(cols[0]) if len(cols) == 1 else pl.struct([pl.col(c) for c in cols])
        dup = k.is_duplicated() if p.get("keep") != "first" else ~k.is_first_distinct()
        return present & dup, None
    if kind == "format":
        if p.get("builtin"):
            check = builtins.BUILTINS[p["builtin"]][0]
            return pl.any_horizontal([check(pl.col(c)) for c in cols]), None
        pattern = _anchored(p["pattern"])
        return pl.any_horizontal([_text(c).is_not_null() & ~_text(c).str.contains(pattern) for c in cols]), None
    if kind == "range":
        return pl.any_horizontal([_range_fail(c, p, schema) for c in cols]), None
    if kind == "length":
        parts = []
        for c in cols:
            n = _text(c).str.len_chars()
            bad = pl.lit(False)
            if p.get("min") is not None:
                bad = bad | (n < int(p["min"]))
            if p.get("max") is not None:
                bad = bad | (n > int(p["max"]))
            parts.append(bad.fill_null(False))
        return pl.any_horizontal(parts), None
    if kind == "allowed":
        values = p.get("values")
        if not values:
            if context is None or context.lookup is None:
                return None, "no_lookup"
            values = context.lookup(str(p["code_table"]), str(p.get("code_column") or "code"))
        return pl.any_horizontal([_text(c).is_not_null() & ~_member(_text(c), pl.Series(values).cast(pl.String))
                                  for c in cols]), None
    if kind == "referential":
        if context is None or context.lookup is None:
            return None, "no_lookup"
        ref = context.lookup(str(p["table"]), str(p["column"])).cast(pl.String)
        return pl.any_horizontal([_text(c).is_not_null() & ~_member(_text(c), ref) for c in cols]), None
    if kind == "cross_field":
        return expressions.failing(str(p["expression"]), dict(schema)), None
    if kind == "conflict":
        by = list(cols) or list(key)
        if not by:
            return None, "no_key"
        if p.get("against"):
            return None, None  # joined in _conflict_between
        values = [v for v in p.get("values") or [] if v in schema]
        if not values:
            return None, "no_columns"
        present = pl.all_horizontal([pl.col(c).is_not_null() for c in by])
        val = pl.col(values[0]) if len(values) == 1 else pl.struct([pl.col(v) for v in values])
        return present & (val.n_unique().over(by) > 1), None
    if kind == "timeliness" and cols and p.get("max_age_days") is not None:
        if context is None or context.delivered_at is None:
            return None, "no_delivery_time"
        c = cols[0]
        limit = (context.delivered_at - timedelta(days=float(p["max_age_days"])))
        col = pl.col(c).str.to_date(strict=False) if schema.get(c) == pl.String else pl.col(c)
        if schema.get(c) == pl.String or schema.get(c) == pl.Date:
            return (col < limit.date()).fill_null(False), None
        return (col.dt.replace_time_zone(None) < limit.replace(tzinfo=None)).fill_null(False), None
    return None, None


# ---------------------------------------------------------------- masking and texts

_RIC_RE = r"([1-9][0-9]{5})[0-9]{8}([0-9]{3}[0-9Xx])"
_MOBILE_RE = r"(1[3-9][0-9])[0-9]{4}([0-9]{4})"


def masked_text(value: pl.Expr, personal: bool) -> pl.Expr:
    """A value as text for people: IDs and mobiles masked wherever they appear; all of it if personal."""
    v = value.cast(pl.String).str.slice(0, _VALUE_CHARS)
    v = v.str.replace_all(_RIC_RE, "${1}********${2}").str.replace_all(_MOBILE_RE, "${1}****${2}")
    if personal:
        n = v.str.len_chars()
        half = (n // 2).clip(1, None)
        keep = pl.when(n > 10).then(v.str.slice(0, 6) + pl.lit("********") + v.str.slice(-4, 4)
                                    ).otherwise(v.str.slice(0, half) + pl.lit("****"))
        v = pl.when(v.str.contains(r"\*{4}")).then(v).otherwise(keep)
    return v


def shown_columns(rule: Rule) -> list[str]:
    """The columns whose values explain a failure: a condition's columns, a conflict's compared values."""
    if rule.kind == "cross_field":
        try:
            return expressions.columns_of(expressions.parse(str(rule.params.get("expression") or "")))
        except Invalid:
            return []
    if rule.kind == "conflict":
        return [*rule.columns, *[v for v in rule.params.get("values") or [] if v not in rule.columns]]
    return list(rule.columns)


def _value_text(rule: Rule, personal_cols: set[str]) -> pl.Expr:
    cols = shown_columns(rule)
    if not cols:
        return pl.lit("")
    parts = []
    for c in cols:
        shown = masked_text(pl.col(c), _is_personal(c, rule, personal_cols)).fill_null("（空）")
        parts.append(shown if len(cols) == 1 else pl.lit(f"{c}=") + shown)
    return pl.concat_str(parts, separator=", ")


# ---------------------------------------------------------------- evaluation

def evaluate(frame: pl.DataFrame, rules: Sequence[Rule], *, key: Sequence[str] = (),
             line_column: str | None = "__line", context: RuleContext | None = None,
             personal: Sequence[str] = ()) -> Evaluation:
    """Run every rule over ``frame``; per-rule counts and samples, per-row error / warning / reason."""
    n = frame.height
    schema = frame.schema
    personal_cols = set(personal)
    key = [k for k in key if k in schema]
    if line_column and line_column not in schema:
        line_column = None
    row_rules: list[tuple[int, Rule, pl.Expr]] = []
    outcomes: list[RuleOutcome | None] = [None] * len(rules)
    extra_masks: dict[int, pl.Series] = {}
    samples_from: dict[int, pl.DataFrame] = {}
    by_lower = {c.lower(): c for c in schema}
    for rule in rules:
        validate_rule(rule)
    rules = [_resolved(rule, schema, by_lower) for rule in rules]
    for i, rule in enumerate(rules):
        absent = _absent(rule, schema)
        if absent:
            whole = rule.kind in ("not_null", "required_share", "unique")
            outcomes[i] = RuleOutcome(rule, n, n if whole else 0, passed=not whole,
                                      skipped=None if whole else "missing_columns",
                                      detail={"missing_columns": absent})
            continue
        if rule.kind in SET_KINDS and not (rule.kind == "timeliness" and rule.columns
                                           and rule.params.get("max_age_days") is not None):
            outcomes[i] = _set_outcome(rule, frame, schema, context)
            continue
        if rule.kind == "custom_sql":
            mask, out, failing = _custom_sql(rule, frame, key, line_column, context)
            outcomes[i] = out
            if mask is not None:
                extra_masks[i] = mask
            if failing is not None:
                samples_from[i] = failing
            continue
        if rule.kind == "conflict" and rule.params.get("against"):
            mask, skip = _conflict_between(rule, frame, key, context)
            if mask is None:
                outcomes[i] = RuleOutcome(rule, 0, 0, skipped=skip)
            else:
                extra_masks[i] = mask
            continue
        expr, skip = _row_fail(rule, schema, key, context, frame)
        if expr is None:
            outcomes[i] = RuleOutcome(rule, 0, 0, skipped=skip or "not_applicable")
        else:
            row_rules.append((i, rule, expr))
    names = {i: f"__r{i}" for i, _, _ in row_rules} | {i: f"__r{i}" for i in extra_masks}
    if n == 0:
        masks = pl.DataFrame({names[i]: pl.Series([], dtype=pl.Boolean) for i in names})
    elif row_rules:
        try:
            masks = frame.lazy().select([e.fill_null(False).alias(names[i]) for i, _, e in row_rules]).collect()
        except pl.exceptions.PolarsError:
            masks = _one_by_one(frame, row_rules, names, outcomes)
    else:
        masks = pl.DataFrame({"__none": pl.repeat(False, n, eager=True)}).select([])
    for i, m in extra_masks.items():
        masks = masks.with_columns(m.alias(names[i])) if masks.width else pl.DataFrame({names[i]: m})
    counted = [i for i in names]
    sums = masks.select([pl.col(names[i]).sum() for i in counted]).row(0) if counted and n else [0] * len(counted)
    failed = dict(zip(counted, [int(s or 0) for s in sums], strict=True))
    show_cols = list(dict.fromkeys([*(([line_column]) if line_column else []), *key]))
    to_sample = [(i, rules[i]) for i in counted if failed[i] and (outcomes[i] is None or i in extra_masks)]
    samples = _samples(frame, masks, to_sample, names, show_cols, key, line_column, personal_cols)
    for i in counted:
        rule = rules[i]
        if outcomes[i] is not None and i not in extra_masks:
            continue
        sample: list[dict] = samples.get(i, [])
        if not failed[i] and i in samples_from:
            sample = _sample(samples_from[i].head(SAMPLE_SIZE), rule, show_cols, key, line_column, personal_cols)
        prev = outcomes[i]
        out = RuleOutcome(rule, n, failed[i], sample, passed=failed[i] == 0)
        if prev is not None:
            out.failed = max(prev.failed, failed[i])
            out.detail = prev.detail
            out.passed = out.failed == 0
            out.sample = sample or prev.sample
        outcomes[i] = out
    err_cols = [names[i] for i in counted if rules[i].severity == Severity.error]
    warn_cols = [names[i] for i in counted if rules[i].severity == Severity.warning]
    if n and err_cols:
        errors = masks.select(pl.any_horizontal(err_cols)).to_series().alias("errors")
    else:
        errors = pl.repeat(False, n, eager=True, dtype=pl.Boolean).alias("errors")
    if n and warn_cols:
        warnings = masks.select(pl.any_horizontal(warn_cols)).to_series() & ~errors
    else:
        warnings = pl.repeat(False, n, eager=True, dtype=pl.Boolean)
    error_rules = [(i, rules[i]) for i in counted if rules[i].severity == Severity.error]
    done = [o for o in outcomes if o is not None]
    return Evaluation(rows=n, outcomes=done, errors=errors.alias("errors"), warnings=warnings.alias("warnings"),
                      reasons_from=lambda: _reasons(frame, masks, errors, error_rules, names, personal_cols))


def _one_by_one(frame: pl.DataFrame, row_rules: list[tuple[int, Rule, pl.Expr]], names: dict[int, str],
                outcomes: list[RuleOutcome | None]) -> pl.DataFrame:
    """A rule the data cannot run (a condition comparing a date with a number, say) is reported on that
    rule with the error; the others still run."""
    columns = []
    for i, rule, e in row_rules:
        try:
            columns.append(frame.lazy().select(e.fill_null(False).alias(names[i])).collect().to_series())
        except pl.exceptions.PolarsError as exc:
            outcomes[i] = RuleOutcome(rule, 0, 0, skipped="rule_error",
                                      detail={"error": str(exc).splitlines()[0][:300]})
            del names[i]
    return pl.DataFrame(columns) if columns else pl.DataFrame()


def _reasons(frame: pl.DataFrame, masks: pl.DataFrame, errors: pl.Series, error_rules: list[tuple[int, Rule]],
             names: dict[int, str], personal_cols: set[str]) -> pl.Series:
    """'规则名: 值；…' for each error row, null elsewhere.

    Each rule's text is built only over the rows that rule failed and appended to those rows' text (the
    work follows the number of failures, not rows × rules).
    """
    n = frame.height
    out = pl.repeat(None, n, eager=True, dtype=pl.String).alias("reasons")
    if not n or not error_rules or not errors.any():
        return out
    err_idx = errors.arg_true()
    acc = pl.repeat(None, err_idx.len(), eager=True, dtype=pl.String)
    for i, rule in error_rules:
        idx = masks.get_column(names[i]).arg_true()
        if idx.len() == 0:
            continue
        text = frame[idx].select((pl.lit(f"{rule.label}: ") + _value_text(rule, personal_cols)).alias("t")).to_series()
        pos = err_idx.search_sorted(idx)
        joined = pl.select(pl.concat_str([pl.lit(acc.gather(pos)), pl.lit(text)], separator="；",
                                         ignore_nulls=True)).to_series()
        acc = acc.scatter(pos, joined)
    return out.scatter(err_idx, acc)


def _is_personal(column: str, rule: Rule, personal_cols: set[str]) -> bool:
    return column in personal_cols or (rule.personal and column in rule.columns)


def _samples(frame: pl.DataFrame, masks: pl.DataFrame, wanted: list[tuple[int, Rule]], names: dict[int, str],
             show_cols: list[str], key: Sequence[str], line_column: str | None,
             personal_cols: set[str]) -> dict[int, list[dict]]:
    """Up to SAMPLE_SIZE failing rows per rule: the row indices of every rule in one pass over the masks,
    one gather of their union, the shown values masked column-wise over those few rows."""
    if not wanted:
        return {}
    picks = masks.select([pl.arg_where(pl.col(names[i])).head(SAMPLE_SIZE).implode().alias(names[i])
                          for i, _ in wanted]).row(0)
    per_rule = {i: list(p) for (i, _), p in zip(wanted, picks, strict=True)}
    union = sorted(set().union(*per_rule.values()))
    rows = frame[union]
    at = {r: k for k, r in enumerate(union)}
    needed: set[tuple[str, bool]] = set()
    for _, rule in wanted:
        for c in [*show_cols, *shown_columns(rule)]:
            if c in rows.columns and c != line_column:
                needed.add((c, _is_personal(c, rule, personal_cols)))
    exprs = [masked_text(pl.col(c), p).alias(f"{int(p)}:{c}") for c, p in sorted(needed)]
    if line_column:
        exprs.append(pl.col(line_column).alias("__l"))
    shown = rows.select(exprs).to_dict(as_series=False) if exprs else {}
    out: dict[int, list[dict]] = {}
    for i, rule in wanted:
        cols = [c for c in shown_columns(rule) if c in rows.columns]

        def val(c: str, k: int, rule: Rule = rule) -> Any:
            return shown[f"{int(_is_personal(c, rule, personal_cols))}:{c}"][k]
        items = []
        for r in per_rule[i]:
            k = at[r]
            line = shown["__l"][k] if line_column else None
            value: Any = val(cols[0], k) if len(cols) == 1 else {c: val(c, k) for c in cols}
            items.append({"line": int(line) if line is not None else None,
                          "key": {c: val(c, k) for c in key if c in rows.columns}, "value": value})
        out[i] = items
    return out


def _sample(rows: pl.DataFrame, rule: Rule, show_cols: list[str], key: Sequence[str], line_column: str | None,
            personal_cols: set[str]) -> list[dict]:
    cols = [c for c in shown_columns(rule) if c in rows.columns]
    wanted = list(dict.fromkeys([*show_cols, *cols]))
    exprs = []
    for c in wanted:
        if c == line_column:
            exprs.append(pl.col(c))
        else:
            exprs.append(masked_text(pl.col(c), _is_personal(c, rule, personal_cols)).alias(c))
    shown = rows.select(exprs) if wanted else rows.select([])
    out = []
    for rec in shown.iter_rows(named=True):  # at most SAMPLE_SIZE rows
        line = rec.get(line_column) if line_column else None
        value: Any = rec.get(cols[0]) if len(cols) == 1 else {c: rec.get(c) for c in cols}
        out.append({"line": int(line) if line is not None else None, "key": {k: rec.get(k) for k in key},
                    "value": value})
    return out


def _set_outcome(rule: Rule, frame: pl.DataFrame, schema: pl.Schema, context: RuleContext | None) -> RuleOutcome:
    p, n = rule.params, frame.height
    if rule.kind == "required_share":
        c = rule.columns[0]
        missing = int(frame.select(_is_missing(c, schema, bool(p.get("blank"))).sum()).item()) if n else 0
        share = (n - missing) / n if n else 1.0
        ok = share + 1e-12 >= float(p["min_share"])
        return RuleOutcome(rule, n, 0 if ok else missing, passed=ok,
                           detail={"share": round(share, 6), "min_share": p["min_share"], "missing": missing})
    if rule.kind == "volume":
        prev = context.previous_rows if context else None
        if prev is None:
            return RuleOutcome(rule, 0, 0, skipped="no_previous_delivery")
        change = math.inf if prev == 0 and n else (abs(n - prev) / prev * 100 if prev else 0.0)
        ok = change <= float(p["max_change_pct"])
        return RuleOutcome(rule, 1, 0 if ok else 1, passed=ok,
                           detail={"rows": n, "previous_rows": prev, "change_pct": None if math.isinf(change)
                                   else round(change, 2), "max_change_pct": p["max_change_pct"]})
    # timeliness of the delivery as a whole
    if context is None or context.expected_every is None or context.delivered_at is None:
        return RuleOutcome(rule, 0, 0, skipped="no_frequency")
    if context.last_delivery_at is None:
        return RuleOutcome(rule, 1, 0, detail={"first_delivery": True})
    grace = float(p.get("grace", 0.5))
    gap = context.delivered_at - context.last_delivery_at
    allowed = context.expected_every * (1 + grace)
    ok = gap <= allowed
    return RuleOutcome(rule, 1, 0 if ok else 1, passed=ok,
                       detail={"gap_hours": round(gap.total_seconds() / 3600, 2),
                               "allowed_hours": round(allowed.total_seconds() / 3600, 2)})


def _custom_sql(rule: Rule, frame: pl.DataFrame, key: Sequence[str], line_column: str | None,
                context: RuleContext | None) -> tuple[pl.Series | None, RuleOutcome, pl.DataFrame | None]:
    """Run the checked SELECT (it returns the failing rows); rows of the frame it names by key or line fail."""
    if context is None or context.sql is None:
        return None, RuleOutcome(rule, 0, 0, skipped="no_sql"), None
    failing = context.sql(str(rule.params["sql"]))
    out = RuleOutcome(rule, frame.height, failing.height, passed=failing.height == 0)
    by = [line_column] if line_column and line_column in failing.columns else [k for k in key if k in failing.columns]
    if not by or len(by) < (1 if line_column in by else len(key)) or frame.height == 0:
        return None, out, failing
    hit = failing.select(by).unique().with_columns(pl.lit(True).alias("__hit"))
    try:
        mask = frame.select(by).join(hit, on=by, how="left", maintain_order="left")["__hit"].fill_null(False)
    except pl.exceptions.PolarsError:
        return None, out, failing
    return mask, out, failing


def _conflict_between(rule: Rule, frame: pl.DataFrame, key: Sequence[str], context: RuleContext | None
                      ) -> tuple[pl.Series | None, str | None]:
    """Rows whose key appears in another unit's data with a different value (both sides filled)."""
    if context is None or context.table is None:
        return None, "no_table"
    by = list(rule.columns) or list(key)
    values = [v for v in rule.params.get("values") or [] if v in frame.columns]
    if not by or not values:
        return None, "no_columns"
    other = context.table(str(rule.params["against"]), [*by, *values])
    other = other.select([pl.col(c).cast(frame.schema[c]) for c in [*by, *values]]).unique(subset=by, keep="first")
    other = other.rename({v: f"__o_{v}" for v in values})
    joined = frame.select([*by, *values]).join(other, on=by, how="left", maintain_order="left")
    differs = pl.any_horizontal([pl.col(v).is_not_null() & pl.col(f"__o_{v}").is_not_null()
                                 & (pl.col(v) != pl.col(f"__o_{v}")) for v in values])
    return joined.select(differs.fill_null(False)).to_series(), None
