"""Quality reports: record one for every import run and received delivery, list and read them (masked,
audited), override a verdict with a reason (audited), trends per resource and per unit, a unit's page,
the scoring settings, and the gate an import run passes its batches through.

``on_rejected`` is the hook for correction requests (the exchange-flows issue): append a callable
``(db, report) -> None``; it is called, in the recording transaction, whenever a report is recorded
as rejected or a data admin overrides a verdict to rejected. A hook that raises is logged and
skipped: the report is kept either way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pbshare.catalog.resources import service as catalog_service
from pbshare.core.clock import LOCAL_TZ, as_utc, utcnow
from pbshare.core.db import Database
from pbshare.core.errors import Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.core.lookup import get_or_raise
from pbshare.core.pagination import PageParams, paginate
from pbshare.quality.reports import scoring
from pbshare.quality.reports.models import QualityReport, QualityReportRule, QualityScoring
from pbshare.quality.reports.scoring import Checked, Verdict
from pbshare.quality.rules import engine
from pbshare.quality.rules import service as rules_service
from pbshare.quality.rules.engine import Evaluation, Rule, RuleOutcome, Severity
from pbshare.security.audit import service as audit
from pbshare.security.crypto import pii
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse

log = logging.getLogger("pbshare.quality")

OnRejected = Callable[[Session, QualityReport], None]
on_rejected: list[OnRejected] = []

SUBJECT_KINDS = ("import_run", "delivery")
SAMPLE_SIZE = 20
LINE = "__line"
REASON = "__reason"
IMPORT_CHECK = "import_check"  # a check the import itself made before the rules (conversion, ragged row …)
_LOOKS_PERSONAL = re.compile(r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|[0-9]{15}|1[3-9][0-9]{9})(?![0-9A-Za-z])")
_NOT_FOUND = T("找不到该质量报告", "No such quality report")


# --------------------------------------------------------------------------- masking
def mask_text(value: Any) -> Any:
    """Mask anything that looks like an ID or phone number inside a text (reasons, samples, free text)."""
    if isinstance(value, str) and _LOOKS_PERSONAL.search(value):
        return _LOOKS_PERSONAL.sub(lambda m: pii.mask(m.group(0)) or "", value)
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return mask_text(str(value))


def _masked_sample(sample: Sequence[dict], personal: set[str]) -> list[dict]:
    out = []
    for s in list(sample)[:SAMPLE_SIZE]:
        key = {str(k): (pii.mask(str(v)) if k in personal and v is not None else _json_value(v))
               for k, v in (s.get("key") or {}).items()}
        value = s.get("value")
        out.append({"line": s.get("line"), "key": key, "value": _json_value(value)})
    return out


# --------------------------------------------------------------------------- scoring settings
def scoring_settings(db: Session) -> QualityScoring:
    row = db.get(QualityScoring, 1)
    if row is None:
        row = QualityScoring(id=1, weights=dict(scoring.DEFAULT_WEIGHTS), reject_share=scoring.DEFAULT_REJECT_SHARE)
        db.add(row)
        db.flush()
    return row


def set_scoring(db: Session, *, weights: dict[str, float], reject_share: float,
                principal: Principal | None = None) -> QualityScoring:
    """Change the weights and the rejection threshold (reports already recorded keep theirs)."""
    checked = scoring.checked_weights(weights)
    if not 0 <= reject_share <= 1:
        raise Invalid(T("拒收比例须在 0 到 1 之间（如 0.05 表示 5%）", "The reject share must be between 0 and 1 "
                        "(0.05 means 5%)"), code="bad_reject_share")
    row = scoring_settings(db)
    before = {"weights": dict(row.weights), "reject_share": row.reject_share}
    row.weights, row.reject_share = checked, float(reject_share)
    row.updated_by = principal.username if principal else None
    audit.record(db, action="quality.scoring.update", principal=principal, object_type="quality_scoring",
                 object_id="1", detail={"before": before, "after": {"weights": checked, "reject_share": reject_share}})
    db.flush()
    return row


# --------------------------------------------------------------------------- recording
def _dimension(rule: Rule) -> str:
    dim = rule.dimension or scoring.KIND_DIMENSION.get(rule.kind)
    return str(dim) if dim else str(rule.effective_dimension)


def _severity(rule: Rule) -> str:
    return str(rule.severity or Severity.error)


def _is_set_level(rule: Rule) -> bool:
    """Judges the delivery as a whole: required share, volume, and timeliness unless it dates each row."""
    if rule.kind == "timeliness" and rule.columns and rule.params.get("max_age_days") is not None:
        return False
    return rule.kind in engine.SET_KINDS


def _whole_delivery(rule: Rule) -> bool:
    """Set-level rules that need only the row count and the context (not the rows' values)."""
    return _is_set_level(rule) and rule.kind != "required_share"


def _unit_of(db: Session, resource_code: str | None) -> str | None:
    if not resource_code:
        return None
    res = catalog_service.find_resource(db, code=resource_code)
    return res.provider.code if res is not None and res.provider is not None else None


def record_report(db: Session, *, subject_kind: str, subject_id: str, resource_code: str | None,
                  unit_code: str | None, evaluation: Evaluation, rows: int, target: str | None = None,
                  checks: Sequence[RuleOutcome] = (), rejected_rows: int = 0,
                  personal: Sequence[str] = ()) -> QualityReport:
    """Store a report of ``evaluation`` over ``rows`` delivered rows: per rule the failing count and a masked
    sample, dimension scores, the overall score, the verdict; call the ``on_rejected`` hooks when rejected.

    ``checks`` are outcomes of checks made before the rules (an import's conversions), ``rejected_rows`` the
    rows those checks kept out; ``personal`` names key columns to mask in samples whatever their look."""
    if subject_kind not in SUBJECT_KINDS:
        raise Invalid(T("报告对象类型须为 {k}", "The subject kind must be one of {k}", k=", ".join(SUBJECT_KINDS)),
                      code="bad_subject_kind")
    unit_code = unit_code or _unit_of(db, resource_code)
    settings = scoring_settings(db)
    outcomes = [*checks, *evaluation.outcomes]
    results = [Checked(name=o.rule.label, dimension=_dimension(o.rule), severity=_severity(o.rule),
                       checked=int(o.checked), failed=int(o.failed),
                       set_level=_is_set_level(o.rule))
               for o in outcomes]
    error_rows = int(evaluation.errors.sum() or 0) + int(rejected_rows) if evaluation.errors.len() else int(rejected_rows)
    warning_rows = int(evaluation.warnings.sum() or 0) if evaluation.warnings.len() else 0
    scores = scoring.score(results, settings.weights)
    verdict, why = scoring.verdict(results, rows=rows, error_rows=error_rows, warning_rows=warning_rows,
                                   reject_share=settings.reject_share)
    report = QualityReport(subject_kind=subject_kind, subject_id=subject_id, resource_code=resource_code,
                           unit_code=unit_code, target=target, rows=rows, error_rows=error_rows,
                           warning_rows=warning_rows, score=scores.overall, scores=scores.dimensions,
                           checks=scores.checks, weights=scores.weights, reject_share=settings.reject_share,
                           verdict=verdict.value, computed_verdict=verdict.value,
                           verdict_reason=f"{why.render('zh-CN')}\n{why.render('en')}", created_at=utcnow())
    mask_cols = set(personal)
    for i, (o, r) in enumerate(zip(outcomes, results, strict=True)):
        report.rules.append(QualityReportRule(
            position=i, rule_id=getattr(o.rule, "id", None), kind=o.rule.kind, name=r.name[:400],
            dimension=r.dimension, severity=r.severity, columns=list(o.rule.columns), set_level=r.set_level,
            checked=r.checked, failed=r.failed, sample=_masked_sample(o.sample, mask_cols),
            skipped=o.skipped, detail=_json_detail(o.detail)))
    db.add(report)
    db.flush()
    if verdict == Verdict.rejected:
        _call_on_rejected(db, report)
    return report


def _json_detail(detail: dict | None) -> dict:
    return {str(k): _json_value(v) if not isinstance(v, (dict, list)) else v for k, v in (detail or {}).items()}


def _call_on_rejected(db: Session, report: QualityReport) -> None:
    for hook in list(on_rejected):
        try:
            with db.begin_nested():
                hook(db, report)
        except Exception:
            log.exception("an on_rejected hook failed; the report is kept")


# --------------------------------------------------------------------------- reading
def _visible(stmt: Select, principal: Principal | None) -> Select:
    """A unit's own people see only their unit's reports; the office sees all."""
    if principal is not None and not principal.is_office:
        stmt = stmt.where(QualityReport.unit_code == principal.unit_code)
    return stmt


_EARLIEST, _LATEST = date(1900, 1, 1), date(9998, 12, 30)  # any date a person types stays a valid bound


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=LOCAL_TZ)


