"""Poison messages: input that is JSON to Python but no valid envelope (NaN, Infinity, an integer
beyond 2^53, a lone surrogate, nesting 30,000 deep) is refused with its own code on every channel,
kept in the refused table, answered, acknowledged once and never fails the rest of its batch. A
database outage is told apart: nothing is taken, and a broker stops redelivering after the bound."""

from __future__ import annotations

import asyncio
import contextlib
import json

import aio_pika
import nats
import paho.mqtt.client as mqtt
import pytest
import zeep
from sqlalchemy import func, select

from pbshare.channels.amqp import AmqpChannel
from pbshare.channels.soap import dict_to_envelope
from pbshare.channels.socket import SocketChannel, frame, read_frame
from pbshare.config import Settings
from pbshare.core.db import Database
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import ChannelConfig, ConnectionInfo, InboxUnavailable
from pbshare.exchange.hub import Hub
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.messaging.models import InboxMessage, RejectedMessage
from tests.channels.conftest import UnitSide, eventually
from tests.channels.test_amqp import cleanup, publish
from tests.channels.test_mqtt import UnitClient
from tests.channels.test_nats import answers_for
from tests.channels.test_rest import api_client, post  # noqa: F401 - api_client is a fixture
from tests.channels.test_soap import live  # noqa: F401 - a fixture

DEPTH = 30_000  # far past Python's recursion limit, yet under the test channels' 64 KiB frame limit
CODES = {"nan": "bad_number", "infinity": "bad_number", "big_int": "bad_number", "surrogate": "bad_string",
         "deep": "too_deep"}


def poisons(unit: UnitSide) -> dict[str, bytes]:
    """A signed envelope of ``unit`` whose payload holds each poison (the signature cannot cover it)."""
    def with_value(text: str) -> bytes:
        body = env_mod.dumps(unit.envelope(payload={"x": 1})).decode()
        assert '"payload":{"x":1}' in body
        return body.replace('"payload":{"x":1}', '"payload":{"x":' + text + "}").encode()

    return {"nan": with_value("NaN"), "infinity": with_value("-Infinity"), "big_int": with_value("9007199254740993"),
            "surrogate": with_value('"\\ud800"'), "deep": with_value("[" * DEPTH + "]" * DEPTH)}


def rows(database, model, **where) -> int:
    with database.session() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return s.scalar(stmt)


def refused_codes(database) -> list[str]:
    with database.session() as s:
        return sorted(s.scalars(select(RejectedMessage.code)))


def test_a_poison_batch_refuses_each_poison_and_takes_the_rest(database, settings, open_connection):
    """The inbox itself, on both databases: no exception, one outcome per message, each poison kept."""
    bad, good = open_connection("amqp"), open_connection("amqp")
    junk = poisons(bad)
    valid = [good.body(payload={"n": i}) for i in range(3)]
    raws = [(junk["nan"], "p"), (valid[0], "p"), (junk["infinity"], "p"), (junk["big_int"], "p"), (valid[1], "p"),
            (junk["surrogate"], "p"), (junk["deep"], "p"), (valid[2], "p")]
    outcomes = messaging.receive_batch(database, raws=raws, channel="amqp", data_dir=settings.resolved_data_dir)
    assert [o.status for o in outcomes] == ["rejected", "accepted", "rejected", "rejected", "accepted",
                                            "rejected", "rejected", "accepted"]
    assert [o.error.code for o in outcomes if o.error] == ["bad_number"] * 3 + ["bad_string", "too_deep"]
    for o in outcomes:
        assert o.reply is not None and o.reply["type"] == ("error" if o.error else "receipt")
    assert rows(database, InboxMessage) == 3
    assert refused_codes(database) == sorted(CODES.values())


def test_every_poison_payload_has_its_code_in_parse():
    unit = UnitSide("U1", "c", env_mod.Key("U1-socket-1", secret=b"s" * 32), None)  # type: ignore[arg-type]
    for name, body in poisons(unit).items():
        with pytest.raises(env_mod.EnvelopeError) as caught:
            env_mod.parse(body)
        assert caught.value.code == CODES[name], name
    with pytest.raises(env_mod.EnvelopeError) as caught:  # the probe's own size: 100,000 deep, 200 kB
        env_mod.parse(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert caught.value.code == "too_deep"


async def socket_port(runtime) -> int:
    await runtime.start()
    return await eventually(lambda: runtime.channels.get("socket") and runtime.channels["socket"].port)


async def test_socket_answers_each_poison_frame_and_stays_open(runtime, open_connection, database):
    unit = open_connection("socket")
    port = await socket_port(runtime)
    junk = poisons(unit)
    bodies = [junk["nan"], unit.body(), junk["infinity"], junk["big_int"], junk["surrogate"], junk["deep"],
              unit.body()]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"".join(frame(b) for b in bodies))
        await writer.drain()
        answers = [json.loads((await asyncio.wait_for(read_frame(reader, 1 << 20), 10))[0]) for _ in bodies]
        writer.write(frame(b'{"type":"heartbeat"}'))  # still open after all that
        await writer.drain()
        assert json.loads((await asyncio.wait_for(read_frame(reader, 1 << 20), 10))[0]) == {"type": "heartbeat"}
    finally:
        writer.close()
    kinds = [(a["type"], a["payload"].get("code") or a["payload"].get("status")) for a in answers]
    assert kinds == [("error", "bad_number"), ("receipt", "accepted"), ("error", "bad_number"),
                     ("error", "bad_number"), ("error", "bad_string"), ("error", "too_deep"), ("receipt", "accepted")]
    assert rows(database, InboxMessage) == 2
    assert refused_codes(database) == sorted(CODES.values())


