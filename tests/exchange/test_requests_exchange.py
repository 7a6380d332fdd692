"""Requests over a unit's real connection (REST), answers by sheet, reminders, and the demo's portal items."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from pbshare.collect.deliveries import service as deliveries
from pbshare.core.clock import utcnow
from pbshare.demo import service as demo_service
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.cases import service as cases
from pbshare.exchange.connections import service as connections
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.messaging.models import OutboxMessage
from pbshare.exchange.requests import duedates
from pbshare.exchange.requests import service as requests
from pbshare.exchange.requests.models import InfoRequest, RequestItem, RequestItemEvent
from pbshare.security.clients import service as api_clients
from pbshare.security.crypto import algorithms as crypto
from pbshare.security.crypto.pii import vault_for
from tests.conftest import login
from tests.exchange.requests_world import HANDLER, PNR, PSB

URL = "/api/v1/exchange/messages"




def ask(client, case_id, **kw):
    body = {"kind": "query", "resources": ["201001"], "purpose": "调查债务人名下财产",
            "legal_basis": "《深圳经济特区个人破产条例》第三十条"} | kw
    res = client.post(f"/api/v1/cases/{case_id}/requests", json=body)
    assert res.status_code == 201, res.text
    return res.json()


def rest_unit(database, settings, unit_code: str):
    """The unit's live REST connection (its envelope key) and its signed API client (its request signer)."""
    with database.session() as s:
        conn, creds = connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code=unit_code,
                                                    channel="rest", name=f"{unit_code} 系统")
        for step in ("testing", "live"):
            connections.transition(s, connection_id=conn.id, to=step, override_reason="测试 / test setup")
        client, key, secret_hex = api_clients.create_client(s, unit_code=unit_code, name=f"{unit_code} 系统",
                                                            alg=crypto.HMAC_SM3, data_dir=settings.resolved_data_dir)
        cid, kid = client.id, key.id
    env_key = env_mod.Key(key_id=creds.key_id, secret=bytes.fromhex(creds.secret_hex),
                          enc_key=bytes.fromhex(creds.enc_key_hex))

    def post(http, env: dict) -> dict:
        body = env_mod.dumps(env_mod.sign(env, env_key))
        headers = api_clients.sign_request("POST", URL, body, client_id=cid, key_id=kid, alg=crypto.HMAC_SM3,
                                           secret=bytes.fromhex(secret_hex))
        res = http.post(URL, content=body, headers={**headers, "Content-Type": "application/json"})
        assert res.status_code == 200, res.text
        return res.json()

    post.key = env_key  # type: ignore[attr-defined]  # the unit's envelope key, for envelopes sent another way
    return post