def list_reports(db: Session, *, params: PageParams, principal: Principal | None = None,
                 resource_code: str | None = None, unit_code: str | None = None, verdict: str | None = None,
                 subject_kind: str | None = None, subject_id: str | None = None, date_from: date | None = None,
                 date_to: date | None = None) -> tuple[list[QualityReport], int]:
    """Newest first; dates are local (Asia/Shanghai) days, both ends included."""
    if verdict is not None and verdict not in Verdict.__members__:
        raise Invalid(T("结论须为 {v}", "The verdict must be one of {v}", v=", ".join(Verdict.__members__)),
                      code="bad_verdict")
    if date_from and date_to and date_from > date_to:
        raise Invalid(T("开始日期晚于结束日期", "The start date is after the end date"), code="bad_dates")
    stmt = _visible(select(QualityReport), principal)
    for column, value in ((QualityReport.resource_code, resource_code), (QualityReport.unit_code, unit_code),
                          (QualityReport.verdict, verdict), (QualityReport.subject_kind, subject_kind),
                          (QualityReport.subject_id, subject_id)):
        if value:
            stmt = stmt.where(column == value)
    if date_from:
        stmt = stmt.where(QualityReport.created_at >= _day_start(max(date_from, _EARLIEST)))
    if date_to:
        stmt = stmt.where(QualityReport.created_at < _day_start(min(date_to, _LATEST) + timedelta(days=1)))
    return paginate(db, stmt.order_by(QualityReport.created_at.desc(), QualityReport.id.desc()), params)


