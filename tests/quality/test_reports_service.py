"""Quality reports through the service: scoring and verdict rules, the on_rejected hook, volume rejecting
a delivery, masked samples, filters, trends, the unit page, scoring settings and permissions."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from pbshare.core.clock import utcnow
from pbshare.core.errors import Invalid, NotFound
from pbshare.core.pagination import PageParams
from pbshare.quality.reports import scoring
from pbshare.quality.reports import service as reports
from pbshare.quality.reports.scoring import Checked
from pbshare.quality.rules import engine
from pbshare.quality.rules.engine import Rule, RuleContext, Severity
from pbshare.units import service as unit_service

IDS = ["110101199003071234", "110101199003071235", "110101199003071236", "110101199003071237"]


def _frame(ages: list[int | None]) -> pl.DataFrame:
    n = len(ages)
    return pl.DataFrame({"__line": list(range(2, n + 2)), "id_no": (IDS * (n // 4 + 1))[:n], "age": ages},
                        schema={"__line": pl.Int64, "id_no": pl.String, "age": pl.Int64})


AGE = Rule(kind="range", columns=("age",), params={"min": 0, "max": 150}, name="年龄范围")
FILLED = Rule(kind="not_null", columns=("age",), name="年龄必填", severity=Severity.warning)


def _record(db, ages, rules=(AGE, FILLED), *, context=None, subject="d-1", unit_code=None, **kw):
    ev = engine.evaluate(_frame(ages), list(rules), key=["id_no"], context=context, personal=["id_no"])
    return reports.record_report(db, subject_kind="delivery", subject_id=subject, resource_code=None,
                                 unit_code=unit_code, evaluation=ev, rows=len(ages), target="case.people", **kw)


def test_scores_are_shares_of_checks_passed_and_weights_renormalise():
    s = scoring.score([Checked("a", "validity", "error", 100, 10), Checked("b", "validity", "error", 100, 0),
                       Checked("c", "completeness", "warning", 50, 25)])
    assert s.dimensions == {"completeness": 50.0, "validity": 95.0, "consistency": None, "uniqueness": None,
                            "timeliness": None}
    assert s.overall == round((30 * 50 + 30 * 95) / 60, 2)
    assert scoring.score([]).overall is None
    custom = scoring.score([Checked("a", "validity", "error", 10, 5), Checked("t", "timeliness", "error", 1, 0)],
                           {"validity": 1, "timeliness": 3})
    assert custom.overall == 87.5
    with pytest.raises(Invalid):
        scoring.checked_weights({"speed": 1})
    with pytest.raises(Invalid):
        scoring.checked_weights({d: 0 for d in scoring.DIMENSIONS})


def test_verdicts_follow_the_documented_rule():
    ok = [Checked("a", "validity", "error", 100, 0)]
    assert scoring.verdict(ok, rows=100, error_rows=0, warning_rows=0)[0] == "accepted"
    assert scoring.verdict(ok, rows=100, error_rows=5, warning_rows=0)[0] == "accepted_with_warnings"  # 5 % ≤ 5 %
    assert scoring.verdict(ok, rows=100, error_rows=6, warning_rows=0)[0] == "rejected"
    assert scoring.verdict(ok, rows=100, error_rows=0, warning_rows=3)[0] == "accepted_with_warnings"
    volume = [Checked("数据量", "completeness", "error", 1, 1, set_level=True)]
    assert scoring.verdict(volume, rows=100, error_rows=0, warning_rows=0)[0] == "rejected"
    warn_volume = [Checked("数据量", "completeness", "warning", 1, 1, set_level=True)]
    assert scoring.verdict(warn_volume, rows=100, error_rows=0, warning_rows=0)[0] == "accepted_with_warnings"


def test_a_report_stores_counts_masked_samples_and_calls_the_rejection_hook(db):
    seen: list[tuple[str, str]] = []
    hook = lambda _db, report: seen.append((report.subject_id, report.verdict))  # noqa: E731
    reports.on_rejected.append(hook)
    try:
        fine = _record(db, [30, 40, None, 50], subject="fine")
        bad = _record(db, [30, 200, -1, 50], subject="bad")
    finally:
        reports.on_rejected.remove(hook)
    assert (fine.verdict, fine.error_rows, fine.warning_rows) == ("accepted_with_warnings", 0, 1)
    assert (bad.verdict, bad.error_rows) == ("rejected", 2)
    assert seen == [("bad", "rejected")]
    rule = bad.rules[0]
    assert (rule.name, rule.checked, rule.failed, rule.dimension) == ("年龄范围", 4, 2, "validity")
    assert [s["line"] for s in rule.sample] == [3, 4]
    assert rule.sample[0]["key"] == {"id_no": "110101********1235"}
    assert bad.scores["validity"] == 50.0 and bad.scores["completeness"] == 100.0
    assert bad.score == 75.0


def test_volume_against_the_previous_delivery_rejects_a_short_one(db):
    volume = Rule(kind="volume", columns=(), params={"max_change_pct": 30}, name="数据量变化")
    first = _record(db, [30] * 10, rules=[volume], subject="jan")
    assert first.rules[0].skipped == "no_previous_delivery" and first.verdict == "accepted"
    ctx = reports.fill_context(db, RuleContext(), resource_code=None, target="case.people")
    assert ctx.previous_rows == 10
    second = _record(db, [30] * 4, rules=[volume], context=ctx, subject="feb")
    assert second.verdict == "rejected" and "数据量变化" in second.verdict_reason
    assert second.rules[0].detail["change_pct"] == 60.0


def test_override_needs_a_reason_and_a_different_verdict_and_calls_the_hook(db):
    report = _record(db, [30, 40, 50, 60])
    with pytest.raises(Invalid) as e:
        reports.override(db, report_id=report.id, verdict="rejected", reason=" ")
    assert e.value.code == "reason_required"
    with pytest.raises(Invalid) as e:
        reports.override(db, report_id=report.id, verdict="accepted", reason="同样的结论")
    assert e.value.code == "same_verdict"
    seen = []
    registered = list(reports.on_rejected)  # other domains' hooks (corrections) stay registered afterwards
    reports.on_rejected.append(lambda _db, r: seen.append(r.id))
    failing = [lambda _db, r: 1 / 0]
    reports.on_rejected.extend(failing)  # a broken hook is logged; the override stands
    try:
        out = reports.override(db, report_id=report.id, verdict="rejected", reason="人工抽查发现地址错位")
    finally:
        reports.on_rejected[:] = registered
    assert (out.verdict, out.computed_verdict, seen) == ("rejected", "accepted", [report.id])
    with pytest.raises(NotFound):
        reports.override(db, report_id="nope", verdict="accepted", reason="理由")


def test_filters_trends_unit_page_and_scoring_settings(db):
    unit_service.upsert_unit(db, code="SZRS", name="市人力资源和社会保障局", kind="other")
    a = _record(db, [30, 40, 50, 60], subject="a", unit_code="SZRS")
    b = _record(db, [30, 200, -1, 60], subject="b", unit_code="SZRS")
    _record(db, [30, 40, 50, 60], subject="c")
    b.created_at = utcnow() + timedelta(seconds=1)
    db.flush()
    rows, total = reports.list_reports(db, params=PageParams(page=1, size=10), unit_code="SZRS")
    assert total == 2 and [r.subject_id for r in rows] == ["b", "a"]
    assert reports.list_reports(db, params=PageParams(), verdict="rejected")[1] == 1
    today = utcnow().date()
    assert reports.list_reports(db, params=PageParams(), date_from=today + timedelta(days=2))[1] == 0
    with pytest.raises(Invalid):
        reports.list_reports(db, params=PageParams(), date_from=today, date_to=today - timedelta(days=1))
    points = reports.trend(db, unit_code="SZRS")
    assert [p.subject_id for p in points] == ["a", "b"] and [p.score for p in points] == [100.0, 75.0]
    page = reports.unit_page(db, unit_code="SZRS")
    assert page["reports"] == 2 and page["by_verdict"]["rejected"] == 1 and page["average_score"] == 87.5
    assert page["failing_rules"][0]["name"] == "年龄范围"
    with pytest.raises(NotFound):
        reports.unit_page(db, unit_code="NOPE")
    reports.set_scoring(db, weights={"validity": 50}, reject_share=0.6)
    c = _record(db, [30, 200, -1, 60], subject="d")
    assert c.verdict == "accepted_with_warnings" and c.weights["validity"] == 50 and c.reject_share == 0.6
    with pytest.raises(Invalid):
        reports.set_scoring(db, weights={}, reject_share=1.5)
    assert a.verdict == "accepted"


def test_routes_need_permissions(as_user):
    client = as_user("viewer", ["report_viewer"])
    assert client.get("/api/v1/quality/reports").status_code == 200
    res = client.post("/api/v1/quality/reports/x/override", json={"verdict": "accepted", "reason": "理由"})
    assert res.status_code == 403
    assert client.put("/api/v1/quality/scoring", json={"weights": {}, "reject_share": 0.1}).status_code == 403
    assert client.get("/api/v1/quality/reports/nope").status_code == 404
    assert client.get("/api/v1/quality/reports?verdict=maybe").status_code == 422


class _Field:
    def __init__(self, target: str, pii: bool = False) -> None:
        self.target, self.source, self.pii = target, target, pii


def test_the_import_gate_sums_batches_and_judges_the_whole_delivery_once(db):
    rules = [AGE, Rule(kind="required_share", columns=("age",), params={"min_share": 0.8}, name="年龄填报率"),
             Rule(kind="volume", columns=(), params={"max_change_pct": 50}, name="数据量变化"),
             Rule(kind="not_null", columns=("phone",), name="电话必填")]  # a column this delivery does not fill
    gate = reports.ImportGate(rules=rules, context=RuleContext(previous_rows=20), key=["id_no"],
                              mapping=[_Field("id_no", pii=True), _Field("age")], resource_code=None, unit_code=None,
                              target="case.people")
    first = _frame([30, 200, None, 40])
    load, kept_out, counts = gate.sift(first, first.with_columns(pl.col("age").cast(pl.String).alias("年龄")))
    assert (load.height, kept_out["__line"].to_list(), counts) == (3, [3], {"年龄范围": 1})
    assert "年龄" in kept_out.columns and kept_out["__reason"][0].startswith("年龄范围")
    second = _frame([None, None, 50, 60]).with_columns(pl.col("__line") + 4)
    load, bad, counts = gate.sift(second, second)
    assert (load.height, bad.height) == (4, 0)
    by_name = {o.rule.name: o for o in gate.outcomes(8)}
    assert (by_name["年龄范围"].checked, by_name["年龄范围"].failed) == (8, 1)
    share = by_name["年龄填报率"]  # 3 of 8 empty over both batches: 62.5 % < 80 %
    assert (share.passed, share.failed, share.detail["share"]) == (False, 3, 0.625)
    volume = by_name["数据量变化"]  # 8 rows after 20: −60 % > 50 %
    assert (volume.passed, volume.detail["change_pct"]) == (False, 60.0)
    assert (by_name["电话必填"].skipped, by_name["电话必填"].checked) == ("columns_not_delivered", 0)
    report = gate.record(db, run_id="run-1", rows=8, reasons={"年龄范围": 1}, bad_frames=[kept_out, bad])
    assert (report.verdict, report.error_rows, report.subject_kind) == ("rejected", 1, "import_run")
    assert [r.name for r in report.rules] == ["年龄范围", "年龄填报率", "电话必填", "数据量变化"]  # no import check