def test_item_goes_out_on_the_units_rest_connection_and_the_response_lands_on_the_case(
        act, world, database, settings, client):
    post = rest_unit(database, settings, "SZPNR")
    handler = act(HANDLER)
    item = ask(handler, world.case_id)["items"][0]
    assert item["state"] == "dispatched" and item["route"] == "rest"
    with database.session() as s:
        envelope_id = requests.get_item_row(s, item_id=item["id"]).envelope_id
        out = s.scalar(select(OutboxMessage).where(OutboxMessage.envelope_id == envelope_id))
        sent = json.loads(vault_for(settings.resolved_data_dir).open(out.payload_sealed))
    assert sent["type"] == "request" and sent["receiver"] == "SZPNR" and sent["resource"] == "201001"
    id_no = sent["payload"]["subjects"][0]["id_no"]
    assert "*" not in id_no and sent["payload"]["item_id"] == item["id"]

    client.cookies.clear()  # the unit's system, not a person: signed requests only
    client.headers.pop("X-CSRF-Token", None)
    record = {"owner_name": sent["payload"]["subjects"][0]["name"], "owner_id_no": id_no,
              "location": "深圳市南山区演示街8号", "area_m2": 120, "mortgaged": True}
    wrong = env_mod.build(type="response", sender="SZPNR", receiver="SZBA", correlation_id=envelope_id,
                          payload={"status": "answered", "records": [{"owner_id_no": "123"}]})
    assert post(client, wrong)["type"] == "receipt"  # received, but the answer is not taken
    answer = env_mod.build(type="response", sender="SZPNR", receiver="SZBA", correlation_id=envelope_id,
                           resource="201001", payload={"status": "answered", "records": [record]})
    receipt = post(client, answer)
    assert receipt["type"] == "receipt" and receipt["correlation_id"] == answer["id"]

    handler = act(HANDLER)
    got = handler.get(f"/api/v1/requests/items/{item['id']}").json()
    assert got["state"] == "answered"
    assert got["answer"]["channel"] == "rest" and got["answer"]["message_id"] == answer["id"]
    assert got["answer"]["unit_code"] == "SZPNR" and got["answer"]["answered_by"] == "system:SZPNR"
    assert got["answer"]["records"][0]["owner_id_no"] == world.id_no_masked
    assert any("答复未采用" in (h["note"] or "") for h in got["history"])  # the wrong one, with its reason
    full = handler.post(f"/api/v1/requests/items/{item['id']}/unmask", json={"purpose": "核对权利人身份"}).json()
    assert full["answer"]["masked"] is False and full["answer"]["records"][0]["owner_id_no"] == id_no
    assert full["answer"]["records"][0]["location"] == "深圳市南山区演示街8号" and full["subjects"][0]["id_no"] == id_no

    # the unit's system accepts one item and rejects another, with its reason
    again, refused = (ask(handler, world.case_id)["items"][0] for _ in range(2))
    with database.session() as s:
        env_ids = {i: requests.get_item_row(s, item_id=i).envelope_id for i in (again["id"], refused["id"])}
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    post(client, env_mod.build(type="response", sender="SZPNR", receiver="SZBA", correlation_id=env_ids[again["id"]],
                               payload={"status": "accepted"}))
    post(client, env_mod.build(type="response", sender="SZPNR", receiver="SZBA", correlation_id=env_ids[refused["id"]],
                               payload={"status": "rejected", "reason": "该人员不在本系统登记范围"}))
    handler = act(HANDLER)
    assert handler.get(f"/api/v1/requests/items/{again['id']}").json()["state"] == "accepted"
    no = handler.get(f"/api/v1/requests/items/{refused['id']}").json()
    assert no["state"] == "rejected" and no["reject_reason"] == "该人员不在本系统登记范围"

    # the due date passes: the unit is reminded on its channel, the handler on the case page
    with database.session() as s:
        made = requests.remind_due(s, utcnow() + timedelta(days=12), data_dir=settings.resolved_data_dir)
        assert [(r.item_id, r.kind) for r in made] == [(again["id"], "overdue")]
        assert made[0].sent_envelope_id is not None
        assert requests.remind_due(s, utcnow() + timedelta(days=12), data_dir=settings.resolved_data_dir) == []


def test_nearing_and_overdue_reminders_show_in_the_portal_and_on_the_case(act, world, database):
    handler = act(HANDLER)
    item = ask(handler, world.case_id)["items"][0]
    due = date_of(item["due_on"])
    with database.session() as s:
        near = utcnow() + timedelta(days=(due - duedates.local_today()).days - 1)
        assert [r.kind for r in requests.remind_due(s, near)] == ["nearing"]
    op = act(PNR)
    detail = op.get(f"/api/v1/portal/items/{item['id']}").json()
    assert [r["kind"] for r in detail["reminders"]] == ["nearing"] and detail["reminders"][0]["label"] == "即将到期"
    with database.session() as s:
        late = utcnow() + timedelta(days=(due - duedates.local_today()).days + 1)
        assert [r.kind for r in requests.remind_due(s, late)] == ["overdue"]
    handler = act(HANDLER)
    page = handler.get(f"/api/v1/cases/{world.case_id}/requests").json()
    assert sorted(r["kind"] for r in page["reminders"]) == ["nearing", "overdue"]


def date_of(text: str) -> date:
    return date.fromisoformat(text)