def _get(db: Session, report_id: str, principal: Principal | None) -> QualityReport:
    report = get_or_raise(db, QualityReport, report_id, _NOT_FOUND, code="report_not_found")
    if principal is not None and not principal.is_office and report.unit_code != principal.unit_code:
        raise NotFound(_NOT_FOUND, code="report_not_found")
    return report


def get_report(db: Session, *, report_id: str, principal: Principal | None = None) -> QualityReport:
    """One report with its rules and (masked) samples; the read is audited, samples show people's keys."""
    report = _get(db, report_id, principal)
    audit.record(db, action="quality.report.read", principal=principal, object_type="quality_report",
                 object_id=report.id, detail={"masked": True})
    return report


def report_for_subject(db: Session, *, subject_kind: str, subject_id: str) -> QualityReport | None:
    """The newest report of an import run or delivery (for a link from the run's page)."""
    return db.scalars(select(QualityReport).where(QualityReport.subject_kind == subject_kind,
                                                  QualityReport.subject_id == subject_id)
                      .order_by(QualityReport.created_at.desc()).limit(1)).first()


def override(db: Session, *, report_id: str, verdict: str, reason: str,
             principal: Principal | None = None) -> QualityReport:
    """A data admin replaces the verdict in force, with a reason (required); audited."""
    report = _get(db, report_id, principal)
    if verdict not in Verdict.__members__:
        raise Invalid(T("结论须为 {v}", "The verdict must be one of {v}", v=", ".join(Verdict.__members__)),
                      code="bad_verdict")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise Invalid(T("请填写更改结论的理由", "Give the reason for changing the verdict"), code="reason_required")
    if verdict == report.verdict:
        raise Invalid(T("报告的结论已经是“{v}”", "The report's verdict is already {v}",
                        v=scoring.VERDICT_LABELS[verdict][0]), code="same_verdict")
    before = report.verdict
    report.verdict, report.override_reason = verdict, reason[:2000]
    report.overridden_by = principal.username if principal else None
    report.overridden_at = utcnow()
    audit.record(db, action="quality.report.override", principal=principal, object_type="quality_report",
                 object_id=report.id, detail={"from": before, "to": verdict, "reason": mask_text(reason[:500])})
    db.flush()
    if verdict == Verdict.rejected.value:
        _call_on_rejected(db, report)
    return report


