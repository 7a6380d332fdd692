"""Rule sets on SQLite and PostgreSQL: derived from a demo catalog resource's info items until saved,
then the stored set runs; profiles have their own; the derived rules find exactly the broken rows."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from pbshare.core.errors import Invalid, NotFound
from pbshare.demo import catalog as demo_catalog
from pbshare.quality.rules import service
from pbshare.quality.rules.engine import Severity, evaluate

GOOD_ID = "11010519491231002X"


@pytest.fixture
def catalog(database, settings) -> None:
    with database.session() as s:
        demo_catalog.load_catalog(s, data_dir=settings.resolved_data_dir, database=database)
        s.commit()


def test_rules_derived_from_the_info_items(catalog, db) -> None:
    rules = service.rules_for_resource(db, resource_code="101001")
    shown = {(r.kind, r.columns, tuple(sorted(r.params.items(), key=str)) if r.kind != "allowed" else "values",
              r.severity.value) for r in rules}
    assert shown == {
        ("not_null", ("case_no",), (), "error"),
        ("unique", ("case_no",), (), "error"),
        ("length", ("case_no",), (("max", 64),), "warning"),
        ("length", ("debtor_name",), (("max", 50),), "warning"),
        ("format", ("debtor_id_no",), (("builtin", "resident_id"), ("pii", True)), "error"),
        ("allowed", ("procedure",), "values", "error"),
        ("format", ("accepted_on",), (("builtin", "date"),), "error"),
        ("length", ("judge",), (("max", 50),), "warning"),
        ("allowed", ("status",), "values", "error"),
    }
    procedure = next(r for r in rules if r.columns == ("procedure",))
    assert procedure.params["values"] == ["清算", "重整", "和解"]
    assert procedure.label == "procedure 允许值 / allowed values"


def test_derived_rules_find_the_broken_rows(catalog, db) -> None:
    rows = pl.DataFrame({
        "__line": [2, 3, 4, 5],
        "case_no": ["(2026)粤03破1号", "(2026)粤03破1号", "(2026)粤03破3号", None],
        "debtor_name": ["张三", "李四", "王五", "赵六"],
        "debtor_id_no": [GOOD_ID, "110105194912310021", GOOD_ID, GOOD_ID],
        "procedure": ["清算", "破产", "重整", "和解"],
        "accepted_on": ["2026-03-01", "2026-03-02", "2026-13-45", "2026-03-04"],
        "judge": ["李法官", "王法官", "赵法官", "钱法官"],
        "status": ["已受理", "审理中", "已受理", "已受理"],
    })
    rules = service.rules_for_resource(db, resource_code="101001")
    ev = evaluate(rows, rules, key=["case_no"],
                  personal=service.personal_columns(db, resource_code="101001"))
    failed = {(o.rule.kind, o.rule.columns): o.failed for o in ev.outcomes if o.failed}
    assert failed == {("not_null", ("case_no",)): 1, ("unique", ("case_no",)): 2,
                      ("format", ("debtor_id_no",)): 1, ("allowed", ("procedure",)): 1,
                      ("format", ("accepted_on",)): 1}
    assert ev.errors.to_list() == [True, True, True, True]
    assert "110105********0021" in ev.reasons[1] and "110105194912310021" not in ev.reasons[1]


def test_saved_set_replaces_the_derived_one_and_reset_goes_back(catalog, db) -> None:
    derived = service.rule_set(db, resource_code="101001")
    assert derived["stored"] is False and "debtor_id_no" in derived["columns"]
    edited = [*derived["rules"][:2], {"kind": "cross_field", "columns": [], "severity": "warning", "params": {"expression": "accepted_on <= '2030-12-31'"}}]
    edited[0] = {**edited[0], "severity": "warning"}
    out = service.save_rule_set(db, resource_code="101001", rules=edited)
    assert out["stored"] is True and len(out["rules"]) == 3
    rules = service.rules_for_resource(db, resource_code="101001")
    assert [r.kind for r in rules] == ["not_null", "unique", "cross_field"]
    assert rules[0].severity == Severity.warning and rules[0].id
    service.update_rule(db, rule_id=rules[1].id, rule={**service.rule_out(rules[1]), "enabled": False})
    assert [r.kind for r in service.rules_for_resource(db, resource_code="101001")] == ["not_null", "cross_field"]
    service.delete_rule(db, rule_id=rules[0].id)
    assert [r["kind"] for r in service.rule_set(db, resource_code="101001")["rules"]] == ["unique", "cross_field"]
    service.reset_rule_set(db, resource_code="101001")
    assert len(service.rules_for_resource(db, resource_code="101001")) == 9


def test_adding_to_a_derived_set_keeps_the_derived_rules(catalog, db) -> None:
    added = service.add_rule(db, resource_code="101001",
                             rule={"kind": "required_share", "columns": ["judge"], "params": {"min_share": 0.95}})
    assert added["id"] and added["effective_dimension"] == "completeness"
    assert len(service.rules_for_resource(db, resource_code="101001")) == 10


def test_bad_rules_are_refused_and_nothing_is_saved(catalog, db) -> None:
    with pytest.raises(Invalid) as err:
        service.save_rule_set(db, resource_code="101001", rules=[
            {"kind": "not_null", "columns": ["case_no"]},
            {"kind": "cross_field", "params": {"expression": "finish_on >= accepted_on"}}])
    assert err.value.code == "expression_unknown_column" and err.value.detail["rule"] == 2
    with pytest.raises(Invalid) as err:
        service.add_rule(db, resource_code="101001", rule={"kind": "not_null", "columns": ["nope"]})
    assert "nope" in err.value.message.render("en")
    assert service.rule_set(db, resource_code="101001")["stored"] is False
    with pytest.raises(NotFound):
        service.rules_for_resource(db, resource_code="999999")


def test_profile_sets_and_context(catalog, db) -> None:
    assert service.rules_for_profile(db, profile_id="p-1") == []
    service.save_rule_set(db, profile_id="p-1", rules=[{"kind": "not_null", "columns": ["anything"]}])
    assert [r.columns for r in service.rules_for_profile(db, profile_id="p-1")] == [("anything",)]
    ctx = service.context_for(db, resource_code="101001", unit_code="SZCOURT", target=None)
    assert ctx.expected_every is not None and ctx.expected_every >= timedelta(days=1)
    assert ctx.lookup is None  # without the database handle there is no warehouse to look in