def test_operator_answers_by_excel_template_and_by_gbk_csv(act, world):
    handler = act(HANDLER)
    query = ask(handler, world.case_id)["items"][0]
    check = ask(handler, world.case_id, kind="verification", resources=["301001"], check_values=[
        {"resource": "301001", "values": {"plate_no": "粤B·D12345"}},
        {"resource": "301001", "values": {"plate_no": "粤B·F67890"}}])["items"][0]

    op = act(PNR)
    res = op.get(f"/api/v1/portal/items/{query['id']}/template")
    assert res.status_code == 200 and "201001" in res.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(res.content))
    header = [c.value for c in wb["答复"][1]]
    assert header[:3] == ["权利人姓名", "权利人证件号码", "不动产单元号"]
    ws = wb["答复"]
    ws.append(["演示·甲", None, "440303001001GB00001F0001", "粤(2019)深圳市不动产权第0000001号", "深圳市福田区演示路2号",
               75.2, "住宅", "共同共有", "2019-05-06", "否", "否"])
    ws.append(["演示·乙", None, "440303001001GB00001F0002", None, None, "abc"])
    buf = io.BytesIO()
    wb.save(buf)
    bad = op.post(f"/api/v1/portal/items/{query['id']}/upload",
                  files={"file": ("答复.xlsx", buf.getvalue(), "application/octet-stream")})
    assert bad.status_code == 422 and any("area_m2" in p for p in bad.json()["error"]["detail"]["problems"])
    ws.delete_rows(3)
    buf = io.BytesIO()
    wb.save(buf)
    ok = op.post(f"/api/v1/portal/items/{query['id']}/upload",
                 files={"file": ("答复.xlsx", buf.getvalue(), "application/octet-stream")})
    assert ok.status_code == 200, ok.text
    assert ok.json()["rows"] == 1 and ok.json()["item"]["answer"]["channel"] == "upload"
    assert ok.json()["item"]["answer"]["records"][0]["share_mode"] == "共同共有"
    assert op.post(f"/api/v1/portal/items/{query['id']}/upload",
                   files={"file": ("a.txt", b"x", "text/plain")}).json()["error"]["code"] == "bad_file_type"

    op = act(PSB)
    template = load_workbook(io.BytesIO(op.get(f"/api/v1/portal/items/{check['id']}/template").content))["答复"]
    assert [[c.value for c in row] for row in template.iter_rows(min_row=2)] == [
        [0, "粤B·D12345", None, None], [1, "粤B·F67890", None, None]]
    text = io.StringIO()
    w = csv.writer(text)
    w.writerow(["序号", "号牌号码", "核查结果", "说明"])
    w.writerow([0, "粤B·D12345", "一致", ""])
    w.writerow([1, "粤B·F67890", "不一致", "登记为他人所有"])
    res = op.post(f"/api/v1/portal/items/{check['id']}/upload",
                  files={"file": ("核查.csv", text.getvalue().encode("gbk"), "text/csv")})
    assert res.status_code == 200, res.text
    results = res.json()["item"]["answer"]["results"]
    assert [(r["result"], r["note"]) for r in results] == [("match", None), ("mismatch", "登记为他人所有")]


def test_demo_leaves_items_waiting_for_the_demo_operators(database, settings, client):
    with database.session() as s:
        summary = demo_service.run(s, data_dir=settings.resolved_data_dir, cases=3)
    assert summary["requests"] == 3
    with database.session() as s:
        assert demo_service.run(s, data_dir=settings.resolved_data_dir, cases=3)["requests"] == 0
    login(client, "pnr_operator", demo_service.DEMO_PASSWORD)
    counts = client.get("/api/v1/portal/counts").json()
    assert counts["todo"] == 2 and counts["overdue"] == 1
    client.cookies.clear()
    login(client, "ca_operator", demo_service.DEMO_PASSWORD)
    items = client.get("/api/v1/portal/items?view=todo").json()["items"]
    assert sorted(i["kind"] for i in items) == ["query", "verification"]


def test_destroying_an_expired_case_takes_its_requests_with_it(act, world, database):
    ask(act(HANDLER), world.case_id)
    with database.session() as s:
        assert cases.destroy_cases(s, case_ids=[world.case_id])["bankruptcy_case"] == 1
    with database.session() as s:
        for table in (InfoRequest, RequestItem, RequestItemEvent):
            assert s.scalar(select(func.count()).select_from(table)) == 0


def test_a_file_based_resource_is_answered_from_the_latest_delivery_about_the_person(
        act, world, database, settings):
    with database.session() as s:
        id_no = cases.debtor_id_no(s, debtor_id=world.debtor_id, data_dir=settings.resolved_data_dir)
        name = cases.get_debtor(s, debtor_id=world.debtor_id).name
    hrss = rest_unit(database, settings, "SZHRSS").key

    def deliver(period: str, base: int) -> str:
        row = {"name": name, "id_no": id_no, "employer": "演示科技有限公司", "insurance": "养老保险",
               "period": period, "base_yuan": base, "state": "正常参保"}
        env = env_mod.sign(env_mod.build(type="delivery", sender="SZHRSS", receiver="SZBA", resource="601001",
                                         payload={"rows": [row]}), hrss)
        with database.session() as s:
            assert messaging.receive(s, raw=env_mod.dumps(env), channel="rest",
                                     data_dir=settings.resolved_data_dir).status == "accepted"
        assert deliveries.land_pending(database) == 1
        return env["id"]

    deliver("202609", 8000)
    latest = deliver("202610", 9000)
    handler = act(HANDLER)
    items = {i["resource_code"]: i for i in ask(handler, world.case_id, resources=["601001", "201001"])["items"]}
    assert items["201001"]["route"] == "portal"  # not a file-based resource: asked as usual
    item = items["601001"]
    assert item["state"] == "answered" and item["route"] == "delivery"
    answer = item["answer"]
    assert answer["channel"] == "delivery" and answer["message_id"] == latest and answer["unit_code"] == "SZHRSS"
    assert [r["period"] for r in answer["records"]] == ["202610"]  # the latest delivery only
    assert answer["records"][0]["id_no"] == world.id_no_masked and "接收的数据答复" in answer["note"]