def test_rest_answers_each_poison_with_422_and_its_error_envelope(client, open_connection, api_client,  # noqa: F811
                                                                  database):
    unit = open_connection("rest")
    sign = api_client(unit.unit_code)
    for name, body in poisons(unit).items():
        res = post(client, sign, body)
        assert res.status_code == 422, (name, res.status_code)
        assert res.json()["type"] == "error" and res.json()["payload"]["code"] == CODES[name]
    assert post(client, sign, unit.body()).status_code == 200
    assert refused_codes(database) == sorted(CODES.values())
    assert client.get("/readyz").status_code == 200


def test_soap_answers_each_poison_with_a_rejected_reply(live, open_connection, database):  # noqa: F811
    unit = open_connection("soap")
    service = zeep.Client(f"{live}/ws/exchange?wsdl").service
    for name, body in poisons(unit).items():
        reply = service.SubmitJson(body.decode())
        assert (reply.status, reply.code) == ("rejected", CODES[name]), name
        assert json.loads(reply.envelope)["payload"]["code"] == CODES[name]
    # Typed fields: the poison in payload_json is read as strictly as a whole envelope.
    typed = dict_to_envelope(unit.envelope())
    for text, code in (("{\"x\":NaN}", "bad_number"), ("[" * 5000 + "]" * 5000, "too_deep"),
                       ("{\"x\":12345678901234567890}", "bad_number")):
        reply = service.Submit({**typed, "payload_json": text})
        assert (reply.status, reply.code) == ("rejected", code)
    assert service.SubmitJson(unit.body().decode()).status == "accepted"
    assert rows(database, RejectedMessage) == 8


async def test_amqp_valid_messages_of_another_unit_survive_a_poison_batch(runtime, open_connection, prefix,
                                                                          database, channel_config):
    bad, good = open_connection("amqp"), open_connection("amqp")
    await runtime.start()
    amqp = runtime.channel("amqp")
    conn = await aio_pika.connect(channel_config.amqp_url)
    channel = await conn.channel(publisher_confirms=True)
    try:
        await eventually(lambda: runtime.channels.get("amqp") is not None)
        for unit in (bad, good):
            await amqp.declare(channel, unit.unit_code)
        junk = [*poisons(bad).values(), poisons(bad)["nan"]]  # six poison messages
        for i in range(6):
            await publish(channel, prefix, bad.unit_code, junk[i])
            await publish(channel, prefix, good.unit_code, good.body(payload={"i": i}))
        await eventually(lambda: rows(database, InboxMessage) == 6 and rows(database, RejectedMessage) == 6)
        errors = []
        queue = await channel.get_queue(f"{prefix}.out.{bad.unit_code}")
        while len(errors) < 6:
            message = await queue.get(no_ack=True, fail=False, timeout=5)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            errors.append(json.loads(message.body)["payload"]["code"])
        assert sorted(errors) == sorted([*CODES.values(), "bad_number"])
        await asyncio.sleep(1.5)  # nothing comes back, nothing is dead-lettered
        assert rows(database, RejectedMessage) == 6
        dead = await channel.declare_queue(f"{prefix}.dead", durable=True)
        assert dead.declaration_result.message_count == 0
        waiting = await channel.declare_queue(f"{prefix}.in.{bad.unit_code}", passive=True)
        assert waiting.declaration_result.message_count == 0
    finally:
        await cleanup(channel, prefix, [bad.unit_code, good.unit_code])
        await conn.close()


async def test_mqtt_poison_is_answered_once_and_not_redelivered(runtime, open_connection, prefix, database):
    unit = open_connection("mqtt")
    await runtime.start()
    client = UnitClient(prefix, unit.unit_code)
    try:
        await asyncio.sleep(0.5)  # the listener subscribes
        for body in [*poisons(unit).values(), unit.body()]:
            await asyncio.to_thread(client.publish, body)
        got = await asyncio.to_thread(client.collect, lambda g: len(g) < 6)
        assert sorted(a["payload"].get("code") or a["payload"]["status"] for a in got) == sorted(
            [*CODES.values(), "accepted"])
        await asyncio.sleep(1.5)
        assert rows(database, RejectedMessage) == 5 and rows(database, InboxMessage) == 1
        assert client.received.empty()
    finally:
        client.close()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-platform", clean_session=True)
        with contextlib.suppress(Exception):
            c.connect("127.0.0.1", 1883, 10)
            c.disconnect()


