"""The rule-set routes as a data admin uses them (SQLite and PostgreSQL): see the derived rules, edit
and save, add, change, delete, reset; clear 422s; no access without quality:manage. And the
warehouse lookups a referential rule and a custom SQL rule run on."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import insert

from pbshare.core.errors import Invalid
from pbshare.demo import catalog as demo_catalog
from pbshare.quality.rules import service
from pbshare.quality.rules.engine import Rule, evaluate
from pbshare.warehouse import service as warehouse

BASE = "/api/v1/quality"


@pytest.fixture
def catalog(database, settings) -> None:
    with database.session() as s:
        demo_catalog.load_catalog(s, data_dir=settings.resolved_data_dir, database=database)
        s.commit()


def test_data_admin_manages_a_resource_rule_set(catalog, as_user) -> None:
    client = as_user("dq_admin", ["data_admin"])
    got = client.get(f"{BASE}/rule-sets/resources/101001")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["stored"] is False and len(body["rules"]) == 9
    id_rule = next(r for r in body["rules"] if r["params"].get("builtin") == "resident_id")
    assert id_rule["label"] == "debtor_id_no 须为有效的居民身份证号码 / must be a valid resident ID number"

    rules = [{k: r[k] for k in ("kind", "columns", "params", "severity", "name", "enabled")} for r in body["rules"]]
    rules[0]["severity"] = "warning"
    rules.append({"kind": "cross_field", "columns": [], "params": {"expression": "accepted_on <= '2030-12-31'"},
                  "severity": "error", "name": "受理日期不晚于 2030 年 / accepted by 2030"})
    saved = client.put(f"{BASE}/rule-sets/resources/101001", json={"rules": rules})
    assert saved.status_code == 200, saved.text
    assert saved.json()["stored"] is True and len(saved.json()["rules"]) == 10
    assert client.get(f"{BASE}/rule-sets/resources/101001").json()["rules"][0]["severity"] == "warning"

    added = client.post(f"{BASE}/rule-sets/resources/101001/rules",
                        json={"kind": "required_share", "columns": ["judge"], "params": {"min_share": 0.9}})
    assert added.status_code == 201, added.text
    rule_id = added.json()["id"]
    changed = client.put(f"{BASE}/rules/{rule_id}", json={"kind": "required_share", "columns": ["judge"],
                                                         "params": {"min_share": 0.5}, "severity": "warning"})
    assert changed.status_code == 200 and changed.json()["params"] == {"min_share": 0.5}
    assert client.delete(f"{BASE}/rules/{rule_id}").status_code == 204
    assert client.delete(f"{BASE}/rules/{rule_id}").status_code == 404
    assert len(client.get(f"{BASE}/rule-sets/resources/101001").json()["rules"]) == 10

    assert client.get(f"{BASE}/rule-sets/resources/101001/derived").json()["rules"][0]["severity"] == "error"
    assert client.delete(f"{BASE}/rule-sets/resources/101001").status_code == 204
    assert client.get(f"{BASE}/rule-sets/resources/101001").json()["stored"] is False

    profile = client.put(f"{BASE}/rule-sets/profiles/abc-123", json={"rules": [{"kind": "not_null", "columns": ["x"]}]})
    assert profile.status_code == 200 and profile.json()["owner"] == "profile"
    kinds = client.get(f"{BASE}/rule-kinds").json()
    assert {k["kind"] for k in kinds} >= {"not_null", "cross_field", "custom_sql", "volume", "timeliness"}


BAD_RULES = [
    ({"kind": "cross_field", "params": {"expression": "__import__('os').system('x') = 1"}}, "expression_not_allowed"),
    ({"kind": "cross_field", "params": {"expression": "accepted_on >= (SELECT 1)"}}, "expression_not_allowed"),
    ({"kind": "cross_field", "params": {"expression": "accepted_on >="}}, "expression_syntax"),
    ({"kind": "format", "columns": ["judge"], "params": {"builtin": "passport"}}, "rule_invalid"),
    ({"kind": "not_null", "columns": ["court_room"]}, "rule_invalid"),
    ({"kind": "custom_sql", "params": {"sql": "DROP TABLE x"}}, "sql_not_select"),
]


def test_bad_rules_get_a_clear_422(catalog, as_user) -> None:
    client = as_user("dq_admin", ["data_admin"])
    for rule, code in BAD_RULES:
        res = client.post(f"{BASE}/rule-sets/resources/101001/rules", json=rule)
        assert res.status_code == 422, res.text
        assert res.json()["error"]["code"] == code, rule
        assert res.json()["error"]["message"]
    assert client.get(f"{BASE}/rule-sets/resources/101001").json()["stored"] is False


def test_condition_check_route(as_user) -> None:
    client = as_user("dq_admin", ["data_admin"])
    ok = client.post(f"{BASE}/rule-expressions/check", json={"expression": "end_on >= start_on",
                                                            "columns": ["end_on", "start_on"]})
    assert ok.status_code == 200 and ok.json()["columns"] == ["end_on", "start_on"]
    bad = client.post(f"{BASE}/rule-expressions/check", json={"expression": "exec('rm -rf /')"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "expression_not_allowed"
    unknown = client.post(f"{BASE}/rule-expressions/check", json={"expression": "a > b", "columns": ["a"]})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "expression_unknown_column"


def test_without_quality_manage_no_access(catalog, as_user) -> None:
    client = as_user("handler", ["case_handler"])
    assert client.get(f"{BASE}/rule-sets/resources/101001").status_code == 403
    assert client.put(f"{BASE}/rule-sets/resources/101001", json={"rules": []}).status_code == 403


def test_referential_and_custom_sql_read_the_warehouse(catalog, database, db) -> None:
    warehouse.create_topic(db, database, name="court", title="法院")
    warehouse.create_manual_table(db, database, topic="court", name="cases", title="案件", fields=[], resource_code="101001")
    db.commit()
    table = warehouse.topic_store(database).reflect_table("court", "cases")
    with database.warehouse_engine.begin() as conn:
        conn.execute(insert(table), [{"case_no": "C1", "judge": "李"}, {"case_no": "C2", "judge": "王"}])
    ctx = service.context_for(db, resource_code="101001", unit_code=None, target=None, database=database)
    frame = pl.DataFrame({"__line": [2, 3, 4], "case_no": ["C1", "C9", "C2"]})
    ev = evaluate(frame, [
        Rule("referential", ("case_no",), {"table": "court.cases", "column": "case_no"}),
        Rule("custom_sql", (), {"sql": "SELECT case_no FROM court.cases WHERE judge = '王'"}),
    ], key=["case_no"], context=ctx)
    assert [o.failed for o in ev.outcomes] == [1, 1]
    assert ev.errors.to_list() == [False, True, True]
    with pytest.raises(Invalid) as err:
        evaluate(frame, [Rule("custom_sql", (), {"sql": "SELECT * FROM quality_rule"})], context=ctx)
    assert err.value.code == "sql_table_denied"
