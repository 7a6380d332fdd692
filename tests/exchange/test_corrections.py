"""Corrections (纠错) go round: a rejected delivery suggests one, the data admin raises it in one step, the court
hears of it as a signed ``correction`` envelope, answers with a corrected delivery that names it, and the
correction shows the comparison of before and after; a unit without a live connection answers in its portal."""

from __future__ import annotations

import json

import pytest

from pbshare.collect.deliveries import service as deliveries
from pbshare.demo import catalog as demo_catalog
from pbshare.exchange.connections import service as connections
from pbshare.exchange.corrections import service as corrections  # noqa: F401  (registers its hooks)
from pbshare.exchange.messaging import service as messaging
from pbshare.units import service as unit_service
from tests.channels.conftest import open_connection  # noqa: F401  (fixture)
from tests.conftest import login, make_user

GOOD_ID = "11010519491231002X"
ROWS = [
    {"case_no": "(2026)粤03破1号", "debtor_name": "张三", "debtor_id_no": GOOD_ID, "procedure": "清算",
     "accepted_on": "2026-03-01", "judge": "李法官", "status": "已受理"},
    {"case_no": "(2026)粤03破2号", "debtor_name": "李四", "debtor_id_no": GOOD_ID, "procedure": "重整",
     "accepted_on": "2026-03-02", "judge": "王法官", "status": "审理中"},
    {"case_no": "(2026)粤03破3号", "debtor_name": "王五", "debtor_id_no": "110105194912310021", "procedure": "清算",
     "accepted_on": "2026-13-45", "judge": "赵法官", "status": "已受理"},
]


@pytest.fixture
def court(database, settings, open_connection):  # noqa: F811
    with database.session() as s:
        demo_catalog.load_catalog(s, data_dir=settings.resolved_data_dir, database=database)
    return open_connection("rest", unit_code="SZCOURT")


def send(database, settings, env: dict) -> None:
    with database.session() as s:
        outcome = messaging.receive(s, raw=json.dumps(env, ensure_ascii=False).encode(), channel="rest",
                                    data_dir=settings.resolved_data_dir)
    assert outcome.status == "accepted", outcome


def first_delivery(database, settings, court) -> str:
    env = court.envelope(type="delivery", resource="101001", payload={"rows": ROWS})
    send(database, settings, env)
    deliveries.land_pending(database)
    return env["id"]


