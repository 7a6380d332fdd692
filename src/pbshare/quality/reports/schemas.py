"""Quality reports as the API shows them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime
from pbshare.quality.reports.scoring import DIMENSION_LABELS, VERDICT_LABELS


class ReportRow(BaseModel):
    id: str
    subject_kind: str
    subject_id: str
    resource_code: str | None
    unit_code: str | None
    target: str | None
    rows: int
    error_rows: int
    warning_rows: int
    score: float | None
    scores: dict[str, float | None]
    verdict: str
    computed_verdict: str
    overridden: bool
    created_at: UtcDateTime

    @classmethod
    def of(cls, r: Any) -> ReportRow:
        return cls(id=r.id, subject_kind=r.subject_kind, subject_id=r.subject_id, resource_code=r.resource_code,
                   unit_code=r.unit_code, target=r.target, rows=r.rows, error_rows=r.error_rows,
                   warning_rows=r.warning_rows, score=r.score, scores=r.scores or {}, verdict=r.verdict,
                   computed_verdict=r.computed_verdict, overridden=r.overridden_at is not None,
                   created_at=r.created_at)


class RuleResult(BaseModel):
    position: int
    rule_id: str | None
    kind: str
    name: str
    dimension: str
    severity: str
    columns: list[str]
    set_level: bool
    checked: int
    failed: int
    share_failed: float | None = Field(description="failed / checked")
    skipped: str | None
    detail: dict[str, Any]
    sample: list[dict[str, Any]] = Field(description="up to 20: line, key (masked), value (masked)")


class ReportOut(ReportRow):
    checks: dict[str, dict[str, int]]
    weights: dict[str, float]
    reject_share: float
    verdict_reason: str
    override_reason: str | None
    overridden_by: str | None
    overridden_at: UtcDateTime | None
    rules: list[RuleResult]
    dimension_labels: dict[str, tuple[str, str]] = DIMENSION_LABELS
    verdict_labels: dict[str, tuple[str, str]] = VERDICT_LABELS

    @classmethod
    def of(cls, r: Any) -> ReportOut:
        row = ReportRow.of(r).model_dump()
        rules = [RuleResult(position=x.position, rule_id=x.rule_id, kind=x.kind, name=x.name, dimension=x.dimension,
                            severity=x.severity, columns=list(x.columns or []), set_level=x.set_level,
                            checked=x.checked, failed=x.failed,
                            share_failed=round(x.failed / x.checked, 6) if x.checked else None,
                            skipped=x.skipped, detail=x.detail or {}, sample=x.sample or [])
                 for x in r.rules]
        return cls(**row, checks=r.checks or {}, weights=r.weights or {}, reject_share=r.reject_share,
                   verdict_reason=r.verdict_reason, override_reason=r.override_reason,
                   overridden_by=r.overridden_by, overridden_at=r.overridden_at, rules=rules)


class OverrideIn(BaseModel):
    verdict: str = Field(pattern="^(accepted|accepted_with_warnings|rejected)$",
                         description="accepted | accepted_with_warnings | rejected")
    reason: str = Field(min_length=2, max_length=2000, description="why (required; audited)")


class TrendPoint(BaseModel):
    report_id: str
    created_at: UtcDateTime
    score: float | None
    scores: dict[str, float | None]
    verdict: str
    rows: int
    error_rows: int

    @classmethod
    def of(cls, r: Any) -> TrendPoint:
        return cls(report_id=r.id, created_at=r.created_at, score=r.score, scores=r.scores or {},
                   verdict=r.verdict, rows=r.rows, error_rows=r.error_rows)


class TrendOut(BaseModel):
    resource_code: str | None
    unit_code: str | None
    points: list[TrendPoint]


class ResourceLatest(BaseModel):
    resource_code: str
    report_id: str
    score: float | None
    verdict: str
    created_at: UtcDateTime


class FailingRule(BaseModel):
    name: str
    dimension: str
    failed: int
    reports: int


class UnitQualityOut(BaseModel):
    unit: dict[str, str]
    reports: int
    by_verdict: dict[str, int]
    average_score: float | None
    resources: list[ResourceLatest]
    failing_rules: list[FailingRule]
    trend: list[TrendPoint]
    latest: list[ReportRow]


class ScoringIO(BaseModel):
    weights: dict[str, float] = Field(description="completeness, validity, consistency, uniqueness, timeliness")
    reject_share: float = Field(ge=0, le=1, description="rejected when error rows exceed this share (0.05 = 5%)")