# --------------------------------------------------------------------------- trends and the unit page
def trend(db: Session, *, principal: Principal | None = None, resource_code: str | None = None,
          unit_code: str | None = None, limit: int = 200) -> list[QualityReport]:
    """The last ``limit`` reports of a resource or a unit, oldest first (a time series of scores)."""
    if not resource_code and not unit_code:
        raise Invalid(T("请指定目录资源或数源单位", "Name a catalog resource or a unit"), code="trend_subject_required")
    stmt = _visible(select(QualityReport), principal)
    if resource_code:
        stmt = stmt.where(QualityReport.resource_code == resource_code)
    if unit_code:
        stmt = stmt.where(QualityReport.unit_code == unit_code)
    rows = list(db.scalars(stmt.order_by(QualityReport.created_at.desc(), QualityReport.id.desc()).limit(limit)))
    return rows[::-1]


def unit_page(db: Session, *, unit_code: str, principal: Principal | None = None) -> dict[str, Any]:
    """A unit's quality at a glance: counts by verdict, average score, its resources' latest reports, the
    rules failing most often over its last 50 reports, the trend and the newest reports."""
    unit = unit_service.find_unit_by_code(db, code=unit_code)
    if unit is None or (principal is not None and not principal.is_office and principal.unit_code != unit_code):
        raise NotFound(T("找不到该单位", "No such unit"), code="unit_not_found")
    base = select(QualityReport).where(QualityReport.unit_code == unit_code)
    by_verdict = {v: 0 for v in Verdict.__members__}
    for v, n in db.execute(select(QualityReport.verdict, func.count()).where(QualityReport.unit_code == unit_code)
                           .group_by(QualityReport.verdict)):
        by_verdict[v] = int(n)
    average = db.scalar(select(func.avg(QualityReport.score)).where(QualityReport.unit_code == unit_code))
    recent = list(db.scalars(base.order_by(QualityReport.created_at.desc(), QualityReport.id.desc()).limit(50)))
    latest_by_resource: dict[str, QualityReport] = {}
    for r in recent:
        if r.resource_code and r.resource_code not in latest_by_resource:
            latest_by_resource[r.resource_code] = r
    failing: dict[str, dict[str, Any]] = {}
    if recent:
        rule_rows = db.execute(select(QualityReportRule.name, QualityReportRule.dimension, QualityReportRule.failed)
                               .where(QualityReportRule.report_id.in_([r.id for r in recent]),
                                      QualityReportRule.failed > 0))
        for name, dim, failed in rule_rows:
            f = failing.setdefault(name, {"name": name, "dimension": dim, "failed": 0, "reports": 0})
            f["failed"] += int(failed)
            f["reports"] += 1
    top = sorted(failing.values(), key=lambda f: (-f["reports"], -f["failed"], f["name"]))[:10]
    return {"unit": {"code": unit.code, "name": unit.name}, "reports": sum(by_verdict.values()),
            "by_verdict": by_verdict, "average_score": round(float(average), 2) if average is not None else None,
            "resources": [{"resource_code": c, "report_id": r.id, "score": r.score, "verdict": r.verdict,
                           "created_at": r.created_at} for c, r in sorted(latest_by_resource.items())],
            "failing_rules": top, "trend": recent[::-1], "latest": recent[:10]}


# --------------------------------------------------------------------------- the import gate
@dataclass
class _Tally:
    checked: int = 0
    failed: int = 0
    missing: int = 0  # required share: empty values seen
    skipped: str | None = None
    sample: list[dict] = field(default_factory=list)


