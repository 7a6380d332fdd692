"""Property: whatever bytes or JSON reach a channel, the platform answers each at most once, keeps
taking the valid envelopes sent between them, redelivers nothing and stays ready.

Hypothesis throws arbitrary JSON values (NaN, huge integers, lone surrogates, any nesting), arbitrary
bytes, very deep arrays and signed envelopes with one field replaced by an arbitrary value at each of
the six channels, a valid envelope beside them in every example. Derandomised and bounded, so a run
is repeatable and takes seconds per channel; the listener runs across all examples of a test, as it
would in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import nats
import paho.mqtt.client as mqtt
import pytest
import zeep
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pbshare.channels.socket import frame, read_frame
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging.models import InboxMessage, RejectedMessage
from tests.channels.conftest import UnitSide, eventually
from tests.channels.test_amqp import cleanup, publish
from tests.channels.test_mqtt import UnitClient
from tests.channels.test_rest import api_client, post  # noqa: F401 - api_client is a fixture
from tests.channels.test_soap import live  # noqa: F401 - a fixture

EXAMPLES = settings(max_examples=30, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers() | st.floats()
           | st.text(st.characters(exclude_categories=()), max_size=12))
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=8), kids, max_size=4), max_leaves=10)
FIELDS = ("id", "type", "sender", "receiver", "resource", "correlation_id", "created_at", "test", "payload", "enc",
          "sig")

# One junk item: ("json", value, ascii_only) | ("bytes", raw) | ("deep", depth) | ("field", name, value)
junk_items = st.one_of(
    st.tuples(st.just("json"), json_values, st.booleans()),
    st.tuples(st.just("bytes"), st.binary(max_size=200)),
    st.tuples(st.just("deep"), st.integers(65, 8000)),
    st.tuples(st.just("field"), st.sampled_from(FIELDS), json_values),
)
batches = st.lists(junk_items, min_size=1, max_size=4)


def junk_bytes(item: tuple, unit: UnitSide) -> bytes:
    kind = item[0]
    if kind == "json":
        return json.dumps(item[1], ensure_ascii=item[2]).encode("utf-8", "surrogatepass")
    if kind == "bytes":
        return item[1]
    if kind == "deep":
        return b'{"id":' + b"[" * item[1] + b"]" * item[1] + b"}"
    env = unit.envelope()  # signed, then one field replaced: whatever it became, the signature no longer holds
    env[item[1]] = item[2] if env.get(item[1], ...) != item[2] else [item[2]]
    return json.dumps(env, ensure_ascii=False).encode("utf-8", "surrogatepass")


def xml_text(raw: bytes) -> str:
    """What SubmitJson can carry of arbitrary bytes: XML 1.0 has no control characters or surrogates."""
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "", raw.decode("utf-8", "replace"))


@dataclass
class Ledger:
    """What a test sent over all its examples."""

    junk: int = 0
    valid: list[str] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)

    def mix(self, items: list[tuple], unit: UnitSide) -> list[tuple[bytes, str | None]]:
        """The junk with one valid envelope among it: (body, its id or None for junk)."""
        bodies: list[tuple[bytes, str | None]] = [(junk_bytes(i, unit), None) for i in items]
        env = unit.envelope(payload={"n": len(self.valid)})
        bodies.insert(len(bodies) // 2, (env_mod.dumps(env), env["id"]))
        self.junk += len(items)
        self.valid.append(env["id"])
        return bodies


async def examples(send) -> None:
    """Run ``send(items)`` (a coroutine function) for each Hypothesis example, on this event loop.

    Hypothesis drives only plain functions, so it runs in a worker thread and hands each example back
    to the loop where the listener and the unit's client live.
    """
    loop = asyncio.get_running_loop()

    @EXAMPLES
    @given(items=batches)
    def one(items: list[tuple]) -> None:
        asyncio.run_coroutine_threadsafe(send(items), loop).result(60)

    await asyncio.to_thread(one)


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


def counts(database) -> tuple[int, int]:
    with database.session() as s:
        return (s.scalar(select(func.count()).select_from(InboxMessage)),
                s.scalar(select(func.count()).select_from(RejectedMessage)))


def check_ledger(database, ledger: Ledger, client) -> None:
    """Each valid envelope taken and receipted once, each junk item refused once, the server ready."""
    assert len(ledger.valid) >= 20, "Hypothesis ran its examples"
    with database.session() as s:
        taken = set(s.scalars(select(InboxMessage.envelope_id)))
    assert taken == set(ledger.valid)
    assert counts(database) == (len(ledger.valid), ledger.junk)
    receipts = [a["correlation_id"] for a in ledger.answers if a.get("type") == "receipt"]
    assert sorted(receipts) == sorted(ledger.valid)
    assert len(ledger.answers) == len(ledger.valid) + ledger.junk
    assert client.get("/readyz").status_code == 200


async def broker_answers(ledger: Ledger, fetch, database) -> None:
    """Collect the unit's answers until every message sent is answered, then a moment more for extras."""
    expected = len(ledger.valid) + ledger.junk
    loop = asyncio.get_running_loop()
    end = loop.time() + 60
    while len(ledger.answers) < expected and loop.time() < end:
        ledger.answers.extend(await fetch())
    await asyncio.sleep(1.5)  # a redelivered message would be answered (and refused) a second time
    ledger.answers.extend(await fetch())