def test_correction_round_trip_over_the_units_connection(client, database, settings, court):
    first_delivery(database, settings, court)  # one row in three is bad: the quality verdict rejects it
    make_user(database, "dataadmin", ["data_admin"])
    login(client, "dataadmin")
    [suggested] = client.get("/api/v1/exchange/corrections", params={"state": "suggested"}).json()
    assert suggested["unit_code"] == "SZCOURT" and suggested["resource_code"] == "101001"
    assert suggested["rules"] and suggested["rows"], "the failing rules and rows come from the quality report"
    assert GOOD_ID not in json.dumps(suggested, ensure_ascii=False) and "110105194912310021" not in json.dumps(
        suggested, ensure_ascii=False)

    # One step from the rejected report: sent as a correction envelope on the court's live connection.
    raised = client.post(f"/api/v1/exchange/corrections/from-report/{suggested['quality_report_id']}", json={})
    assert raised.status_code == 201, raised.text
    c = raised.json()
    assert c["id"] == suggested["id"] and c["state"] == "sent" and c["route"] == "rest" and c["envelope_id"]
    with database.session() as s:
        got = messaging.pull(s, unit_id=unit_service.get_unit_by_code(s, code="SZCOURT").id,
                             data_dir=settings.resolved_data_dir)
    [env] = [e for e in got if e["type"] == "correction"]
    assert env["id"] == c["envelope_id"] and env["payload"]["correction_id"] == c["id"]
    assert env["payload"]["rules"] and "correlation_id" in env["payload"]["how"]

    # The court answers: the bad row fixed, another row's judge changed.
    fixed = [{**ROWS[1], "judge": "周法官"}, {**ROWS[2], "accepted_on": "2026-03-03",
                                                "debtor_id_no": "11010519491231002X"}]
    send(database, settings, court.envelope(type="receipt", correlation_id=env["id"], payload={"status": "accepted"}))
    answer = court.envelope(type="delivery", resource="101001", correlation_id=env["id"], payload={"rows": fixed})
    send(database, settings, answer)
    waiting = client.get(f"/api/v1/exchange/corrections/{c['id']}").json()
    assert waiting["state"] == "answered" and waiting["answer_envelope_id"] == answer["id"]
    assert waiting["comparison"] == {}  # not landed yet
    deliveries.land_pending(database)
    done = client.get(f"/api/v1/exchange/corrections/{c['id']}").json()
    comp = done["comparison"]
    assert comp["landed"] and comp["status"] in ("accepted", "accepted_with_warnings")
    assert (comp["added"], comp["changed"]) == (1, 1) and comp["comparison_id"]
    rows = client.get(f"/api/v1/compare/comparisons/{comp['comparison_id']}/rows", params={"kind": "changed"}).json()
    [changed] = rows["items"]
    assert changed["changes"]["judge"] == ["王法官", "周法官"]

    closed = client.post(f"/api/v1/exchange/corrections/{c['id']}/close", json={"note": "已核对"})
    assert closed.json()["state"] == "closed"
    assert [e["state"] for e in closed.json()["events"]] == ["suggested", "sent", "answered", "closed"]
    again = client.post(f"/api/v1/exchange/corrections/{c['id']}/withdraw", json={"reason": "不需要了"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "correction_closed"


def test_portal_answer_without_a_live_connection(client, database, settings, court):
    delivered = first_delivery(database, settings, court)
    with database.session() as s:
        connections.transition(s, connection_id=court.connection_id, to="suspended")
    make_user(database, "handler", ["case_handler"])
    make_user(database, "court_op", ["unit_operator"], unit_code="SZCOURT")
    make_user(database, "viewer", ["report_viewer"])
    login(client, "viewer")
    assert client.post("/api/v1/exchange/corrections", json={
        "subject_kind": "delivery", "subject_id": delivered, "what": "x"}).status_code == 403
    login(client, "handler")
    bad = client.post("/api/v1/exchange/corrections", json={"subject_kind": "delivery", "subject_id": "nope",
                                                            "what": "审判员姓名有误"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "correction_unknown_delivery"
    raised = client.post("/api/v1/exchange/corrections", json={
        "subject_kind": "delivery", "subject_id": delivered, "what": "第 2 行审判员姓名有误，请更正",
        "rows": [{"line": 2, "key": {"case_no": "(2026)粤03破2号"}, "reason": "审判员应为周法官"}],
        "rule": "审判员须与裁定书一致"})
    assert raised.status_code == 201, raised.text
    c = raised.json()
    assert c["state"] == "waiting" and c["route"] == "portal" and c["rules"][0]["name"] == "审判员须与裁定书一致"

    login(client, "court_op")
    [mine] = client.get("/api/v1/portal/corrections").json()
    assert mine["id"] == c["id"] and mine["rows"][0]["line"] == 2
    unknown = client.post(f"/api/v1/portal/corrections/{c['id']}/answer",
                          json={"rows": [{"case_no": "(2026)粤03破2号", "room": "1"}]})
    assert unknown.status_code == 422 and "room" in unknown.json()["error"]["message"]
    answered = client.post(f"/api/v1/portal/corrections/{c['id']}/answer",
                           json={"rows": [{**ROWS[1], "judge": "周法官"}], "note": "已更正"})
    assert answered.status_code == 200, answered.text
    comp = answered.json()["comparison"]
    assert answered.json()["state"] == "answered" and comp["portal"] and comp["changed"] == 1

    login(client, "handler")
    assert client.get(f"/api/v1/exchange/corrections/{c['id']}").json()["comparison"]["changed"] == 1
    assert client.post(f"/api/v1/exchange/corrections/{c['id']}/close", json={}).json()["state"] == "closed"
