"""The rules engine on small frames broken on purpose: every kind finds exactly the rows it should,
error rows carry a reason naming the rule and the (masked) value, warnings load, and the
cross-field parser refuses anything outside its small language."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from pbshare.core.errors import Invalid
from pbshare.quality.rules import builtins, expressions
from pbshare.quality.rules.engine import Dimension, Rule, RuleContext, Severity, evaluate

GOOD_ID = "11010519491231002X"
GOOD_ID_LOWER_X = "11010519491231002x"
BAD_CHECK = "110105194912310021"
BAD_DATE = "110105194913310025"
BAD_REGION = "99010519491231002X"
GOOD_USCC = "91350100M000100Y43"
GOOD_USCC_2 = "91110000100000589B"  # hypothetical: recomputed below if invalid


def frame() -> pl.DataFrame:
    return pl.DataFrame({
        "__line": [2, 3, 4, 5, 6, 7],
        "case_no": ["C1", "C2", "C3", "C3", None, "C6"],
        "name": ["张三", None, "王五", "赵六", "钱七", "   "],
        "id_no": [GOOD_ID, BAD_CHECK, GOOD_ID_LOWER_X, BAD_DATE, None, BAD_REGION],
        "age": [30, 200, -1, 45, None, 60],
        "status": ["已受理", "审理中", "未知", "已受理", "已受理", None],
        "start_on": [date(2024, 1, 1)] * 6,
        "end_on": [date(2024, 6, 1), date(2023, 12, 31), None, date(2024, 1, 1), date(2025, 1, 1), date(2020, 1, 1)],
        "phone": ["13800138000", "1380013800", "010-88886666", None, "23800138000", "13912345678"],
    })


def outcome(rules: list[Rule], **kw):
    ev = evaluate(frame(), rules, key=["case_no"], **kw)
    return ev, ev.outcomes[0]


def test_not_null_counts_missing_values_and_optionally_blank_text() -> None:
    _, o = outcome([Rule("not_null", ("name",))])
    assert (o.checked, o.failed) == (6, 1)
    assert o.sample[0]["line"] == 3 and o.sample[0]["key"] == {"case_no": "C2"}
    _, o = outcome([Rule("not_null", ("name",), {"blank": True})])
    assert o.failed == 2


def test_unique_single_and_composite_key() -> None:
    _, o = outcome([Rule("unique", ("case_no",))])
    assert o.failed == 2 and [s["line"] for s in o.sample] == [4, 5]
    _, o = outcome([Rule("unique", ("case_no", "status"))])
    assert o.failed == 0
    _, o = outcome([Rule("unique", ("case_no",), {"keep": "first"})])
    assert o.failed == 1 and o.sample[0]["line"] == 5


def test_resident_id_builtin_checks_digit_date_and_region_and_masks_the_sample() -> None:
    _, o = outcome([Rule("format", ("id_no",), {"builtin": "resident_id"})])
    assert o.failed == 3  # bad check digit, 13th month, province 99; lower-case x is fine, null is not_null's
    assert {s["line"] for s in o.sample} == {3, 5, 7}
    assert all("********" in s["value"] for s in o.sample)
    assert GOOD_ID not in str(o.sample) and BAD_CHECK not in str(o.sample)


def test_other_builtins() -> None:
    values = pl.DataFrame({"v": ["13800138000", "010-88886666", "a@b.cn", "2024-02-29", "2023-02-29", "518000",
                                 "51800", None]})
    def bad(name: str) -> list[bool]:
        return values.select(builtins.BUILTINS[name][0](pl.col("v"))).to_series().to_list()
    assert bad("mobile") == [False, True, True, True, True, True, True, False]
    assert bad("phone")[:2] == [False, False]
    assert bad("email") == [True, True, False, True, True, True, True, False]
    assert bad("date") == [True, True, True, False, True, True, True, False]
    assert bad("postcode") == [True, True, True, True, True, False, True, False]


def _uscc(body17: str) -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(chars.index(c) * pow(3, i, 31) for i, c in enumerate(body17))
    return body17 + chars[(31 - total % 31) % 31]


def _org(code8: str) -> str:
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(code8, weights, strict=True))
    return code8 + "0123456789X0"[11 - total % 11]


def test_uscc_checks_both_check_characters() -> None:
    good = _uscc("91440300" + _org("MA5D1234"))
    bad_final = good[:-1] + ("0" if good[-1] != "0" else "1")
    org_wrong = _org("MA5D1234")[:-1] + ("1" if _org("MA5D1234")[-1] != "1" else "2")
    bad_org = _uscc("91440300" + org_wrong)  # final character right, embedded organisation code wrong
    f = pl.DataFrame({"u": [good, bad_final, bad_org, None]})
    assert f.select(builtins.uscc_invalid(pl.col("u"))).to_series().to_list() == [False, True, True, False]


def test_format_pattern_range_allowed_length() -> None:
    ev = evaluate(frame(), [
        Rule("format", ("phone",), {"pattern": r"1[3-9][0-9]{9}"}),
        Rule("range", ("age",), {"min": 0, "max": 150}),
        Rule("allowed", ("status",), {"values": ["已受理", "审理中"]}),
        Rule("length", ("name",), {"min": 2, "max": 2}),
        Rule("range", ("end_on",), {"min": "2021-01-01"}),
    ], key=["case_no"])
    assert [o.failed for o in ev.outcomes] == [3, 2, 1, 1, 1]
    assert ev.outcomes[2].sample[0]["value"] == "未知"


def test_range_on_text_reads_numbers_and_fails_what_is_not_a_number() -> None:
    f = pl.DataFrame({"amount": ["10", "abc", "-5", None, "99.5"]})
    ev = evaluate(f, [Rule("range", ("amount",), {"min": 0, "max": 100})])
    assert ev.outcomes[0].failed == 2


def test_cross_field_condition() -> None:
    _, o = outcome([Rule("cross_field", (), {"expression": "end_on >= start_on"})])
    assert o.failed == 2 and {s["line"] for s in o.sample} == {3, 7}
    assert o.sample[0]["value"] == {"end_on": "2023-12-31", "start_on": "2024-01-01"}
    assert o.rule.effective_dimension == Dimension.consistency
    _, o = outcome([Rule("cross_field", (), {"expression": "age BETWEEN 0 AND 120 OR age IS NULL"})])
    assert o.failed == 2
    _, o = outcome([Rule("cross_field", (), {"expression": "status IN ('已受理', '审理中') AND length(name) <= 2"})])
    # line 4: 未知; line 7: NULL AND FALSE is false (a three-character name); line 3: NULL name, unknown, passes
    assert o.failed == 2 and {s["line"] for s in o.sample} == {4, 7}


@pytest.mark.parametrize("text", [
    "__import__('os').system('id')", "end_on >= (SELECT max(x) FROM t)", "pg_sleep(10) = 1", "a = 1; DROP TABLE t",
    "t.a > 1", "*", "a LIKE '%x'", "CAST(a AS INT) > 1",
])
def test_cross_field_parser_refuses_anything_outside_the_subset(text: str) -> None:
    with pytest.raises(Invalid) as err:
        expressions.to_polars(text)
    assert err.value.status == 422
    assert err.value.code in ("expression_not_allowed", "expression_syntax")


def test_a_column_missing_from_the_delivery_is_reported_not_a_crash() -> None:
    ev = evaluate(frame(), [Rule("cross_field", (), {"expression": "finish_on >= start_on"}),
                            Rule("not_null", ("court",)), Rule("format", ("email",), {"builtin": "email"}),
                            Rule("not_null", ("CASE_NO",))])
    cross, required, optional, upper = ev.outcomes
    assert (cross.skipped, cross.detail) == ("missing_columns", {"missing_columns": ["finish_on"]})
    assert (required.passed, required.failed, required.detail) == (False, 6, {"missing_columns": ["court"]})
    assert optional.skipped == "missing_columns" and optional.passed
    assert upper.failed == 1 and upper.rule.columns == ("case_no",)  # matched case-insensitively


def test_conflict_within_a_delivery_and_between_units() -> None:
    f = pl.DataFrame({"__line": [2, 3, 4, 5], "id_no": [GOOD_ID, GOOD_ID, BAD_CHECK, BAD_CHECK],
                      "name": ["张三", "张叁", "李四", "李四"]})
    ev = evaluate(f, [Rule("conflict", ("id_no",), {"values": ["name"]})], key=["id_no"])
    assert ev.outcomes[0].failed == 2 and ev.errors.to_list() == [True, True, False, False]
    other = pl.DataFrame({"id_no": [BAD_CHECK], "name": ["李肆"]})
    ctx = RuleContext(table=lambda table, cols: other.select(cols))
    ev = evaluate(f, [Rule("conflict", ("id_no",), {"values": ["name"], "against": "civil.persons"})], context=ctx)
    assert ev.outcomes[0].failed == 2 and ev.errors.to_list() == [False, False, True, True]


def test_referential_and_code_table_use_the_lookup() -> None:
    codes = pl.Series(["C1", "C2", "C6"])
    ctx = RuleContext(lookup=lambda table, column: codes)
    ev = evaluate(frame(), [Rule("referential", ("case_no",), {"table": "court.cases", "column": "case_no"}),
                            Rule("allowed", ("case_no",), {"code_table": "court.cases"})], context=ctx)
    assert [o.failed for o in ev.outcomes] == [2, 2]
    ev = evaluate(frame(), [Rule("referential", ("case_no",), {"table": "court.cases", "column": "case_no"})])
    assert ev.outcomes[0].skipped == "no_lookup" and ev.outcomes[0].failed == 0


def test_set_rules_required_share_volume_timeliness() -> None:
    last = datetime(2026, 11, 1, 8, 0)
    ctx = RuleContext(previous_rows=10, expected_every=timedelta(days=1), last_delivery_at=last,
                      delivered_at=last + timedelta(days=3))
    ev = evaluate(frame(), [Rule("required_share", ("name",), {"min_share": 0.9}),
                            Rule("required_share", ("name",), {"min_share": 0.8}),
                            Rule("volume", (), {"max_change_pct": 30}),
                            Rule("volume", (), {"max_change_pct": 50}),
                            Rule("timeliness", (), {})], context=ctx)
    share_low, share_ok, vol_bad, vol_ok, late = ev.outcomes
    assert (share_low.passed, share_low.failed, share_low.detail["share"]) == (False, 1, 0.833333)
    assert share_ok.passed
    assert (vol_bad.passed, vol_bad.detail["change_pct"]) == (False, 40.0)
    assert vol_ok.passed
    assert (late.passed, late.failed, late.detail["gap_hours"]) == (False, 1, 72.0)
    assert not ev.errors.any()  # set rules judge the delivery, not rows


def test_custom_sql_rows_are_matched_by_key() -> None:
    ctx = RuleContext(sql=lambda sql: pl.DataFrame({"case_no": ["C2", "C6"]}))
    ev = evaluate(frame(), [Rule("custom_sql", (), {"sql": "SELECT case_no FROM court.cases WHERE x"})],
                  key=["case_no"], context=ctx)
    assert ev.outcomes[0].failed == 2 and ev.errors.to_list() == [False, True, False, False, False, True]
    with pytest.raises(Invalid) as err:
        evaluate(frame(), [Rule("custom_sql", (), {"sql": "DELETE FROM court.cases"})], context=ctx)
    assert err.value.code == "sql_not_select"


def test_errors_warnings_and_reasons() -> None:
    ev = evaluate(frame(), [
        Rule("format", ("id_no",), {"builtin": "resident_id"}),
        Rule("range", ("age",), {"min": 0, "max": 150}),
        Rule("allowed", ("status",), {"values": ["已受理", "审理中"]}, severity=Severity.warning),
    ], key=["case_no"])
    assert ev.errors.to_list() == [False, True, True, True, False, True]
    assert ev.warnings.to_list() == [False, False, False, False, False, False]  # line 4 (未知) has an error as well
    only_warning = evaluate(frame(), [Rule("allowed", ("status",), {"values": ["已受理", "审理中"]},
                                           severity=Severity.warning)])
    assert only_warning.warnings.to_list() == [False, False, True, False, False, False]
    assert not only_warning.errors.any() and only_warning.reasons.null_count() == 6
    reasons = ev.reasons.to_list()
    assert reasons[0] is None
    assert reasons[1] == ("id_no 须为有效的居民身份证号码 / must be a valid resident ID number: 110105********0021；"
                          "age 取值范围 / range: 200")
    assert BAD_REGION not in reasons[5] and "990105********002X" in reasons[5]
    assert ev.error_rows == 4


def test_empty_frame_and_no_rules() -> None:
    empty = frame().head(0)
    ev = evaluate(empty, [Rule("not_null", ("name",)), Rule("unique", ("case_no",))])
    assert ev.rows == 0 and [o.failed for o in ev.outcomes] == [0, 0] and ev.errors.len() == 0
    ev = evaluate(frame(), [])
    assert ev.outcomes == [] and not ev.errors.any() and ev.reasons.null_count() == 6


def test_rule_problems_are_clear_422s() -> None:
    for rule in [Rule("bogus", ("a",)), Rule("format", ("name",), {"pattern": "("}),
                 Rule("format", ("name",), {"builtin": "passport"}), Rule("range", ("age",), {}),
                 Rule("required_share", ("name",), {"min_share": 2}), Rule("not_null", ())]:
        with pytest.raises(Invalid) as err:
            evaluate(frame(), [rule])
        assert err.value.status == 422, rule


def test_timeliness_of_rows_against_the_delivery_time() -> None:
    f = pl.DataFrame({"updated_on": ["2026-11-30", "2026-10-01", None, "2026-11-01"]})
    ctx = RuleContext(delivered_at=datetime(2026, 12, 1, 9, 0))
    ev = evaluate(f, [Rule("timeliness", ("updated_on",), {"max_age_days": 30}, severity=Severity.warning)],
                  context=ctx)
    assert ev.outcomes[0].failed == 1 and ev.warnings.to_list() == [False, True, False, False]
    assert ev.outcomes[0].rule.effective_dimension == Dimension.timeliness


@pytest.mark.parametrize("params", [{"min": "soon"}, {"min": [1]}, {"max": True}])
def test_range_bounds_must_be_numbers_or_dates(params: dict) -> None:
    with pytest.raises(Invalid) as err:
        evaluate(frame(), [Rule("range", ("age",), params)])
    assert err.value.code == "rule_invalid"


def test_wrong_parameter_types_are_422_not_crashes() -> None:
    for rule in [Rule("format", ("name",), {"pattern": 5}), Rule("length", ("name",), {"max": "50"}),
                 Rule("allowed", ("status",), {"values": "A,B"}), Rule("volume", (), {"max_change_pct": "x"}),
                 Rule("cross_field", (), {"expression": "coalesce() = 1"})]:
        with pytest.raises(Invalid):
            evaluate(frame(), [rule])


def test_a_condition_the_data_cannot_run_is_reported_on_its_rule() -> None:
    ev = evaluate(frame(), [Rule("not_null", ("name",)),
                            Rule("cross_field", (), {"expression": "end_on > start_on + 'x'"})])
    ok, broken = ev.outcomes
    assert ok.failed == 1
    assert broken.skipped == "rule_error" and broken.detail["error"]
