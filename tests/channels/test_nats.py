"""NATS JetStream channel against the local nats-server, with nats-py as the unit's client."""

from __future__ import annotations

import asyncio
import contextlib
import json

import nats
import pytest
from sqlalchemy import func, select

from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.messaging.models import InboxMessage, OutboxMessage
from tests.channels.conftest import eventually

pytestmark = pytest.mark.services


@pytest.fixture
async def js(channel_config, prefix):
    channel_config.extra["nats_ack_wait"] = 2.0
    nc = await nats.connect(channel_config.nats_url)
    jetstream = nc.jetstream(timeout=15)
    yield jetstream
    with contextlib.suppress(Exception):
        await jetstream.delete_stream(prefix.upper())
    await nc.close()


async def answers_for(js, prefix: str, unit: str, until, timeout: float = 20) -> list[dict]:
    """Read the unit's out subjects with the unit's own durable consumer."""
    sub = await js.pull_subscribe(f"{prefix}.out.{unit}.>", durable=f"unit-{unit}", stream=prefix.upper())
    got: list[dict] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while until(got) and loop.time() < end:
        try:
            msgs = await sub.fetch(100, timeout=0.5)
        except TimeoutError:  # nats-py raises its own or, under load, asyncio's bare one
            continue
        for m in msgs:
            got.append(json.loads(m.data))
            await m.ack()
    return got


def inbox_count(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(InboxMessage))


async def test_round_trip_and_refusals(runtime, open_connection, js, prefix, database):
    unit = open_connection("nats")
    await runtime.start()
    await eventually(lambda: "nats" in runtime.listeners)
    await runtime.channel("nats")._connect()
    good = unit.envelope(type="delivery", payload={"x": 1})
    stale_forged = {**good, "test": True}
    for subject_type, body in (("delivery", env_mod.dumps(good)), ("delivery", env_mod.dumps(stale_forged)),
                               ("delivery", b"\xff\xfe not json"), ("delivery", b"[" + b"1," * 40000 + b"1]"),
                               ("delivery", env_mod.dumps(good))):
        await js.publish(f"{prefix}.in.{unit.unit_code}.{subject_type}", body)
    answers = await answers_for(js, prefix, unit.unit_code, lambda got: len(got) < 5)
    kinds = sorted((a["type"], a["payload"].get("code") or a["payload"].get("status")) for a in answers)
    assert kinds == [("error", "bad_signature"), ("error", "malformed_json"), ("error", "too_large"),
                     ("receipt", "accepted"), ("receipt", "duplicate")]
    assert inbox_count(database) == 1
    with database.session() as s:
        assert len(messaging.list_rejected(s)) == 3
    health = await runtime.channel("nats").health()
    assert health.ok and "stored" in health.detail


async def test_outbound_delivery_and_receipt(runtime, open_connection, js, prefix, database, settings):
    unit = open_connection("nats")
    with database.session() as s:
        mid = messaging.enqueue(s, connection_id=unit.connection_id, type="delivery", payload={"p": "交付"},
                                data_dir=settings.resolved_data_dir).id
    await runtime.channel("nats")._connect()  # creates the stream
    await runtime.start()
    await eventually(lambda: "nats" in runtime.listeners)
    [delivery] = await answers_for(js, prefix, unit.unit_code, lambda got: not got)
    assert env_mod.verify(delivery, unit.key) and delivery["payload"] == {"p": "交付"}
    receipt = env_mod.sign(env_mod.receipt_for(delivery, sender=unit.unit_code), unit.key)
    await js.publish(f"{prefix}.in.{unit.unit_code}.receipt", env_mod.dumps(receipt))

    def state():
        with database.session() as s:
            return s.get(OutboxMessage, mid).state

    await eventually(lambda: state() == "delivered")


async def test_listener_restart_mid_stream(runtime, open_connection, js, prefix, database):
    unit = open_connection("nats")
    await runtime.channel("nats")._connect()
    bodies = [unit.body(payload={"i": i}) for i in range(300)]
    for body in bodies:
        await js.publish(f"{prefix}.in.{unit.unit_code}.delivery", body)
    await runtime.start()
    await eventually(lambda: inbox_count(database) > 0, interval=0.01)
    await runtime.stop()  # connection closed with fetched, unacknowledged messages
    runtime.channels.clear()
    await runtime.start()
    await eventually(lambda: inbox_count(database) == 300, timeout=30)
    ids = {json.loads(b)["id"] for b in bodies}
    answers = await answers_for(js, prefix, unit.unit_code, lambda got: {a["correlation_id"] for a in got} != ids)
    assert {a["correlation_id"] for a in answers} == ids
    await asyncio.sleep(0.5)
    assert inbox_count(database) == 300
