"""Joint testing (联调测试) gates going live: the court's connection runs its test plan over the REST channel
(the court pulls and posts, every envelope signed), a failed report keeps the go-live button off, a passed one
opens it; an administrator can override with a reason, audited."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from pbshare.catalog.resources import service as catalog
from pbshare.collect.deliveries import service as deliveries
from pbshare.core.errors import Conflict
from pbshare.demo import catalog as demo_catalog
from pbshare.exchange.connections import service as connections
from pbshare.exchange.jointtest import service as jointtest
from pbshare.exchange.messaging import service as messaging
from pbshare.security.audit.models import AuditRecord
from pbshare.units import service as unit_service
from tests.channels.conftest import open_connection  # noqa: F401  (fixture)

ROW = {"case_no": "(2026)粤03破9号", "debtor_name": "联调·测试", "debtor_id_no": jointtest.TEST_ID_NO,
       "procedure": "清算", "accepted_on": "2026-03-01", "judge": "测试法官", "status": "已受理"}


@pytest.fixture
def court(database, settings, open_connection):  # noqa: F811
    with database.session() as s:
        demo_catalog.load_catalog(s, data_dir=settings.resolved_data_dir, database=database)
    return open_connection("rest", unit_code="SZCOURT", state="testing")


def post(database, settings, env: dict) -> str:
    with database.session() as s:
        outcome = messaging.receive(s, raw=json.dumps(env, ensure_ascii=False).encode(), channel="rest",
                                    data_dir=settings.resolved_data_dir)
    return outcome.status


def pull(database, settings, unit_code: str) -> list[dict]:
    with database.session() as s:
        unit = unit_service.get_unit_by_code(s, code=unit_code)
        return messaging.pull(s, unit_id=unit.id, data_dir=settings.resolved_data_dir)


def run_round(database, settings, court, *, records: list[dict], delivery_rows: list[dict]) -> dict:
    """The court's engineer: pull the platform's test envelopes, answer each, send a test delivery."""
    with database.session() as s:
        run = jointtest.start(s, connection_id=court.connection_id, data_dir=settings.resolved_data_dir)
        run_id = run.id
        assert [(st.kind, st.resource_code) for st in run.steps] == [
            ("request", "101001"), ("delivery", "101001"), ("request", "101002"), ("delivery", "101002"),
            ("push", "801001")]
    got = pull(database, settings, "SZCOURT")
    sent = [e for e in got if e["type"] in ("request", "delivery")]
    assert len(sent) == 3 and all(e["test"] for e in sent)  # (and the receipts of the last round's deliveries)
    for e in got:
        assert post(database, settings, court.envelope(type="receipt", correlation_id=e["id"], test=True,
                                                       payload={"status": "accepted"})) == "accepted"
        if e["type"] == "request":
            assert e["payload"]["subjects"][0]["id_no"] == jointtest.TEST_ID_NO
            code = e["resource"]
            answer = records if code == "101001" else []
            assert post(database, settings, court.envelope(
                type="response", correlation_id=e["id"], test=True, resource=code,
                payload={"status": "answered", "records": answer})) == "accepted"
    with database.session() as s:
        ruling = jointtest.sample_record(catalog.get_resource(s, code="101002"))
    for code in ("101001", "101002"):
        rows = delivery_rows if code == "101001" else [ruling]
        assert post(database, settings, court.envelope(type="delivery", resource=code, test=True,
                                                       payload={"rows": rows})) == "accepted"
    deliveries.land_pending(database)
    with database.session() as s:
        return jointtest.run_out(jointtest.evaluate(s, run_id=run_id, data_dir=settings.resolved_data_dir)).model_dump()


def test_no_live_without_a_passed_report_then_live_on_a_passed_one(database, settings, court):
    cid = court.connection_id
    with database.session() as s, pytest.raises(Conflict) as refused:
        connections.transition(s, connection_id=cid, to="live")
    assert refused.value.code == "joint_test_required" and "joint test" in refused.value.message.render("en")

    # A first round: the answer carries a field the resource does not publish, the delivery a bad date.
    report = run_round(database, settings, court, records=[{**ROW, "court_room": "第三法庭"}],
                       delivery_rows=[{**ROW, "accepted_on": "2026-13-45"}])
    assert report["state"] == "failed" and report["waiting"] == 0
    by = {(st["kind"], st["resource_code"]): st for st in report["steps"]}
    assert by[("request", "101001")]["state"] == "failed"
    assert any("court_room" in f for f in by[("request", "101001")]["failures"])
    assert by[("delivery", "101001")]["state"] == "failed"
    assert any("accepted_on" in f for f in by[("delivery", "101001")]["failures"])
    assert by[("push", "801001")]["state"] == "passed" and by[("push", "801001")]["elapsed_ms"] is not None
    with database.session() as s:
        status = jointtest.go_live_status(s, connection_id=cid)
    assert not status.can_go_live and "未通过" in (status.reason or "")  # the button's tooltip says why
    with database.session() as s, pytest.raises(Conflict):
        connections.transition(s, connection_id=cid, to="live")

    # Fixed: every round trip passes; nothing reached the production tables.
    report = run_round(database, settings, court, records=[ROW], delivery_rows=[ROW])
    assert report["state"] == "passed", report
    assert all(st["state"] == "passed" and st["answered_at"] for st in report["steps"])
    with database.session() as s:
        assert jointtest.go_live_status(s, connection_id=cid).can_go_live
        xlsx = jointtest.export_excel(s, run_id=report["id"])
        conn = connections.transition(s, connection_id=cid, to="live")
        assert conn.state == "live"
        moved = s.scalars(select(AuditRecord).where(AuditRecord.action == "exchange.connection.state",
                                                 AuditRecord.object_id == cid)).all()
        assert any((m.detail or {}).get("report") == report["id"] for m in moved)
    wb = load_workbook(io.BytesIO(xlsx))
    steps = [[c.value for c in r] for r in wb["步骤 Steps"].iter_rows(min_row=2)]
    assert len(steps) == 5 and all("passed" in str(r[4]) for r in steps)
    assert wb["报告 Report"]["B4"].value.endswith("passed")


def test_administrator_overrides_with_a_reason_through_the_api(as_user, database, settings, court):
    client = as_user("ops", ["sys_admin"])
    cid = court.connection_id
    status = client.get(f"/api/v1/exchange/connections/{cid}/go-live").json()
    assert status["can_go_live"] is False and "联调测试" in status["reason"]
    refused = client.post(f"/api/v1/exchange/connections/{cid}/state", json={"to": "live"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "joint_test_required"
    started = client.post(f"/api/v1/exchange/connections/{cid}/jointtests")
    assert started.status_code == 201 and started.json()["waiting"] == 5
    ended = client.post(f"/api/v1/exchange/jointtests/{started.json()['id']}/finish").json()
    assert ended["state"] == "failed" and all("No answer" in f or "未收到" in f
                                              for st in ended["steps"] if st["state"] == "failed"
                                              for f in st["failures"])
    xlsx = client.get(f"/api/v1/exchange/jointtests/{ended['id']}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    short = client.post(f"/api/v1/exchange/connections/{cid}/go-live", json={"override_reason": "ok"})
    assert short.status_code == 422 and short.json()["error"]["code"] == "override_reason_short"
    live = client.post(f"/api/v1/exchange/connections/{cid}/go-live",
                       json={"override_reason": "单位系统升级窗口，先上线后补测"})
    assert live.status_code == 200 and live.json()["state"] == "live"
    with database.session() as s:
        moved = s.scalars(select(AuditRecord).where(AuditRecord.action == "exchange.connection.state",
                                                 AuditRecord.object_id == cid)).all()
    assert any((m.detail or {}).get("override") == "单位系统升级窗口，先上线后补测" and m.actor_name == "ops"
               for m in moved)
