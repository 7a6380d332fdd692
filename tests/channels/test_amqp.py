"""AMQP channel against the local RabbitMQ, with aio-pika as the unit's client."""

from __future__ import annotations

import asyncio
import json

import aio_pika
import pytest
from sqlalchemy import func, select

from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.messaging.models import InboxMessage, OutboxMessage
from tests.channels.conftest import eventually

pytestmark = pytest.mark.services


@pytest.fixture
async def broker(channel_config):
    """The unit's own aio-pika connection; deletes this test's queues and exchanges afterwards."""
    conn = await aio_pika.connect(channel_config.amqp_url)
    channel = await conn.channel(publisher_confirms=True)
    yield channel
    await conn.close()


async def cleanup(_channel, prefix: str, units: list[str]) -> None:
    conn = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    channel = await conn.channel()
    for unit in units:
        for kind in ("in", "out"):
            await channel.queue_delete(f"{prefix}.{kind}.{unit}")
    await channel.queue_delete(f"{prefix}.dead")
    await channel.exchange_delete(f"{prefix}.exchange")
    await channel.exchange_delete(f"{prefix}.dlx")
    await conn.close()


async def publish(channel, prefix: str, unit: str, body: bytes) -> None:
    exchange = await channel.get_exchange(f"{prefix}.exchange")
    await exchange.publish(aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                           routing_key=f"in.{unit}")


async def collect(channel, prefix: str, unit: str, n: int, timeout: float = 20, until=None) -> list[dict]:
    queue = await channel.get_queue(f"{prefix}.out.{unit}")
    got: list[dict] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while (until(got) if until else len(got) < n) and loop.time() < end:
        message = await queue.get(no_ack=False, fail=False)
        if message is None:
            await asyncio.sleep(0.05)
            continue
        got.append(json.loads(message.body))
        await message.ack()
    return got


def inbox_count(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(InboxMessage))


async def test_round_trip_and_refusals(runtime, open_connection, broker, prefix, database):
    unit = open_connection("amqp")
    await runtime.start()
    await eventually(lambda: True)
    amqp = runtime.channel("amqp")
    await amqp.declare(broker, unit.unit_code)  # the unit may declare too: same durable topology
    try:
        good = unit.envelope(payload={"x": "数据"})
        forged = {**unit.envelope(), "sender": unit.unit_code, "payload": {"tampered": True}}
        for body in (env_mod.dumps(good), env_mod.dumps(forged), b"<xml/>", b"{" + b" " * (70 * 1024) + b"}",
                     env_mod.dumps(good)):
            await publish(broker, prefix, unit.unit_code, body)
        answers = await collect(broker, prefix, unit.unit_code, 5)
        by_kind = sorted((a["type"], (a["payload"].get("code") or a["payload"].get("status"))) for a in answers)
        assert by_kind == [("error", "bad_signature"), ("error", "malformed_json"), ("error", "too_large"),
                           ("receipt", "accepted"), ("receipt", "duplicate")]
        receipt = next(a for a in answers if a["type"] == "receipt")
        assert receipt["correlation_id"] == good["id"] and env_mod.verify(receipt, unit.key)
        assert inbox_count(database) == 1
        with database.session() as s:
            assert {r.code for r in messaging.list_rejected(s)} == {"bad_signature", "malformed_json", "too_large"}
        health = await amqp.health(type("C", (), {"unit_code": unit.unit_code})())
        assert health.ok and "waiting" in health.detail
    finally:
        await cleanup(broker, prefix, [unit.unit_code])


async def test_outbound_delivery_and_receipt_back(runtime, open_connection, broker, prefix, database, settings):
    unit = open_connection("amqp")
    with database.session() as s:
        mid = messaging.enqueue(s, connection_id=unit.connection_id, type="delivery", payload={"case": 1},
                                data_dir=settings.resolved_data_dir).id
    await runtime.channel("amqp").declare(broker, unit.unit_code)
    await runtime.start()
    try:
        [delivered] = await collect(broker, prefix, unit.unit_code, 1)
        assert env_mod.verify(delivered, unit.key) and delivered["payload"] == {"case": 1}
        receipt = env_mod.sign(env_mod.receipt_for(delivered, sender=unit.unit_code), unit.key)
        await publish(broker, prefix, unit.unit_code, env_mod.dumps(receipt))

        def state():
            with database.session() as s:
                return s.get(OutboxMessage, mid).state

        await eventually(lambda: state() == "delivered")
    finally:
        await cleanup(broker, prefix, [unit.unit_code])


async def test_listener_restart_mid_stream(runtime, open_connection, broker, prefix, database):
    unit = open_connection("amqp")
    amqp = runtime.channel("amqp")
    await amqp.declare(broker, unit.unit_code)
    try:
        bodies = [unit.body(payload={"i": i}) for i in range(300)]
        for body in bodies:
            await publish(broker, prefix, unit.unit_code, body)
        await runtime.start()
        await eventually(lambda: inbox_count(database) > 0, interval=0.01)
        await runtime.stop()  # the listener's connection closes with messages delivered but not acknowledged
        stopped_at = inbox_count(database)
        runtime.channels.clear()
        await runtime.start()
        await eventually(lambda: inbox_count(database) == 300)
        ids = {json.loads(b)["id"] for b in bodies}
        answers = await collect(broker, prefix, unit.unit_code, 300,
                                until=lambda got: {a["correlation_id"] for a in got} != ids)
        assert {a["correlation_id"] for a in answers} == ids, "every message got its receipt"
        assert all(a["type"] == "receipt" for a in answers)
        await asyncio.sleep(0.5)
        assert inbox_count(database) == 300, f"nothing processed twice (stopped at {stopped_at})"
    finally:
        await cleanup(broker, prefix, [unit.unit_code])