async def test_nats_poison_is_answered_once_and_not_redelivered(runtime, open_connection, prefix, database,
                                                                channel_config):
    unit = open_connection("nats")
    await runtime.start()
    nc = await nats.connect(channel_config.nats_url)
    js = nc.jetstream(timeout=15)
    try:
        await eventually(lambda: True)
        for _ in range(50):  # the listener creates the stream
            with contextlib.suppress(Exception):
                await js.stream_info(prefix.upper())
                break
            await asyncio.sleep(0.1)
        for body in [*poisons(unit).values(), unit.body()]:
            await js.publish(f"{prefix}.in.{unit.unit_code}.delivery", body)
        got = await answers_for(js, prefix, unit.unit_code, lambda g: len(g) < 6)
        assert sorted(a["payload"].get("code") or a["payload"]["status"] for a in got) == sorted(
            [*CODES.values(), "accepted"])
        await asyncio.sleep(2)
        assert rows(database, RejectedMessage) == 5 and rows(database, InboxMessage) == 1
        info = await js.consumer_info(prefix.upper(), f"{prefix}-in-{unit.unit_code}")
        assert info.num_ack_pending == 0 and info.num_redelivered == 0
        assert info.config.max_deliver == channel_config.max_deliveries
    finally:
        with contextlib.suppress(Exception):
            await js.delete_stream(prefix.upper())
        await nc.close()


# a database outage is not a bad message ----------------------------------------------------------
def dead_database(tmp_path) -> Database:
    """A real database nobody listens on: every connection is refused."""
    return Database.from_settings(Settings(data_dir=tmp_path, start_listeners=False,
                                           database_url="postgresql+psycopg://postgres@127.0.0.1:9/none"))


async def test_an_outage_raises_inbox_unavailable_not_a_refusal(tmp_path, channel_config):
    hub = Hub(dead_database(tmp_path), channel_config)
    with pytest.raises(InboxUnavailable) as caught:
        await hub.receive("socket", [(b"{}", "peer")])
    assert caught.value.reply["payload"]["code"] == "inbox_unavailable"


async def test_socket_answers_inbox_unavailable_during_an_outage(tmp_path, channel_config):
    channel = SocketChannel(channel_config, Hub(dead_database(tmp_path), channel_config))
    task = asyncio.create_task(channel.listen([]))
    try:
        port = await eventually(lambda: channel.port)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(frame(b'{"id": "x"}'))
        await writer.drain()
        answer = json.loads((await asyncio.wait_for(read_frame(reader, 1 << 20), 10))[0])
        assert answer["type"] == "error" and answer["payload"]["code"] == "inbox_unavailable"
        assert await asyncio.wait_for(reader.read(), 5) == b""  # then closed: the unit sends again later
        writer.close()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_amqp_outage_is_waited_out_never_dead_lettered(tmp_path, settings, prefix):
    """With the database down, a message goes back to its queue again and again: the outage counts against
    no message's ``max_deliveries``, so nothing is parked or dead-lettered and it is there when the database is."""
    config = ChannelConfig.from_settings(settings, prefix=prefix, max_deliveries=2)
    channel = AmqpChannel(config, Hub(dead_database(tmp_path), config))
    unit = "OUTAGE1"
    conn = await aio_pika.connect(config.amqp_url)
    ch = await conn.channel(publisher_confirms=True)
    task = asyncio.create_task(channel.listen([ConnectionInfo("c", unit, "amqp", "live", {}, "k")]))
    try:
        await eventually(lambda: True)
        for _ in range(50):
            with contextlib.suppress(Exception):
                await channel.declare(ch, unit)
                break
            await asyncio.sleep(0.1)
        await publish(ch, prefix, unit, b'{"valid": "or not, the database is down"}')
        dead = await ch.declare_queue(f"{prefix}.dead", durable=True)
        await asyncio.sleep(4.5)  # four deliveries a second apart: twice the bound
        assert await dead.get(no_ack=True, fail=False) is None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await channel.close()
    try:
        waiting = await ch.declare_queue(f"{prefix}.in.{unit}", durable=True, passive=True)
        message = None
        for _ in range(50):  # the listener's unacknowledged delivery returns to the queue as it closes
            message = await waiting.get(no_ack=True, fail=False)
            if message is not None:
                break
            await asyncio.sleep(0.1)
        assert message is not None and message.body.startswith(b'{"valid"')
    finally:
        await cleanup(ch, prefix, [unit])
        await conn.close()
