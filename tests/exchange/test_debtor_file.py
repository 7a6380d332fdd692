"""The debtor's file: identity masked, cases, and every fact received about the person, found by
the blind index of each resource table; opening it is audited, showing it in full needs a purpose."""

from __future__ import annotations

import json
import random

from sqlalchemy import func, select

from pbshare.collect.deliveries import service as deliveries
from pbshare.demo.synthetic import synthetic_id_no
from pbshare.exchange.messaging import service as messaging
from pbshare.quality.models import QuarantineRow
from pbshare.security.audit.models import AuditRecord
from tests.channels.conftest import open_connection  # noqa: F401  (fixture)
from tests.collect.test_deliveries import GOOD_ID, ROWS, catalog  # noqa: F401  (fixture)


def land(database, settings, unit, resource: str, rows: list[dict]) -> None:
    env = unit.envelope(type="delivery", resource=resource, payload={"rows": rows})
    with database.session() as s:
        messaging.receive(s, raw=json.dumps(env).encode(), channel="rest", data_dir=settings.resolved_data_dir)
        s.commit()
    assert deliveries.land_pending(database) == 1


def test_debtor_file_gathers_cases_and_facts_masked_and_audited(database, settings, catalog, open_connection,  # noqa: F811
                                                                 as_user):
    court = open_connection("rest", unit_code="SZCOURT")
    land(database, settings, court, "101001", ROWS[:2])
    # Real estate about the same person, and about someone else.
    nr = open_connection("rest", unit_code="SZPNR")
    land(database, settings, nr, "201001", [
        {"unit_no": "440304001001GB00001F00010001", "cert_no": "粤(2024)深圳市不动产权第0000001号",
         "owner_name": "张三", "owner_id_no": GOOD_ID, "location": "深圳市福田区某路1号", "area_m2": "89.5",
         "usage": "住宅", "share_mode": "单独所有", "registered_on": "2024-05-01", "mortgaged": "否", "sealed": "否"},
        {"unit_no": "440305001001GB00002F00020002", "cert_no": "粤(2024)深圳市不动产权第0000002号",
         "owner_name": "赵六", "owner_id_no": synthetic_id_no(random.Random(3)),
         "location": "深圳市南山区某路2号", "area_m2": "60", "usage": "住宅", "share_mode": "单独所有",
         "registered_on": "2024-06-01", "mortgaged": "是", "sealed": "否"},
    ])

    handler = as_user("file_handler", ["case_handler"])
    [debtor] = handler.get("/api/v1/debtors", params={"q": "张三"}).json()
    assert debtor["cases"] == 2 and debtor["id_no"] != GOOD_ID
    file = handler.get(f"/api/v1/debtors/{debtor['id']}/file").json()
    assert sorted(c["case_no"] for c in file["cases"]) == ["(2026)粤03破1号", "(2026)粤03破2号"]
    by_resource = {f["resource_code"]: f for f in file["facts"]}
    assert set(by_resource) == {"101001", "201001"}
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(QuarantineRow)) == 0  # both owners landed
    assert len(by_resource["101001"]["rows"]) == 2
    [home] = by_resource["201001"]["rows"]
    assert home["owner_name"] == "张三" and home["location"] != "深圳市福田区某路1号"  # address masked too
    assert by_resource["201001"]["resource_name"] == "个人不动产登记信息"
    text = json.dumps(file, ensure_ascii=False)
    assert GOOD_ID not in text and "赵六" not in text  # masked, and nobody else's facts
    assert all(r["src_unit"] == "SZCOURT" for r in by_resource["101001"]["rows"])
    assert file["debtor"]["masked"] is True

    assert handler.post(f"/api/v1/debtors/{debtor['id']}/unmask", json={"purpose": "x"}).status_code == 422
    full = handler.post(f"/api/v1/debtors/{debtor['id']}/unmask", json={"purpose": "核实财产申报"}).json()
    assert full["debtor"]["id_no"] == GOOD_ID
    with database.session() as s:
        actions = [e.action for e in s.scalars(select(AuditRecord).where(AuditRecord.object_id == debtor["id"]))]
    assert "debtor.file.read" in actions and "pii.unmask" in actions

    assert as_user("file_operator", ["unit_operator"], "SZPNR").get(
        f"/api/v1/debtors/{debtor['id']}/file").status_code == 403


def test_answers_to_requests_show_in_the_debtors_file(client, database, settings):
    from tests.conftest import login, make_user
    from tests.exchange.requests_world import CA, HANDLER, make_world, switch

    world = make_world(database, settings)
    created: set[str] = set()
    switch(client, login, make_user, database, HANDLER, created)
    req = client.post(f"/api/v1/cases/{world.case_id}/requests", json={
        "kind": "query", "resources": ["401001"], "purpose": "调查婚姻状况", "legal_basis": "《深圳经济特区个人破产条例》"})
    assert req.status_code == 201, req.text
    item = req.json()["items"][0]
    switch(client, login, make_user, database, CA, created)
    assert client.post(f"/api/v1/portal/items/{item['id']}/accept").status_code == 200
    answer = client.post(f"/api/v1/portal/items/{item['id']}/answer", json={"records": [
        {"record_no": "演示J440303-2015-000123", "kind": "结婚登记", "registered_on": "2015-06-01"}]})
    assert answer.status_code == 200, answer.text

    switch(client, login, make_user, database, HANDLER, created)
    file = client.get(f"/api/v1/debtors/{world.debtor_id}/file").json()
    [marriage] = [f for f in file["facts"] if f["resource_code"] == "401001"]
    assert marriage["resource_name"] == "婚姻登记信息"
    [row] = marriage["rows"]
    assert row["record_no"] == "演示J440303-2015-000123" and row["src_unit"] == "SZCA" and row["src_received_at"]
    assert {c["title"] for c in marriage["columns"]} >= {"登记字号", "登记类型", "登记日期"}  # the items' names
    items = [i for r in file["requests"] for q in r["requests"] for i in q["items"]]
    assert [i["state"] for i in items] == ["answered"]
