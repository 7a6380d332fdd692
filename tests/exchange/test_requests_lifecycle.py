"""Requests to units through the API: a handler asks, an operator answers in the portal, the handler checks."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from pbshare.exchange.requests import duedates, service
from pbshare.exchange.requests.schemas import RequestIn
from pbshare.security.audit import service as audit
from pbshare.units.principal import Principal
from tests.exchange.requests_world import CA, HANDLER, PNR, PSB


def ask(client, case_id, **kw):
    body = {"kind": "query", "resources": ["201001", "401001"], "purpose": "调查债务人名下财产",
            "legal_basis": "《深圳经济特区个人破产条例》第三十条"} | kw
    return client.post(f"/api/v1/cases/{case_id}/requests", json=body)


def test_handler_asks_operator_answers_in_portal_handler_checks(act, world, database):
    handler = act(HANDLER)
    res = ask(handler, world.case_id)
    assert res.status_code == 201, res.text
    req = res.json()
    assert [i["resource_code"] for i in req["items"]] == ["201001", "401001"]
    assert {i["unit_code"] for i in req["items"]} == {"SZPNR", "SZCA"}
    assert all(i["state"] == "dispatched" and i["route"] == "portal" for i in req["items"])
    assert req["subjects"][0]["id_no"] == world.id_no_masked and req["subjects"][0]["masked"] is True
    today = duedates.local_today()
    assert req["items"][0]["due_on"] == duedates.add_working_days(today, 5).isoformat()
    pnr_item = next(i for i in req["items"] if i["unit_code"] == "SZPNR")
    ca_item = next(i for i in req["items"] if i["unit_code"] == "SZCA")

    op = act(PNR)
    assert op.get("/api/v1/portal/counts").json() == {"todo": 1, "overdue": 0, "answered": 0, "reminders": 0}
    todo = op.get("/api/v1/portal/items?view=todo").json()
    assert [i["id"] for i in todo["items"]] == [pnr_item["id"]]
    detail = op.get(f"/api/v1/portal/items/{pnr_item['id']}").json()
    assert detail["subjects"][0]["id_no"] == world.id_no_masked
    assert [i["code"] for i in detail["info_items"]][:2] == ["owner_name", "owner_id_no"]
    full = op.post(f"/api/v1/portal/items/{pnr_item['id']}/unmask", json={"purpose": "在登记系统中查找权利人"}).json()
    id_no = full["subjects"][0]["id_no"]
    assert full["subjects"][0]["masked"] is False and "*" not in id_no
    assert op.post(f"/api/v1/portal/items/{pnr_item['id']}/accept").json()["state"] == "accepted"

    bad = op.post(f"/api/v1/portal/items/{pnr_item['id']}/answer",
                  json={"records": [{"owner_name": "演示·某", "area_m2": "很大", "colour": "红"}]})
    assert bad.status_code == 422
    problems = bad.json()["error"]["detail"]["problems"]
    assert any("area_m2" in p for p in problems) and any("colour" in p for p in problems)

    record = {"owner_name": full["subjects"][0]["name"], "owner_id_no": id_no, "unit_no": "440303001001GB00001F0001",
              "location": "深圳市罗湖区演示路1号101", "area_m2": "89.5", "share_mode": "单独所有",
              "registered_on": "2019-05-06", "mortgaged": "否", "sealed": False}
    answered = op.post(f"/api/v1/portal/items/{pnr_item['id']}/answer", json={"records": [record]})
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "answered"
    assert [h["to_state"] for h in answered.json()["history"]] == ["draft", "submitted", "dispatched", "accepted",
                                                                   "answered"]
    assert op.get("/api/v1/portal/counts").json()["answered"] == 1

    handler = act(HANDLER)
    page = handler.get(f"/api/v1/cases/{world.case_id}/requests").json()
    item = next(i for i in page["requests"][0]["items"] if i["id"] == pnr_item["id"])
    rec = item["answer"]["records"][0]
    assert rec["owner_id_no"] == world.id_no_masked and rec["location"] == "深圳市罗湖区****"
    assert rec["area_m2"] == 89.5 and rec["mortgaged"] is False
    assert item["answer"]["answered_by"] == "op_pnr" and item["answer"]["channel"] == "portal"
    assert handler.get("/api/v1/requests/counts").json()["answered"] == 1
    clear = handler.post(f"/api/v1/requests/items/{pnr_item['id']}/unmask", json={"purpose": "核对不动产坐落"}).json()
    assert clear["answer"]["records"][0]["location"] == "深圳市罗湖区演示路1号101"
    assert handler.post(f"/api/v1/requests/items/{pnr_item['id']}/check").json()["state"] == "checked"
    assert handler.post(f"/api/v1/requests/items/{pnr_item['id']}/close").json()["state"] == "closed"
    again = handler.post(f"/api/v1/requests/items/{pnr_item['id']}/close")
    assert again.status_code == 409 and again.json()["error"]["code"] == "bad_transition"
    assert "已办结" in again.json()["error"]["message"]

    withdrawn = handler.post(f"/api/v1/requests/items/{ca_item['id']}/withdraw")
    assert withdrawn.json()["state"] == "withdrawn"
    ca = act(CA)
    late = ca.post(f"/api/v1/portal/items/{ca_item['id']}/accept")
    assert late.status_code == 409
    assert "已撤回" in late.json()["error"]["message"] and late.json()["error"]["detail"]["allowed"] == []
    rejected = ca.post(f"/api/v1/portal/items/{ca_item['id']}/reject", json={"reason": "不属本单位登记范围"})
    assert rejected.status_code == 409

    with database.session() as s:
        actions = set(s.scalars(select(audit.AuditRecord.action)))
        assert {"requests.create", "pii.unmask", "requests.answer", "requests.answers.read"} <= actions
        assert audit.verify(s).ok


def test_operator_of_another_unit_sees_nothing(act, world):
    handler = act(HANDLER)
    item = ask(handler, world.case_id, resources=["201001"]).json()["items"][0]
    assert handler.get(f"/api/v1/portal/items/{item['id']}").status_code == 403  # no requests:answer
    other = act(CA)
    assert other.get("/api/v1/portal/items?view=all").json()["total"] == 0
    for res in (other.get(f"/api/v1/portal/items/{item['id']}"),
                other.post(f"/api/v1/portal/items/{item['id']}/accept"),
                other.post(f"/api/v1/portal/items/{item['id']}/answer", json={"records": []}),
                other.get(f"/api/v1/portal/items/{item['id']}/template")):
        assert res.status_code == 404, res.text
        assert res.json()["error"]["code"] == "item_not_found"
    assert ask(other, world.case_id).status_code == 403  # an operator cannot ask


def test_bad_requests_are_refused_with_what_to_do(act, world):
    handler = act(HANDLER)
    unknown = ask(handler, world.case_id, resources=["999999"])
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_resource"
    outbound = ask(handler, world.case_id, resources=["801001"])
    assert outbound.status_code == 422 and outbound.json()["error"]["code"] == "not_inbound"
    past = ask(handler, world.case_id, due_on="2020-01-01")
    assert past.status_code == 422 and past.json()["error"]["code"] == "due_in_past"
    no_values = ask(handler, world.case_id, kind="verification", resources=["301001"])
    assert no_values.status_code == 422 and no_values.json()["error"]["code"] == "check_values_missing"
    assert handler.post("/api/v1/requests/items/nope/check").status_code == 404


def test_draft_is_submitted_later_and_verification_is_answered_per_value(act, world):
    handler = act(HANDLER)
    draft = ask(handler, world.case_id, kind="verification", resources=["301001"], submit=False,
                check_values=[{"resource": "301001", "values": {"plate_no": "粤B·D12345"}},
                              {"resource": "301001", "values": {"plate_no": "粤B·F67890"}}]).json()
    item = draft["items"][0]
    assert item["state"] == "draft" and item["kind_label"] == "核查"
    sent = handler.post(f"/api/v1/requests/{draft['id']}/submit").json()
    assert sent["items"][0]["state"] == "dispatched"
    twice = handler.post(f"/api/v1/requests/{draft['id']}/submit")
    assert twice.status_code == 409 and twice.json()["error"]["detail"]["state"] == "dispatched"

    op = act(PSB)
    detail = op.get(f"/api/v1/portal/items/{item['id']}").json()
    assert [v["plate_no"] for v in detail["check_values"]] == ["粤B·D12345", "粤B·F67890"]
    half = op.post(f"/api/v1/portal/items/{item['id']}/answer", json={"results": [{"index": 0, "result": "match"}]})
    assert half.status_code == 422 and "1 个核查值未答复" in half.json()["error"]["message"]
    done = op.post(f"/api/v1/portal/items/{item['id']}/answer",
                   json={"results": [{"index": 0, "result": "match"}, {"index": 1, "result": "not_found"}]})
    assert done.status_code == 200, done.text
    handler = act(HANDLER)
    got = handler.get(f"/api/v1/requests/{draft['id']}").json()["items"][0]["answer"]["results"]
    assert [(r["values"]["plate_no"], r["label"]) for r in got] == [("粤B·D12345", "一致"), ("粤B·F67890", "未查到")]


def test_due_dates_count_working_days_over_national_day_2026(database, settings, world):
    # 2026: 1–7 October off; Saturday 10 October is an adjusted working day.
    assert duedates.add_working_days(date(2026, 9, 29), 5) == date(2026, 10, 12)
    assert duedates.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert not duedates.is_working_day(date(2026, 10, 5)) and duedates.is_working_day(date(2026, 10, 10))
    assert duedates.add_working_days(date(2027, 1, 1), 1) == date(2027, 1, 4)  # beyond the calendar: weekdays
    who = Principal(user_id="u", username="h", display_name="h", unit_id="x", unit_code="SZBA",
                    roles=frozenset(), permissions=frozenset(), via="session")
    with database.session() as s:
        req = service.create_request(s, case_id=world.case_id, principal=who, data_dir=settings.resolved_data_dir,
                                     body=RequestIn(resources=["201001"], purpose="国庆前发出的查询",
                                                    legal_basis="条例第三十条"), today=date(2026, 9, 29))
        assert req.items[0].due_on == date(2026, 10, 12)


def test_an_answer_is_compared_with_the_units_last_answer_on_the_same_person(act, world):
    first_record = {"owner_name": "演示·某", "unit_no": "440303001001GB00001F0001", "area_m2": 89.5}
    second_record = {"owner_name": "演示·某", "unit_no": "440303001001GB00001F0002", "area_m2": 60}
    ids = []
    for records in ([first_record], [first_record, second_record]):
        handler = act(HANDLER)
        item = ask(handler, world.case_id, resources=["201001"]).json()["items"][0]
        ids.append(item["id"])
        op = act(PNR)
        res = op.post(f"/api/v1/portal/items/{item['id']}/answer", json={"records": records})
        assert res.status_code == 200, res.text
    handler = act(HANDLER)
    first, second = (handler.get(f"/api/v1/requests/items/{i}").json()["answer"] for i in ids)
    assert first["compared"] is None
    assert second["compared"]["item_id"] == ids[0]
    assert (second["compared"]["added"], second["compared"]["removed"], second["compared"]["unchanged"]) == (1, 0, 1)


def test_a_plugged_in_check_refuses_an_answer_with_its_reason(act, world):
    def no_palaces(db, spec, records):
        return [f"{spec.code}: 建筑面积 {r['area_m2']} 不合常理 / implausible area" for r in records
                if (r.get("area_m2") or 0) > 10000]

    service.on_answer_check(no_palaces)
    try:
        handler = act(HANDLER)
        item = ask(handler, world.case_id, resources=["201001"]).json()["items"][0]
        op = act(PNR)
        res = op.post(f"/api/v1/portal/items/{item['id']}/answer", json={"records": [{"owner_name": "演示·某",
                                                                                      "area_m2": 99999}]})
        assert res.status_code == 422 and "不合常理" in res.json()["error"]["message"]
        assert op.get(f"/api/v1/portal/items/{item['id']}").json()["state"] == "dispatched"
    finally:
        service.ANSWER_CHECKS.remove(no_palaces)


def test_an_answer_is_checked_by_the_resources_quality_rules(act, world, database):
    from tests.exchange.requests_world import PNR

    admin = act(("q_admin", ["data_admin"], "SZBA"))
    rule = {"kind": "range", "columns": ["area_m2"], "params": {"min": 1, "max": 10000}, "name": "面积须在 1 到 10000 之间"}
    assert admin.post("/api/v1/quality/rule-sets/resources/201001/rules", json=rule).status_code == 201
    handler = act(HANDLER)
    item = next(i for i in ask(handler, world.case_id).json()["items"] if i["unit_code"] == "SZPNR")
    op = act(PNR)
    full = op.post(f"/api/v1/portal/items/{item['id']}/unmask", json={"purpose": "在登记系统中查找权利人"}).json()
    assert op.post(f"/api/v1/portal/items/{item['id']}/accept").status_code == 200
    record = {"owner_name": full["subjects"][0]["name"], "owner_id_no": full["subjects"][0]["id_no"],
              "unit_no": "440303001001GB00001F0001", "location": "深圳市罗湖区演示路1号101", "area_m2": "0.5",
              "share_mode": "单独所有", "registered_on": "2019-05-06", "mortgaged": "否", "sealed": False}
    refused = op.post(f"/api/v1/portal/items/{item['id']}/answer", json={"records": [record]})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "answer_invalid"
    assert any("第 1 条" in p and "面积" in p for p in refused.json()["error"]["detail"]["problems"])
    ok = op.post(f"/api/v1/portal/items/{item['id']}/answer", json={"records": [{**record, "area_m2": "89.5"}]})
    assert ok.status_code == 200 and ok.json()["state"] == "answered"
