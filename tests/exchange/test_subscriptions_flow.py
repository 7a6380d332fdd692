"""A restriction decided on a demo case reaches public security, market regulation and the credit centre.

Each subscriber's system is a small real MQTT client (Mosquitto) that receipts what it gets; the office
approves the conditional subscriptions with a reason; the per-subscriber view shows it acknowledged.
"""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from tests.channels.conftest import channel_config, eventually, open_connection, prefix, runtime  # noqa: F401
from tests.channels.test_mqtt import UnitClient, forget_sessions  # noqa: F401
from tests.conftest import login, make_user
from tests.exchange.requests_world import make_world

pytestmark = pytest.mark.services

SUBSCRIBERS = ("SZPSB", "SZAMR", "SZCREDIT")


async def call(fn, *args, **kw):
    return await asyncio.to_thread(fn, *args, **kw)


async def switch(client, username: str) -> None:
    """Log in as ``username``; while the runtime writes, SQLite may answer a login 503 busy: try again."""
    for attempt in range(10):
        try:
            await call(login, client, username)
            return
        except AssertionError:
            if attempt == 9:
                raise
            await asyncio.sleep(0.5)


async def test_a_restriction_reaches_every_subscriber_with_receipts(client, database, settings, runtime,  # noqa: F811
                                                                    open_connection, prefix, forget_sessions):  # noqa: F811
    world = make_world(database, settings)
    units = {code: open_connection("mqtt", unit_code=code) for code in SUBSCRIBERS}
    clients = {code: await asyncio.to_thread(UnitClient, prefix, code) for code in SUBSCRIBERS}
    make_user(database, "k1_admin", ["data_admin"])
    make_user(database, "k1_handler", ["case_handler"])
    make_user(database, "k1_psb", ["unit_operator"], "SZPSB")
    try:
        # the credit centre's own operator cannot subscribe for another unit; public security's can for itself
        await switch(client, "k1_psb")
        res = await call(client.post, "/api/v1/subscriptions", json={
            "unit_code": "SZAMR", "resource_code": "801002", "channel": "mqtt", "purpose": "执行行为限制措施"})
        assert res.status_code == 404
        res = await call(client.post, "/api/v1/subscriptions", json={
            "unit_code": "SZPSB", "resource_code": "801002", "channel": "mqtt", "purpose": "执行限制出境措施",
            "filters": {"procedures": ["清算", "重整", "和解"]}})
        assert res.status_code == 201, res.text
        assert res.json()["state"] == "pending"  # 801002 is conditional: it waits for the office
        subs = [res.json()["id"]]

        await switch(client, "k1_admin")
        for code in ("SZAMR", "SZCREDIT"):
            res = await call(client.post, "/api/v1/subscriptions", json={
                "unit_code": code, "resource_code": "801002", "channel": "mqtt", "purpose": "执行行为限制措施"})
            assert res.status_code == 201, res.text
            subs.append(res.json()["id"])
        res = await call(client.post, "/api/v1/subscriptions", json={
            "unit_code": "SZCREDIT", "resource_code": "801002", "channel": "socket", "purpose": "执行行为限制措施"})
        assert res.status_code == 422 and res.json()["error"]["code"] == "no_connection"
        res = await call(client.post, "/api/v1/subscriptions", json={
            "unit_code": "SZCREDIT", "resource_code": "801003", "channel": "mqtt", "purpose": "信用修复"})
        assert res.json()["state"] == "active"  # unconditional: starts at once
        res = await call(client.post, f"/api/v1/subscriptions/{subs[0]}/decision", json={"approve": True, "reason": ""})
        assert res.status_code == 422
        for sid in subs:
            res = await call(client.post, f"/api/v1/subscriptions/{sid}/decision",
                             json={"approve": True, "reason": "用途符合共享条件"})
            assert res.json()["state"] == "active", res.text

        await runtime.start()
        await asyncio.sleep(0.5)
        await switch(client, "k1_handler")
        res = await call(client.post, f"/api/v1/cases/{world.case_id}/decisions", json={
            "kind": "restriction", "decision_no": "（演示）深破限字〔2026〕1号", "effective_on": date.today().isoformat(),
            "restriction": "限制出境"})
        assert res.status_code == 201, res.text
        assert res.json()["deliveries"] == 3
        bad = await call(client.post, f"/api/v1/cases/{world.case_id}/decisions", json={
            "kind": "restriction", "decision_no": "X-2", "effective_on": date.today().isoformat(), "restriction": "坐牢"})
        assert bad.status_code == 422 and "限制出境" in bad.json()["error"]["message"]

        for code, unit_client in clients.items():
            got = await asyncio.to_thread(unit_client.collect, lambda got: not any(
                g.get("type") == "delivery" for g in got))
            delivery = next(g for g in got if g.get("type") == "delivery")
            assert delivery["resource"] == "801002"
            assert delivery["payload"]["restriction"] == "限制出境"
            assert delivery["payload"]["event"] == "restriction_decided"
            assert delivery["payload"]["case_no"].startswith("(演示)")
            receipt = units[code].body(type="receipt", correlation_id=delivery["id"], payload={"status": "accepted"})
            await asyncio.to_thread(unit_client.publish, receipt, "receipt")

        await switch(client, "k1_admin")

        def all_acknowledged():
            rows = client.get("/api/v1/subscriptions/deliveries", params={"case_id": world.case_id}).json()
            return rows if len(rows) == 3 and all(r["acknowledged"] for r in rows) else None

        rows = await eventually(all_acknowledged, timeout=20)
        assert {r["unit_code"] for r in rows} == set(SUBSCRIBERS)
        assert all(r["late_seconds"] is not None and r["late_seconds"] >= 0 for r in rows)
        summary = (await call(client.get, "/api/v1/subscriptions/subscribers")).json()
        assert {s["unit_code"]: s["acknowledged"] for s in summary} == dict.fromkeys(SUBSCRIBERS, 1)

        # lifting the restriction goes out too; public security's own operator sees only its own deliveries
        decision = (await call(client.get, f"/api/v1/cases/{world.case_id}/decisions")).json()[0]
        await switch(client, "k1_handler")
        res = await call(client.post, f"/api/v1/cases/{world.case_id}/decisions/{decision['id']}/end",
                         json={"ended_on": date.today().isoformat()})
        assert res.status_code == 200 and res.json()["deliveries"] == 3
        await switch(client, "k1_psb")
        mine = (await call(client.get, "/api/v1/subscriptions/deliveries")).json()
        assert {r["unit_code"] for r in mine} == {"SZPSB"}
        assert {r["event"] for r in mine} == {"restriction_decided", "restriction_lifted"}
    finally:
        for c in clients.values():
            await asyncio.to_thread(c.close)