# inline channels -------------------------------------------------------------------------------
async def test_socket_survives_any_input(runtime, open_connection, database, ledger, client):
    unit = open_connection("socket")
    await runtime.start()
    port = await eventually(lambda: runtime.channels.get("socket") and runtime.channels["socket"].port)

    async def one(items: list[tuple]) -> None:
        bodies = ledger.mix(items, unit)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"".join(frame(b) for b, _ in bodies))
            await writer.drain()
            for body, valid_id in bodies:
                answer = json.loads((await asyncio.wait_for(read_frame(reader, 1 << 20), 10))[0])
                ledger.answers.append(answer)
                if valid_id:
                    assert answer["type"] == "receipt" and answer["correlation_id"] == valid_id
                else:
                    assert answer["type"] == "error", body[:80]
        finally:
            writer.close()

    await examples(one)
    check_ledger(database, ledger, client)


def test_rest_survives_any_input(client, open_connection, api_client, database, ledger):  # noqa: F811
    unit = open_connection("rest")
    sign = api_client(unit.unit_code)

    @EXAMPLES
    @given(items=batches)
    def one(items: list[tuple]) -> None:
        for body, valid_id in ledger.mix(items, unit):
            res = post(client, sign, body)
            ledger.answers.append(res.json())
            if valid_id:
                assert res.status_code == 200 and res.json()["correlation_id"] == valid_id
            else:
                assert res.status_code == 422 and res.json()["type"] == "error", (res.status_code, body[:80])

    one()
    check_ledger(database, ledger, client)


def test_soap_survives_any_input(live, client, open_connection, database, ledger):  # noqa: F811
    unit = open_connection("soap")
    service = zeep.Client(f"{live}/ws/exchange?wsdl").service

    @EXAMPLES
    @given(items=batches)
    def one(items: list[tuple]) -> None:
        for body, valid_id in ledger.mix(items, unit):
            reply = service.SubmitJson(xml_text(body))
            ledger.answers.append(json.loads(reply.envelope))
            assert reply.status == ("accepted" if valid_id else "rejected"), (reply.code, body[:80])

    one()
    check_ledger(database, ledger, client)


# brokers: a listener that must answer, acknowledge and never loop ------------------------------
async def test_amqp_survives_any_input(runtime, open_connection, database, ledger, client, prefix, channel_config):
    unit = open_connection("amqp")
    await runtime.start()
    conn = await aio_pika.connect(channel_config.amqp_url)
    channel = await conn.channel(publisher_confirms=True)
    try:
        await runtime.channel("amqp").declare(channel, unit.unit_code)

        async def one(items: list[tuple]) -> None:
            for body, _ in ledger.mix(items, unit):
                await publish(channel, prefix, unit.unit_code, body)

        await examples(one)
        out = await channel.get_queue(f"{prefix}.out.{unit.unit_code}")

        async def fetch() -> list[dict]:
            got = []
            while (message := await out.get(no_ack=True, fail=False)) is not None:
                got.append(json.loads(message.body))
            await asyncio.sleep(0.05)
            return got

        await broker_answers(ledger, fetch, database)
        check_ledger(database, ledger, client)
        dead = await channel.declare_queue(f"{prefix}.dead", durable=True)
        assert dead.declaration_result.message_count == 0
        assert not runtime.listeners["amqp"].done()
    finally:
        await cleanup(channel, prefix, [unit.unit_code])
        await conn.close()


async def test_mqtt_survives_any_input(runtime, open_connection, database, ledger, client, prefix):
    unit = open_connection("mqtt")
    await runtime.start()
    unit_client = UnitClient(prefix, unit.unit_code)
    try:
        await asyncio.sleep(0.5)  # the listener subscribes

        async def one(items: list[tuple]) -> None:
            for body, _ in ledger.mix(items, unit):
                await asyncio.to_thread(unit_client.publish, body)

        await examples(one)

        async def fetch() -> list[dict]:
            got = []
            while not unit_client.received.empty():
                got.append(unit_client.received.get_nowait())
            await asyncio.sleep(0.05)
            return got

        await broker_answers(ledger, fetch, database)
        check_ledger(database, ledger, client)
        assert not runtime.listeners["mqtt"].done()
    finally:
        unit_client.close()
        forget = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-platform", clean_session=True)
        with contextlib.suppress(Exception):
            forget.connect("127.0.0.1", 1883, 10)
            forget.disconnect()


async def test_nats_survives_any_input(runtime, open_connection, database, ledger, client, prefix, channel_config):
    unit = open_connection("nats")
    await runtime.start()
    nc = await nats.connect(channel_config.nats_url)
    js = nc.jetstream(timeout=15)
    try:
        for _ in range(100):  # the listener makes the stream and its consumer
            with contextlib.suppress(Exception):
                await js.consumer_info(prefix.upper(), f"{prefix}-in-{unit.unit_code}")
                break
            await asyncio.sleep(0.1)

        async def one(items: list[tuple]) -> None:
            for body, _ in ledger.mix(items, unit):
                await js.publish(f"{prefix}.in.{unit.unit_code}.delivery", body)

        await examples(one)
        sub = await js.pull_subscribe(f"{prefix}.out.{unit.unit_code}.>", durable=f"unit-{unit.unit_code}",
                                      stream=prefix.upper())

        async def fetch() -> list[dict]:
            try:
                msgs = await sub.fetch(200, timeout=0.3)
            except TimeoutError:  # nats-py's own, or asyncio's bare one under load
                return []
            for m in msgs:
                await m.ack()
            return [json.loads(m.data) for m in msgs]

        await broker_answers(ledger, fetch, database)
        check_ledger(database, ledger, client)
        info = await js.consumer_info(prefix.upper(), f"{prefix}-in-{unit.unit_code}")
        assert info.num_redelivered == 0 and info.num_ack_pending == 0
        assert not runtime.listeners["nats"].done()
    finally:
        with contextlib.suppress(Exception):
            await js.delete_stream(prefix.upper())
        await nc.close()
