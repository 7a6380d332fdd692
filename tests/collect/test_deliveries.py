"""A delivery received over a channel lands in its resource's table with provenance, its bad rows
in quarantine, and a receipt with the counts goes back to the unit (DESIGN §7 step 1)."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import func, select

from pbshare.collect.deliveries import service as deliveries
from pbshare.demo import catalog as demo_catalog
from pbshare.demo.synthetic import synthetic_id_no
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.messaging.models import InboxMessage, OutboxMessage
from pbshare.security.crypto.pii import vault_for
from pbshare.warehouse import service as warehouse
from tests.channels.conftest import channel_config, open_connection, prefix, runtime  # noqa: F401  (fixtures)
from tests.channels.test_amqp import broker  # noqa: F401  (fixture)

GOOD_ID = "11010519491231002X"
ROWS = [
    {"case_no": "(2026)粤03破1号", "debtor_name": "张三", "debtor_id_no": GOOD_ID, "procedure": "清算",
     "accepted_on": "2026-03-01", "judge": "李法官", "status": "已受理"},
    {"case_no": "(2026)粤03破2号", "debtor_name": "李四", "debtor_id_no": GOOD_ID, "procedure": "重整",
     "accepted_on": "2026-03-02", "judge": "王法官", "status": "审理中"},
    {"case_no": "(2026)粤03破3号", "debtor_name": "王五", "debtor_id_no": "110105194912310021", "procedure": "清算",
     "accepted_on": "2026-13-45", "judge": "赵法官", "status": "已受理", "court_room": "第三法庭"},
]


@pytest.fixture
def catalog(database, settings) -> None:
    with database.session() as s:
        demo_catalog.load_catalog(s, data_dir=settings.resolved_data_dir, database=database)
        s.commit()


@pytest.fixture
def court(catalog, open_connection):  # noqa: F811
    return open_connection("rest", unit_code="SZCOURT")


def receive(database, settings, body: bytes) -> str:
    with database.session() as s:
        outcome = messaging.receive(s, raw=body, channel="rest", data_dir=settings.resolved_data_dir)
        s.commit()
    return outcome.status


def table_rows(database, topic: str, table: str) -> list[dict]:
    store = warehouse.topic_store(database)
    if not store.has_table(topic, table):
        return []
    t = store.reflect_table(topic, table)
    with database.warehouse_engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(select(t))]


def receipts(database, settings, answered: str) -> list[dict]:
    vault = vault_for(settings.resolved_data_dir)
    with database.session() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.correlation_id == answered,
                                                     OutboxMessage.type == "receipt")).all()
        return [json.loads(vault.open(r.payload_sealed) or "{}")["payload"] for r in rows]


def test_delivery_lands_with_provenance_quarantine_and_receipt(database, settings, court):
    env = court.envelope(type="delivery", resource="101001", payload={"rows": ROWS})
    assert receive(database, settings, json.dumps(env).encode()) == "accepted"
    with database.session() as s:
        state, _ = messaging.inbox_result(s, envelope_id=env["id"])
    assert state == "received"  # held until landed

    assert deliveries.land_pending(database) == 1
    rows = table_rows(database, "shared", "r_101001")
    assert sorted(r["case_no"] for r in rows) == ["(2026)粤03破1号", "(2026)粤03破2号"]
    assert {r["src_unit"] for r in rows} == {"SZCOURT"} and {r["src_message"] for r in rows} == {env["id"]}
    assert all(r["src_received_at"] is not None for r in rows)
    assert GOOD_ID not in json.dumps([{k: str(v) for k, v in r.items()} for r in rows])  # the ID is sealed

    [receipt] = receipts(database, settings, env["id"])
    # One row in three failed: more than the quality verdict allows, so the delivery is rejected (its good
    # rows are kept, nothing is set going: no case file opens until the court corrects it).
    assert receipt["status"] == "rejected" and receipt["verdict"] == "rejected" and receipt["quality_report"]
    assert (receipt["rows"], receipt["loaded"], receipt["quarantined"]) == (3, 2, 1)
    assert receipt["ignored_fields"] == ["court_room"]
    assert "cases_opened" not in receipt and "comparison" not in receipt  # the unit's first delivery

    # The corrected delivery: accepted, compared with the first (same rows: nothing changed), cases open.
    fixed = court.envelope(type="delivery", resource="101001",
                           payload={"rows": [*ROWS[:2], {**ROWS[2], "accepted_on": "2026-03-03",
                                                             "debtor_id_no": synthetic_id_no(random.Random(5))}]})
    receive(database, settings, json.dumps(fixed).encode())
    deliveries.land_pending(database)
    [again] = receipts(database, settings, fixed["id"])
    assert again["verdict"] == "accepted" and again["loaded"] == 3
    assert again["status"] == "accepted_with_warnings"  # court_room is not a published item: ignored, said
    assert again["cases_opened"] == 3
    assert again["comparison"]["added"] == 1 and again["comparison"]["changed"] == 0
    assert again["comparison"]["unchanged"] == 2 and again["comparison"]["removed"] == 0  # an increment
    with database.session() as s:
        from pbshare.exchange.cases import service as cases
        opened = cases.find_case_by_no(s, case_no="(2026)粤03破2号")
        assert opened is not None and opened.stage == "trial" and opened.debtor.name == "张三"
    assert len(table_rows(database, "shared", "r_101001")) == 3

    with database.session() as s:
        state, result = messaging.inbox_result(s, envelope_id=env["id"])
        page = deliveries.deliveries(s)
    assert state == "processed" and result and result["run_id"]
    assert page["total"] == 2 and {i["result"]["loaded"] for i in page["items"]} == {2, 3}

    # The same envelope again is a duplicate; landing it again (a person asked) changes nothing.
    assert receive(database, settings, json.dumps(env).encode()) == "duplicate"
    with database.session() as s:
        deliveries.land_again(s, envelope_id=env["id"])
        s.commit()
    assert deliveries.land_pending(database) == 1
    assert len(table_rows(database, "shared", "r_101001")) == 3


def test_test_envelopes_land_in_the_test_area_only(database, settings, court):
    env = court.envelope(type="delivery", resource="101001", payload={"rows": ROWS[:1]}, test=True)
    assert receive(database, settings, json.dumps(env).encode()) == "accepted"
    deliveries.land_pending(database)
    assert len(table_rows(database, "shared_test", "r_101001")) == 1
    assert table_rows(database, "shared", "r_101001") == []
    [receipt] = receipts(database, settings, env["id"])
    assert receipt["status"] == "accepted"


def test_unknown_resource_and_empty_payload_are_refused_with_a_reason(database, settings, court):
    unknown = court.envelope(type="delivery", resource="999999", payload={"rows": ROWS[:1]})
    empty = court.envelope(type="delivery", resource="101001", payload={"rows": []})
    for env in (unknown, empty):
        receive(database, settings, json.dumps(env).encode())
    deliveries.land_pending(database)
    [r1] = receipts(database, settings, unknown["id"])
    [r2] = receipts(database, settings, empty["id"])
    assert r1["status"] == "refused" and r1["code"] == "delivery_unknown_resource" and "999999" in r1["message"]
    assert r2["status"] == "refused" and r2["code"] == "delivery_bad_rows"
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(InboxMessage)
                        .where(InboxMessage.state == "received")) == 0


def test_deliveries_api_lists_and_lands_again(database, settings, court, as_user):
    env = court.envelope(type="delivery", resource="101001", payload={"rows": ROWS[:2]})
    receive(database, settings, json.dumps(env).encode())
    deliveries.land_pending(database)
    admin = as_user("deliv_admin", ["data_admin"])
    page = admin.get("/api/v1/collect/deliveries").json()
    assert page["total"] == 1 and page["items"][0]["state"] == "processed"
    assert page["items"][0]["result"]["loaded"] == 2
    assert admin.post(f"/api/v1/collect/deliveries/{env['id']}/land").status_code == 202
    assert admin.get("/api/v1/collect/deliveries?state=received").json()["total"] == 1
    assert as_user("deliv_handler", ["case_handler"]).get("/api/v1/collect/deliveries").status_code == 403


@pytest.mark.services
async def test_delivery_over_amqp_lands_and_the_unit_gets_a_verdict_receipt(
        database, settings, catalog, open_connection, runtime, broker, prefix):  # noqa: F811
    from pbshare.collect.deliveries.tasks import Lander
    from tests.channels.test_amqp import cleanup, collect, publish

    amqp_court = open_connection("amqp", unit_code="SZCOURT")
    await runtime.channel("amqp").declare(broker, amqp_court.unit_code)
    await runtime.start()
    lander = Lander(database, every=0.1)
    lander.start()
    try:
        env = amqp_court.envelope(type="delivery", resource="101001", payload={"rows": ROWS})
        await publish(broker, prefix, amqp_court.unit_code, json.dumps(env).encode())
        answers = await collect(broker, prefix, amqp_court.unit_code, 2, timeout=30)
        statuses = sorted(a["payload"].get("status") for a in answers if a["correlation_id"] == env["id"])
        assert statuses == ["accepted", "rejected"]  # received at once; landed, with the verdict (1 bad row in 3)
        landed = next(a for a in answers if a["payload"].get("status") == "rejected")
        assert landed["payload"]["verdict"] == "rejected" and landed["payload"]["quality_report"]
        assert (landed["payload"]["loaded"], landed["payload"]["quarantined"]) == (2, 1)
        assert len(table_rows(database, "shared", "r_101001")) == 2
    finally:
        lander.stop()
        await cleanup(broker, prefix, [amqp_court.unit_code])