class ImportGate:
    """The rules of an import run, applied to each converted batch before it is loaded.

    Row rules run on each batch (vectorised, in the engine); rows failing an error rule are kept out with
    the rule and value as their reason, rows failing only warning rules are loaded and counted. A required
    share is summed over the batches and judged once; volume and the delivery's timeliness are judged
    once on the whole delivery when the report is recorded. Uniqueness is judged within a batch here;
    duplicates of the business key across batches are the import's own check (quarantined as conflicts)."""

    def __init__(self, *, rules: Sequence[Rule], context: engine.RuleContext | None, key: Sequence[str],
                 mapping: Sequence[Any], resource_code: str | None, unit_code: str | None, target: str) -> None:
        self.batch_rules = [r for r in rules if not _whole_delivery(r)]
        self.whole_rules = [r for r in rules if _whole_delivery(r)]
        self.context = context
        self.key = list(key)
        self.mapping = list(mapping)
        self.personal = sorted({m.target for m in self.mapping if getattr(m, "pii", False)})
        self.resource_code, self.unit_code, self.target = resource_code, unit_code, target
        self.tallies = [_Tally() for _ in self.batch_rules]
        self.runnable: list[Rule] | None = None  # decided on the first batch, from its columns
        self.error_rows = 0
        self.warning_rows = 0

    def _runnable(self, columns: Sequence[str]) -> list[Rule]:
        """The rules this delivery's columns can answer; a rule naming a column the mapping leaves out (a
        resource's item this profile does not fill) is reported as not run, never fails the import."""
        out = []
        for rule, tally in zip(self.batch_rules, self.tallies, strict=True):
            try:
                engine.validate_rule(rule, list(columns) if rule.kind != "custom_sql" else None)
            except Invalid:
                tally.skipped = "columns_not_delivered"
                continue
            out.append(rule)
        return out

    @property
    def active(self) -> bool:
        return bool(self.batch_rules or self.whole_rules)

    @property
    def rule_names(self) -> set[str]:
        return {r.label for r in self.batch_rules}

    def sift(self, good: pl.DataFrame, source: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
        """Rows to load (``__line`` kept), the failing rows as delivered (source columns, ``__line``,
        ``__reason``) and the count of kept-out rows per error rule (by its name)."""
        empty = source.head(0).with_columns(pl.lit(None, dtype=pl.String).alias(REASON))
        if self.runnable is None:
            self.runnable = self._runnable(good.columns)
        if not self.runnable or good.height == 0:
            return good, empty, {}
        ev = engine.evaluate(good, self.runnable, key=self.key, line_column=LINE, context=self.context,
                             personal=self.personal)
        counts: dict[str, int] = {}
        by_rule = {id(o.rule): o for o in ev.outcomes}
        for rule, tally in zip(self.batch_rules, self.tallies, strict=True):
            o = by_rule.get(id(rule))
            if o is None:
                continue
            tally.skipped = o.skipped or tally.skipped
            tally.checked += int(o.checked)
            if rule.kind == "required_share":
                tally.missing += int(o.detail.get("missing", 0))
                continue
            # custom SQL answers for the whole table each time: its count is the largest seen, not a sum
            tally.failed = max(tally.failed, int(o.failed)) if rule.kind == "custom_sql" else tally.failed + int(o.failed)
            room = SAMPLE_SIZE - len(tally.sample)
            if room > 0 and o.sample:
                tally.sample.extend(o.sample[:room])
            if o.failed and _severity(rule) == Severity.error.value:
                counts[rule.label] = counts.get(rule.label, 0) + int(o.failed)
        errors = ev.errors.fill_null(False)
        n_errors = int(errors.sum() or 0)
        self.error_rows += n_errors
        self.warning_rows += int(ev.warnings.fill_null(False).sum() or 0)
        if not n_errors:
            return good, empty, counts
        # the engine already masks identifiers in reasons (and every value of a personal column)
        flagged = pl.DataFrame({LINE: good[LINE], REASON: ev.reasons}).filter(errors) \
            .with_columns(pl.col(REASON).fill_null("质量规则未通过 / failed a quality rule"))
        bad = source.join(flagged, on=LINE, how="inner").select([*source.columns, REASON])
        return good.filter(~errors), bad, counts

    def outcomes(self, rows: int) -> list[RuleOutcome]:
        """Every rule's outcome over the whole delivery of ``rows`` rows."""
        out = []
        for rule, t in zip(self.batch_rules, self.tallies, strict=True):
            if rule.kind == "required_share":
                share = (t.checked - t.missing) / t.checked if t.checked else 1.0
                ok = share + 1e-12 >= float(rule.params["min_share"])
                out.append(RuleOutcome(rule, t.checked, 0 if ok else t.missing, passed=ok, skipped=t.skipped,
                                       detail={"share": round(share, 6), "min_share": rule.params["min_share"],
                                               "missing": t.missing}))
            else:
                out.append(RuleOutcome(rule, t.checked, t.failed, t.sample, passed=t.failed == 0, skipped=t.skipped))
        if self.whole_rules:
            # These rules read only the row count and the context: a frame of ``rows`` booleans stands in.
            whole = pl.DataFrame({LINE: pl.repeat(False, rows, eager=True, dtype=pl.Boolean)})
            ev = engine.evaluate(whole, self.whole_rules, line_column=None, context=self.context)
            out += ev.outcomes
        return out

    def record(self, db: Session, *, run_id: str, rows: int, reasons: dict[str, int],
               bad_frames: Sequence[pl.DataFrame]) -> QualityReport:
        """The run's report: the import's own checks (``reasons``: the quarantined rows by cause, minus the
        rules' own), the rules' totals over every batch, and the whole-delivery rules."""
        pre_checks, pre_rejected = self._import_checks(rows, reasons, bad_frames)
        evaluation = Evaluation(rows=rows, outcomes=self.outcomes(rows),
                                errors=pl.repeat(True, self.error_rows, eager=True, dtype=pl.Boolean),
                                reasons=pl.Series([], dtype=pl.String),
                                warnings=pl.repeat(True, self.warning_rows, eager=True, dtype=pl.Boolean))
        return record_report(db, subject_kind="import_run", subject_id=run_id, resource_code=self.resource_code,
                             unit_code=self.unit_code, evaluation=evaluation, rows=rows, target=self.target,
                             checks=pre_checks, rejected_rows=pre_rejected, personal=self.personal)

    def _import_checks(self, rows: int, reasons: dict[str, int],
                       bad_frames: Sequence[pl.DataFrame]) -> tuple[list[RuleOutcome], int]:
        """The import's own checks as outcomes, one per cause, with the lines and keys of a sample; and the
        rows they kept out (every quarantined row the rules did not)."""
        names = self.rule_names
        own = {r: n for r, n in reasons.items() if r not in names and n}
        rejected = max(0, sum(f.height for f in bad_frames) - self.error_rows)
        if not own:
            return [], rejected
        source_of = {m.target: m.source for m in self.mapping if getattr(m, "source", None)}
        key_sources = {k: source_of[k] for k in self.key if k in source_of}
        wanted = {*key_sources.values(), LINE, REASON}
        frames = [f.select([c for c in f.columns if c in wanted]) for f in bad_frames if f.height]
        bad = pl.concat(frames, how="diagonal_relaxed") if frames else None
        out = []
        for reason, n in own.items():
            sample: list[dict] = []
            if bad is not None and REASON in bad.columns:
                hits = bad.filter(pl.col(REASON).str.contains(reason, literal=True)).head(SAMPLE_SIZE)
                for rec in hits.iter_rows(named=True):
                    line = rec.get(LINE)
                    sample.append({"line": int(line) if line is not None else None,
                                   "key": {k: rec.get(s) for k, s in key_sources.items()}, "value": None})
            rule = Rule(kind=IMPORT_CHECK, columns=(), params={}, severity=Severity.error,
                        dimension=_import_dimension(reason), name=reason)
            out.append(RuleOutcome(rule=rule, checked=rows, failed=int(n), sample=sample, passed=False))
        return out, rejected


def _import_dimension(reason: str) -> engine.Dimension:
    if "必填但为空" in reason or "业务主键为空" in reason:
        return engine.Dimension.completeness
    if "业务主键重复" in reason:
        return engine.Dimension.uniqueness
    return engine.Dimension.validity


def previous_report(db: Session, *, resource_code: str | None, target: str | None,
                    unit_code: str | None = None) -> QualityReport | None:
    """The last report of the same resource (and unit), else of the same table: what volume and timeliness
    compare a delivery with."""
    stmt = select(QualityReport)
    if resource_code:
        stmt = stmt.where(QualityReport.resource_code == resource_code)
        if unit_code:
            stmt = stmt.where(QualityReport.unit_code == unit_code)
    elif target:
        stmt = stmt.where(QualityReport.target == target)
    else:
        return None
    return db.scalars(stmt.order_by(QualityReport.created_at.desc(), QualityReport.id.desc()).limit(1)).first()


def fill_context(db: Session, context: engine.RuleContext, *, resource_code: str | None, target: str | None,
                 unit_code: str | None = None) -> engine.RuleContext:
    """Add what only the reports know: the previous delivery's rows and time, and now as this one's time."""
    prev = previous_report(db, resource_code=resource_code, target=target, unit_code=unit_code)
    if prev is not None:
        context.previous_rows = prev.rows
        context.last_delivery_at = as_utc(prev.created_at)
    context.delivered_at = utcnow()
    return context


def import_gate(db: Session, database: Database | None = None, *, profile_id: str | None,
                resource_code: str | None, topic: str, table: str, key: Sequence[str] = (),
                mapping: Sequence[Any] = ()) -> ImportGate:
    """The rules an import run applies: its profile's, plus the catalog resource's when the target is that
    resource's table (the spec names the resource, or the table was made for it)."""
    table_row = warehouse.find_table(db, topic=topic, name=table)
    code = resource_code or (table_row.resource_code if table_row is not None else None)
    # A spec may name a resource the catalog does not hold (yet): the report keeps the code, no rules come of it.
    in_catalog = code if code and catalog_service.find_resource(db, code=code) is not None else None
    rules: list[Rule] = []
    if profile_id:
        rules += rules_service.rules_for_profile(db, profile_id=profile_id)
    if in_catalog:
        rules += rules_service.rules_for_resource(db, resource_code=in_catalog)
    target = f"{topic}.{table}"
    unit_code = _unit_of(db, code)
    context = None
    if rules:
        context = rules_service.context_for(db, resource_code=in_catalog, unit_code=unit_code, target=target,
                                            database=database)
        fill_context(db, context, resource_code=code, target=target, unit_code=unit_code)
    return ImportGate(rules=rules, context=context, key=key, mapping=mapping, resource_code=code,
                      unit_code=unit_code, target=target)


def scores_by_unit(db: Session, *, date_from: date | None = None, date_to: date | None = None) -> dict[str, dict[str, Any]]:
    """Per unit code: deliveries and import runs reported, their mean score and counts by verdict — the office's
    built-in dashboard (reports) reads it."""
    stmt = select(QualityReport.unit_code, QualityReport.verdict, func.count(), func.avg(QualityReport.score)) \
        .group_by(QualityReport.unit_code, QualityReport.verdict)
    if date_from:
        stmt = stmt.where(QualityReport.created_at >= _day_start(max(date_from, _EARLIEST)))
    if date_to:
        stmt = stmt.where(QualityReport.created_at < _day_start(min(date_to, _LATEST) + timedelta(days=1)))
    out: dict[str, dict[str, Any]] = {}
    sums: dict[str, tuple[float, int]] = {}
    for unit_code, verdict, n, avg in db.execute(stmt):
        key = unit_code or ""
        row = out.setdefault(key, {"reports": 0, "verdicts": {}})
        row["reports"] += n
        row["verdicts"][verdict] = n
        if avg is not None:
            s, c = sums.get(key, (0.0, 0))
            sums[key] = (s + float(avg) * n, c + n)
    for key, row in out.items():
        s, c = sums.get(key, (0.0, 0))
        row["avg_score"] = round(s / c, 1) if c else None
    return out
