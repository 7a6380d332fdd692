"""Scores and the verdict of a quality report: pure arithmetic over the rules' outcomes.

Dimension score = the share of checks that passed × 100, over every rule of that dimension
(Σ(checked − failed) / Σ checked; a set-level rule such as volume counts as one check). A dimension
with no checks has no score (null) and its weight is left out, the others' scaled up.

Overall score = Σ weight × dimension score / Σ weight of the dimensions that have a score; the
weights are data (``quality_scoring`` table, ``PUT /quality/scoring``); the defaults below are what a
new installation uses: completeness 30, validity 30, consistency 15, uniqueness 15, timeliness 10.

Verdict:
- rejected — an error-severity set-level rule failed (volume, timeliness: the delivery as a whole is
  wrong), or the rows kept out by error rules are more than ``reject_share`` of the rows delivered
  (default 5 %);
- accepted with warnings — some rows were kept out (within the share), or a warning rule failed;
- accepted — nothing failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from pbshare.core.errors import Invalid
from pbshare.core.i18n import T

DIMENSIONS: tuple[str, ...] = ("completeness", "validity", "consistency", "uniqueness", "timeliness")
DIMENSION_LABELS: dict[str, tuple[str, str]] = {
    "completeness": ("完整性", "completeness"), "validity": ("有效性", "validity"),
    "consistency": ("一致性", "consistency"), "uniqueness": ("唯一性", "uniqueness"),
    "timeliness": ("及时性", "timeliness"),
}
DEFAULT_WEIGHTS: dict[str, float] = {"completeness": 30, "validity": 30, "consistency": 15, "uniqueness": 15,
                                     "timeliness": 10}
DEFAULT_REJECT_SHARE = 0.05
MAX_WEIGHT = 1000
# Rules that judge the delivery as a whole rather than its rows.
SET_LEVEL_KINDS = frozenset({"volume", "timeliness"})
# A rule's dimension when it names none (the engine's defaults, repeated for outcomes built elsewhere).
KIND_DIMENSION: dict[str, str] = {
    "not_null": "completeness", "required_share": "completeness", "unique": "uniqueness",
    "format": "validity", "range": "validity", "allowed": "validity", "length": "validity",
    "referential": "consistency", "cross_field": "consistency", "conflict": "consistency",
    "timeliness": "timeliness", "volume": "completeness", "custom_sql": "validity",
}


class Verdict(StrEnum):
    accepted = "accepted"
    accepted_with_warnings = "accepted_with_warnings"
    rejected = "rejected"


VERDICT_LABELS: dict[str, tuple[str, str]] = {
    "accepted": ("通过", "accepted"), "accepted_with_warnings": ("通过（有警告）", "accepted with warnings"),
    "rejected": ("不通过", "rejected"),
}


@dataclass(frozen=True)
class Checked:
    """One rule's result as scoring sees it."""

    name: str
    dimension: str
    severity: str  # error | warning
    checked: int
    failed: int
    set_level: bool = False


@dataclass
class Scores:
    dimensions: dict[str, float | None]
    checks: dict[str, dict[str, int]]
    overall: float | None
    weights: dict[str, float] = field(default_factory=dict)


def checked_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """Every dimension's weight (missing ones default), each ≥ 0 and not all zero."""
    out = {d: float(DEFAULT_WEIGHTS[d]) for d in DIMENSIONS}
    for d, w in (weights or {}).items():
        if d not in out:
            raise Invalid(T("未知的质量维度：{d}；可用：{all}", "Unknown quality dimension {d}; use one of {all}",
                            d=d, all=", ".join(DIMENSIONS)), code="unknown_dimension")
        out[d] = float(w)
    if any(not 0 <= w <= MAX_WEIGHT for w in out.values()) or sum(out.values()) <= 0:
        raise Invalid(T("权重须在 0 到 {m} 之间，且至少一个大于 0", "Weights must be between 0 and {m}, at least one "
                        "above 0", m=MAX_WEIGHT), code="bad_weights")
    return out


def score(results: Iterable[Checked], weights: Mapping[str, float] | None = None) -> Scores:
    w = checked_weights(weights)
    checks = {d: {"checked": 0, "failed": 0} for d in DIMENSIONS}
    for r in results:
        c = checks.setdefault(r.dimension, {"checked": 0, "failed": 0})
        c["checked"] += max(0, int(r.checked))
        c["failed"] += max(0, min(int(r.failed), int(r.checked)))
    dims: dict[str, float | None] = {}
    for d in DIMENSIONS:
        n, bad = checks[d]["checked"], checks[d]["failed"]
        dims[d] = round(100.0 * (n - bad) / n, 2) if n else None
    scored = [(w[d], s) for d, s in dims.items() if s is not None and w[d] > 0]
    total = sum(x for x, _ in scored)
    overall = round(sum(x * s for x, s in scored) / total, 2) if total else None
    return Scores(dimensions=dims, checks=checks, overall=overall, weights=w)


def verdict(results: Iterable[Checked], *, rows: int, error_rows: int, warning_rows: int,
            reject_share: float = DEFAULT_REJECT_SHARE) -> tuple[Verdict, T]:
    """The verdict and why, by the rule in this module's docstring."""
    results = list(results)
    failed_set = [r.name for r in results if r.set_level and r.severity == "error" and r.failed > 0]
    if failed_set:
        names = "、".join(failed_set)
        return Verdict.rejected, T("整批检查未通过：{n}", "A check on the whole delivery failed: {n}", n=names)
    share = error_rows / rows if rows else 0.0
    if error_rows and share > reject_share:
        return Verdict.rejected, T("{e} 行（{p}%）未通过错误级规则，超过 {t}% 的上限",
                                   "{e} rows ({p}%) failed error rules, more than the {t}% allowed",
                                   e=error_rows, p=_pct(share), t=_pct(reject_share))
    warned = [r.name for r in results if r.failed > 0 and r.severity == "warning"]
    if error_rows:
        return Verdict.accepted_with_warnings, T(
            "{e} 行（{p}%）未通过错误级规则，已隔离；未超过 {t}% 的上限",
            "{e} rows ({p}%) failed error rules and were quarantined; within the {t}% allowed",
            e=error_rows, p=_pct(share), t=_pct(reject_share))
    if warned or warning_rows:
        return Verdict.accepted_with_warnings, T("{w} 行有警告（{n}），已入库并标记",
                                                 "{w} rows have warnings ({n}); loaded and flagged",
                                                 w=warning_rows, n="、".join(warned) or "-")
    return Verdict.accepted, T("全部检查通过", "Every check passed")


def _pct(share: float) -> str:
    return f"{100 * share:.2f}".rstrip("0").rstrip(".")
