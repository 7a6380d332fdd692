"""MQTT channel against the local Mosquitto, with paho-mqtt as the unit's client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import time

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select

from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.messaging.models import InboxMessage, OutboxMessage
from tests.channels.conftest import eventually

pytestmark = pytest.mark.services


class UnitClient:
    """The unit's paho client: publishes on its in topics, collects what arrives on its out topics."""

    def __init__(self, prefix: str, unit: str) -> None:
        self.prefix, self.unit = prefix, unit
        self.received: queue.Queue = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-{unit}",
                                  clean_session=True)
        self.client.on_message = lambda _c, _u, msg: self.received.put(json.loads(msg.payload))
        self.client.connect("127.0.0.1", 1883, 30)
        self.client.loop_start()
        self.client.subscribe(f"{prefix}/out/{unit}/+", qos=1)
        time.sleep(0.2)

    def publish(self, body: bytes, type_: str = "delivery") -> None:
        self.client.publish(f"{self.prefix}/in/{self.unit}/{type_}", body, qos=1).wait_for_publish(5)

    def collect(self, until, timeout: float = 20) -> list[dict]:
        got: list[dict] = []
        end = time.monotonic() + timeout
        while until(got) and time.monotonic() < end:
            with contextlib.suppress(queue.Empty):
                got.append(self.received.get(timeout=0.2))
        return got

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def forget_sessions(prefix):
    """Clear the platform's persistent session on the broker after the test."""
    yield
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-platform", clean_session=True)
    c.connect("127.0.0.1", 1883, 10)
    c.loop_start()
    time.sleep(0.2)
    c.loop_stop()
    c.disconnect()


def inbox_count(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(InboxMessage))


async def test_round_trip_and_refusals(runtime, open_connection, prefix, database, forget_sessions):
    unit = open_connection("mqtt")
    client = await asyncio.to_thread(UnitClient, prefix, unit.unit_code)
    try:
        await runtime.start()
        await asyncio.sleep(0.5)
        good = unit.envelope(payload={"x": 1})
        for body in (env_mod.dumps(good), env_mod.dumps({**good, "receiver": "ELSEWHERE"}), b"{\"id\": ",
                     b"{" + b" " * (70 * 1024) + b"}", env_mod.dumps(good)):
            await asyncio.to_thread(client.publish, body)
        answers = await asyncio.to_thread(client.collect, lambda got: len(got) < 5)
        kinds = sorted((a["type"], a["payload"].get("code") or a["payload"].get("status")) for a in answers)
        assert kinds == [("error", "bad_signature"), ("error", "malformed_json"), ("error", "too_large"),
                         ("receipt", "accepted"), ("receipt", "duplicate")]
        assert inbox_count(database) == 1
        with database.session() as s:
            assert len(messaging.list_rejected(s)) == 3
    finally:
        client.close()


async def test_outbound_delivery_and_receipt(runtime, open_connection, prefix, database, settings, forget_sessions):
    unit = open_connection("mqtt")
    client = await asyncio.to_thread(UnitClient, prefix, unit.unit_code)
    try:
        with database.session() as s:
            mid = messaging.enqueue(s, connection_id=unit.connection_id, type="delivery", payload={"p": 1},
                                    data_dir=settings.resolved_data_dir).id
        await runtime.start()
        [delivery] = await asyncio.to_thread(client.collect, lambda got: not got)
        assert env_mod.verify(delivery, unit.key)
        receipt = env_mod.sign(env_mod.receipt_for(delivery, sender=unit.unit_code), unit.key)
        await asyncio.to_thread(client.publish, env_mod.dumps(receipt), "receipt")

        def state():
            with database.session() as s:
                return s.get(OutboxMessage, mid).state

        await eventually(lambda: state() == "delivered")
    finally:
        client.close()


async def two_halves_around(runtime, unit, client, database, interrupt, resume=None) -> None:
    """Publish 100 envelopes, ``interrupt()``, publish 100 more, ``resume()``: every one is recorded
    once and answered."""
    bodies = [unit.body(payload={"i": i}) for i in range(200)]
    await runtime.start()
    await asyncio.sleep(0.5)
    for body in bodies[:100]:
        await asyncio.to_thread(client.publish, body)
    await interrupt()
    for body in bodies[100:]:
        await asyncio.to_thread(client.publish, body)
    if resume is not None:
        await resume()
    await eventually(lambda: inbox_count(database) == 200, timeout=30)
    ids = {json.loads(b)["id"] for b in bodies}
    answers = await asyncio.to_thread(client.collect, lambda got: not ids <= {a["correlation_id"] for a in got})
    assert ids <= {a["correlation_id"] for a in answers}
    await asyncio.sleep(0.5)
    assert inbox_count(database) == 200


async def test_listener_down_then_back_loses_nothing(runtime, open_connection, prefix, database, forget_sessions):
    """Persistent session: what the unit publishes while the listener is down is delivered when it returns."""
    unit = open_connection("mqtt")
    client = await asyncio.to_thread(UnitClient, prefix, unit.unit_code)

    async def stop_listening() -> None:
        await eventually(lambda: inbox_count(database) > 0, interval=0.01)
        await runtime.stop()  # the second half is published while nobody listens

    async def listen_again() -> None:
        runtime.channels.clear()
        await runtime.start()

    try:
        await two_halves_around(runtime, unit, client, database, stop_listening, listen_again)
    finally:
        client.close()


async def test_broker_drops_the_listener_mid_stream_and_it_comes_back(runtime, open_connection, prefix, database,
                                                                     forget_sessions, caplog):
    """The broker closes the listener's connection (here: another client takes over its client id, as a
    broker restart or a network cut would); the listener reconnects on its own and nothing is lost."""
    unit = open_connection("mqtt")
    client = await asyncio.to_thread(UnitClient, prefix, unit.unit_code)

    def take_over() -> None:
        rogue = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-platform", clean_session=False)
        rogue.manual_ack_set(True)  # takes the session over without consuming what is in flight
        rogue.connect("127.0.0.1", 1883, 10)
        rogue.loop_start()
        time.sleep(0.3)
        rogue.loop_stop()
        rogue.disconnect()

    async def take_over_the_session() -> None:
        await asyncio.to_thread(take_over)

    try:
        await two_halves_around(runtime, unit, client, database, take_over_the_session)
        assert "mqtt listener lost the broker" in caplog.text
        assert runtime.listeners["mqtt"].done() is False
    finally:
        client.close()
