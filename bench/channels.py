"""Exchange channels: N signed envelopes through each channel, beside raw traffic measured in the same run.

    .venv/bin/python bench/channels.py                 # 10,000 per channel, three runs, SQLite platform database
    .venv/bin/python bench/channels.py --count 1000 --runs 1
    .venv/bin/python bench/channels.py --skip-http      # the MQ channels and the socket only
    .venv/bin/python bench/channels.py --only mqtt      # one channel
    .venv/bin/python bench/channels.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

Ours, per message: the unit's client builds and signs (HMAC-SM3 over RFC 8785) an envelope and
publishes it; the platform's listener verifies it, records it in the inbox (unique envelope id,
sealed body), commits, signs a receipt, publishes it, then acknowledges; the client reads the receipt.
Baseline: the same number of messages of the same size published with the broker's own client to a
raw echo consumer (no envelope work, no database) that republishes each and acknowledges; the client
reads the echoes. Both are round trips through the same broker, with the same client settings.
Socket, SOAP and REST are measured the same way against a raw echo server of the same transport, with
the concurrency a unit's system uses (``--concurrency``, 8 by default): that many socket connections,
each pipelined, and that many SOAP or REST calls in flight, each waiting for its answer; the raw echo
gets exactly the same. REST is also measured batched (``--rest-batch`` envelopes in one signed request,
``POST /api/v1/exchange/messages/batch``) against the raw echo of the same bodies.

The server side (the platform's listeners, as ``pbshare listen`` runs them, its web application with
REST and SOAP, as ``pbshare serve`` runs it, and the raw echo servers) runs in a second process, as on
other machines in production; the units' clients stay in this one. One process for both would make the
platform and the unit's client queue for one interpreter lock, which measures Python's GIL rather than
the transport.

Printed per run and channel: messages/s, median and p99 round trip, and ours/raw time ratio; then per
channel the median ratio over the runs with its spread (lowest–highest). The last line is the worst
median ratio of all channels measured: ``RATIO <x>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import multiprocessing
import shutil
import socket
import statistics
import struct
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aio_pika
import nats
import paho.mqtt.client as mqtt

from pbshare.config import Settings
from pbshare.core import migrate
from pbshare.core.db import Database
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import ChannelConfig
from pbshare.exchange.connections import service as connections
from pbshare.exchange.registry import channel_class
from pbshare.exchange.runtime import Runtime
from pbshare.units import service as unit_service

OFFICE = "SZBA"
WINDOW = 500
PAYLOAD = {"case_no": "(2026)粤03破100号", "name": "演示·王五", "amount": "12345.67", "items": list(range(20))}


class Result:
    def __init__(self, name: str, count: int, seconds: float, rtts: list[float]) -> None:
        self.name, self.count, self.seconds = name, count, seconds
        self.rtts = sorted(rtts)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def pct(self, p: float) -> float:
        if not self.rtts:
            return float("nan")
        return self.rtts[min(len(self.rtts) - 1, int(p * len(self.rtts)))] * 1000

    def line(self) -> str:
        return (f"{self.name:<16} {self.count:>7} msgs {self.seconds:8.2f} s {self.rate:9.0f} msg/s  "
                f"median {statistics.median(self.rtts) * 1000 if self.rtts else float('nan'):8.1f} ms  "
                f"p99 {self.pct(0.99):8.1f} ms")


def raw_body(i: int) -> bytes:
    return json.dumps({"id": str(uuid.uuid4()), "i": i, "payload": PAYLOAD}, ensure_ascii=False).encode()


class Unit:
    def __init__(self, code: str, key: env_mod.Key) -> None:
        self.code, self.key = code, key

    def body(self, i: int) -> tuple[str, bytes]:
        env = env_mod.sign(env_mod.build(type="delivery", sender=self.code, receiver=OFFICE,
                                         payload={**PAYLOAD, "i": i}), self.key)
        return env["id"], env_mod.dumps(env)


async def round_trips(name: str, n: int, make: Callable[[int], tuple[str, bytes]],
                      publish: Callable[[bytes], Awaitable[None]], replies: asyncio.Queue,
                      id_of: Callable[[dict], str]) -> Result:
    """Publish n messages (pipelined) while reading n answers; time from first publish to last answer."""
    sent_at: dict[str, float] = {}
    rtts: list[float] = []
    # At most WINDOW unanswered messages, as a careful client keeps (Mosquitto drops QoS 1 messages
    # beyond its max_queued_messages, 1000 by default, for a subscriber that falls behind).
    window = asyncio.Semaphore(WINDOW)
    start = time.perf_counter()

    async def reader() -> None:
        while len(rtts) < n:
            raw, at = await replies.get()
            key = id_of(json.loads(raw))
            if key in sent_at:
                rtts.append(at - sent_at.pop(key))
                window.release()

    task = asyncio.create_task(reader())
    pending = []
    for i in range(n):
        await window.acquire()
        key, body = make(i)
        sent_at[key] = time.perf_counter()
        pending.append(publish(body))
        if len(pending) >= 100:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    await asyncio.wait_for(task, timeout=600)
    return Result(name, n, time.perf_counter() - start, rtts)


def raw_make(i: int) -> tuple[str, bytes]:
    body = raw_body(i)
    return json.loads(body)["id"], body


# AMQP -----------------------------------------------------------------------------------------
async def bench_amqp(n: int, config: ChannelConfig, unit: Unit, prefix: str, url: str) -> tuple[Result, Result]:
    conn = await aio_pika.connect(url)
    pub = await conn.channel(publisher_confirms=True)
    # raw: client -> raw.in -> echo consumer (server side) -> raw.out -> client
    raw_in = await pub.declare_queue(f"{prefix}.raw.in", durable=True)
    raw_out = await pub.declare_queue(f"{prefix}.raw.out", durable=True)
    replies: asyncio.Queue = asyncio.Queue()
    reader_ch = await conn.channel()
    await reader_ch.set_qos(prefetch_count=500)

    async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        replies.put_nowait((message.body, time.perf_counter()))
        await message.ack()

    tag = await (await reader_ch.get_queue(raw_out.name)).consume(on_reply)

    async def publish_raw(body: bytes) -> None:
        await pub.default_exchange.publish(aio_pika.Message(body, delivery_mode=2), routing_key=raw_in.name)

    raw = await round_trips("amqp raw", n, raw_make, publish_raw, replies, lambda m: m["id"])
    await (await reader_ch.get_queue(raw_out.name)).cancel(tag)

    amqp = channel_class("amqp")(config)
    exchange = await amqp.declare(pub, unit.code)
    ours_replies: asyncio.Queue = asyncio.Queue()
    out_q = await reader_ch.get_queue(amqp.out_queue(unit.code))

    async def on_receipt(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        ours_replies.put_nowait((message.body, time.perf_counter()))
        await message.ack()

    await out_q.consume(on_receipt)

    async def publish_env(body: bytes) -> None:
        await exchange.publish(aio_pika.Message(body, delivery_mode=2), routing_key=f"in.{unit.code}")

    ours = await round_trips("amqp envelope", n, unit.body, publish_env, ours_replies, lambda m: m["correlation_id"])
    for q in (raw_in.name, raw_out.name, amqp.in_queue(unit.code), amqp.out_queue(unit.code), f"{prefix}.dead"):
        await pub.queue_delete(q)
    await pub.exchange_delete(amqp.exchange_name)
    await pub.exchange_delete(f"{prefix}.dlx")
    await conn.close()
    return raw, ours


# MQTT -----------------------------------------------------------------------------------------
MQTT_PORT = 1883


def own_mosquitto(tmp: Path) -> tuple[subprocess.Popen, int]:
    """A Mosquitto of the bench's own with a production-like in-flight window (the packaged default is 20
    unacknowledged QoS 1 messages per client, which caps how many the listener can commit at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = tmp / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_inflight_messages 1000\nmax_queued_messages 100000\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("mosquitto did not start")


class PahoClient:
    def __init__(self, client_id: str, topic: str, sink: Callable[[bytes], None]) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(200)
        self.client.on_message = lambda _c, _u, msg: sink(msg.payload)
        self.client.connect("127.0.0.1", MQTT_PORT, 60)
        self.client.loop_start()
        self.client.subscribe(topic, qos=1)
        time.sleep(0.3)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


async def bench_mqtt(n: int, unit: Unit, prefix: str) -> tuple[Result, Result]:
    loop = asyncio.get_running_loop()
    replies: asyncio.Queue = asyncio.Queue()

    def sink(payload: bytes) -> None:
        at = time.perf_counter()
        loop.call_soon_threadsafe(replies.put_nowait, (payload, at))

    client = PahoClient(f"{prefix}-bench", f"{prefix}/raw/out", sink)

    async def publish_raw(body: bytes) -> None:
        client.client.publish(f"{prefix}/raw/in", body, qos=1)

    raw = await round_trips("mqtt raw", n, raw_make, publish_raw, replies, lambda m: m["id"])
    client.client.unsubscribe(f"{prefix}/raw/out")
    ours_replies: asyncio.Queue = asyncio.Queue()

    def sink2(payload: bytes) -> None:
        at = time.perf_counter()
        loop.call_soon_threadsafe(ours_replies.put_nowait, (payload, at))

    client.client.on_message = lambda _c, _u, msg: sink2(msg.payload)
    client.client.subscribe(f"{prefix}/out/{unit.code}/+", qos=1)
    await asyncio.sleep(0.3)

    async def publish_env(body: bytes) -> None:
        client.client.publish(f"{prefix}/in/{unit.code}/delivery", body, qos=1)

    ours = await round_trips("mqtt envelope", n, unit.body, publish_env, ours_replies, lambda m: m["correlation_id"])
    client.close()
    return raw, ours


# NATS -----------------------------------------------------------------------------------------
async def bench_nats(n: int, config: ChannelConfig, unit: Unit, prefix: str, url: str) -> tuple[Result, Result]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    raw_stream = f"{prefix.upper()}RAW"  # created by the server side with its echo consumer

    async def reader(sub, q: asyncio.Queue) -> None:
        while True:
            try:
                msgs = await sub.fetch(500, timeout=1)
            except nats.errors.TimeoutError:
                continue
            at = time.perf_counter()
            for m in msgs:
                q.put_nowait((m.data, at))
                await m.ack()

    replies: asyncio.Queue = asyncio.Queue()
    out_sub = await js.pull_subscribe(f"{prefix}raw.out", durable="client", stream=raw_stream)
    read_task = asyncio.create_task(reader(out_sub, replies))

    async def publish_raw(body: bytes) -> None:
        await js.publish(f"{prefix}raw.in", body)

    raw = await round_trips("nats raw", n, raw_make, publish_raw, replies, lambda m: m["id"])
    read_task.cancel()

    ch = channel_class("nats")(config)
    await ch._connect()
    ours_replies: asyncio.Queue = asyncio.Queue()
    sub = await js.pull_subscribe(ch.out_subject(unit.code), durable=f"unit-{unit.code}", stream=ch.stream)
    read_task = asyncio.create_task(reader(sub, ours_replies))

    async def publish_env(body: bytes) -> None:
        await js.publish(ch.in_subject(unit.code, "delivery"), body)

    ours = await round_trips("nats envelope", n, unit.body, publish_env, ours_replies, lambda m: m["correlation_id"])
    read_task.cancel()
    await nc.close()
    return raw, ours


# socket ---------------------------------------------------------------------------------------
async def bench_socket(n: int, unit: Unit, ports: dict[str, int], conc: int) -> tuple[Result, Result]:
    """``conc`` connections, each pipelined, frames handed out in turn (raw and ours alike)."""
    from pbshare.channels.socket import read_frame

    async def run(name: str, port: int, make, id_of) -> Result:
        replies: asyncio.Queue = asyncio.Queue()
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(conc)]

        async def pump(reader: asyncio.StreamReader) -> None:
            while True:
                body, _ = await read_frame(reader, 1 << 20)
                replies.put_nowait((body, time.perf_counter()))

        tasks = [asyncio.create_task(pump(reader)) for reader, _ in conns]
        turn = itertools.cycle([writer for _, writer in conns])

        async def publish(body: bytes) -> None:
            writer = next(turn)
            writer.write(struct.pack(">I", len(body)) + body)
            await writer.drain()

        result = await round_trips(name, n, make, publish, replies, id_of)
        for task in tasks:
            task.cancel()
        for _, writer in conns:
            writer.close()
        return result

    raw = await run("socket raw", ports["socket raw"], raw_make, lambda m: m["id"])
    ours = await run("socket envelope", ports["socket"], unit.body, lambda m: m["correlation_id"])
    return raw, ours


# the server side: another process, as on other machines in production ------------------------
async def start_echoes(prefix: str, settings: Settings, only: set[str]) -> tuple[dict[str, int], list]:
    """The raw echo consumers, one per transport: republish each message as it is, then acknowledge."""
    from pbshare.channels.socket import frame, read_frame

    ports: dict[str, int] = {}
    closers: list = []
    if "amqp" in only:
        conn = await aio_pika.connect(settings.amqp_url)
        ch = await conn.channel(publisher_confirms=True)
        await ch.set_qos(prefetch_count=200)
        raw_in = await ch.declare_queue(f"{prefix}.raw.in", durable=True)
        await ch.declare_queue(f"{prefix}.raw.out", durable=True)

        async def amqp_echo(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await ch.default_exchange.publish(aio_pika.Message(message.body, delivery_mode=2),
                                              routing_key=f"{prefix}.raw.out")
            await message.ack()

        await raw_in.consume(amqp_echo)
        closers.append(conn.close)
    if "mqtt" in only:
        holder: dict = {}
        holder["c"] = PahoClient(f"{prefix}-echo", f"{prefix}/raw/in",
                                 lambda payload: holder["c"].client.publish(f"{prefix}/raw/out", payload, qos=1))

        async def close_mqtt() -> None:
            holder["c"].close()

        closers.append(close_mqtt)
    if "nats" in only:
        nc = await nats.connect(settings.nats_url)
        js = nc.jetstream()
        raw_stream = f"{prefix.upper()}RAW"
        await js.add_stream(name=raw_stream, subjects=[f"{prefix}raw.>"])
        sub = await js.pull_subscribe(f"{prefix}raw.in", durable="echo", stream=raw_stream)

        async def nats_echo() -> None:
            while True:
                try:
                    msgs = await sub.fetch(200, timeout=1)
                except TimeoutError:
                    continue
                for m in msgs:
                    await js.publish(f"{prefix}raw.out", m.data)
                    await m.ack()

        task = asyncio.create_task(nats_echo())

        async def close_nats() -> None:
            task.cancel()
            with contextlib.suppress(Exception):
                await js.delete_stream(raw_stream)
            await nc.close()

        closers.append(close_nats)
    if "socket" in only:
        async def socket_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    body, _ = await read_frame(reader, 1 << 20)
                    writer.write(frame(body))
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        server = await asyncio.start_server(socket_echo, "127.0.0.1", 0)
        ports["socket raw"] = server.sockets[0].getsockname()[1]

        async def close_socket() -> None:
            server.close()

        closers.append(close_socket)
    return ports, closers


async def serve_side(settings: Settings, prefix: str, only: set[str], ready, stop) -> None:
    database = Database.from_settings(settings)
    config = ChannelConfig.from_settings(settings, prefix=prefix, socket_host="127.0.0.1", socket_port=0, batch=200)
    runtime = Runtime(database, config, tick=0.5, health_every=3600)
    await runtime.start()
    while runtime.channels.get("socket") is None or runtime.channels["socket"].port is None:
        await asyncio.sleep(0.05)
    ports, closers = await start_echoes(prefix, settings, only)
    ports["socket"] = runtime.channels["socket"].port
    if {"soap", "rest"} & only:
        servers = start_http(settings, database)
        ports.update({name: port for name, (port, _) in servers.items()})
        for _, server in servers.values():
            closers.append(_stopper(server))
    await asyncio.sleep(1.0)  # listeners subscribed
    ready.put(ports)
    try:
        while not stop.is_set():
            await asyncio.sleep(0.2)
    finally:
        for close in closers:
            with contextlib.suppress(Exception):
                await close()
        await runtime.stop()
        database.dispose()


def server_side(settings: Settings, prefix: str, only: set[str], mqtt_port: int, ready, stop) -> None:
    """Entry point of the server process: the platform's listeners (what ``pbshare listen`` runs) and
    the raw echo consumers. The units' clients stay in the bench's own process, as units are other
    systems; neither side then waits on the other's interpreter lock."""
    global MQTT_PORT
    MQTT_PORT = mqtt_port
    asyncio.run(serve_side(settings, prefix, only, ready, stop))


# SOAP and REST: concurrent request/response calls, as a unit's system makes them -----------------
def serve(app, port: int):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server


def _stopper(server) -> Callable[[], Awaitable[None]]:
    async def stop() -> None:
        server.should_exit = True

    return stop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_http(settings: Settings, database: Database) -> dict[str, tuple[int, object]]:
    """The platform's web application (REST and SOAP served as ``pbshare serve`` serves them) and raw echo
    servers of the same transports: a spyne echo service and a plain FastAPI echo route."""
    from a2wsgi import WSGIMiddleware
    from fastapi import FastAPI
    from fastapi.responses import Response
    from spyne.server.wsgi import WsgiApplication

    from pbshare.app import create_app
    from pbshare.channels.soap import build_application

    app = create_app(settings, database=database)
    raw_app = FastAPI()
    echo_soap = WSGIMiddleware(WsgiApplication(build_application(
        lambda raw, peer, want: {"status": "accepted", "envelope": raw.decode()})))
    raw_app.router.add_route("/ws", echo_soap, methods=["GET", "POST"])

    async def echo(request):
        return Response(await request.body(), media_type="application/json")

    raw_app.router.add_route("/echo", echo, methods=["POST"], include_in_schema=False)
    port, raw_port = free_port(), free_port()
    return {"http": (port, serve(app, port)), "http raw": (raw_port, serve(raw_app, raw_port))}


SOAP_CALL = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
             '"http://schemas.xmlsoap.org/soap/envelope/" xmlns:ex="urn:pbshare:exchange"><soapenv:Body>'
             '<ex:SubmitJson><ex:envelope>{}</ex:envelope></ex:SubmitJson></soapenv:Body></soapenv:Envelope>')


def soap_call(body: bytes) -> bytes:
    """A SubmitJson call as a unit's SOAP client sends it (what zeep sends, without zeep's cost per call)."""
    from xml.sax.saxutils import escape

    return SOAP_CALL.format(escape(body.decode())).encode()


async def calls(name: str, n: int, conc: int, call: Callable[[int], Awaitable[None]]) -> Result:
    """n calls from ``conc`` workers, each waiting for its answer before its next call."""
    rtts: list[float] = []
    numbers = iter(range(n))

    async def worker() -> None:
        for i in numbers:
            t0 = time.perf_counter()
            await call(i)
            rtts.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return Result(name, n, time.perf_counter() - start, rtts)


async def bench_soap_rest(n: int, conc: int, ports: dict[str, int], units: dict[str, Unit],
                          rest_client: tuple[str, str, bytes], only: set[str], batch: int) -> list[tuple[Result, Result]]:
    import httpx

    from pbshare.security.clients import service as api_clients
    from pbshare.security.crypto import algorithms as crypto

    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    ours_url, raw_url = f"http://127.0.0.1:{ports['http']}", f"http://127.0.0.1:{ports['http raw']}"
    soap_headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"SubmitJson"'}
    results = []
    async with httpx.AsyncClient(base_url=ours_url, limits=limits, timeout=60) as http, \
            httpx.AsyncClient(base_url=raw_url, limits=limits, timeout=60) as raw_http:
        if "soap" in only:
            async def soap_raw(i: int) -> None:
                res = await raw_http.post("/ws", content=soap_call(raw_body(i)), headers=soap_headers)
                _check(res.status_code == 200 and b"accepted" in res.content, res.text)

            async def soap_ours(i: int) -> None:
                res = await http.post("/ws/exchange", content=soap_call(units["soap"].body(i)[1]), headers=soap_headers)
                _check(res.status_code == 200 and b"<tns:status>accepted<" in res.content, res.text)

            raw = await calls("soap raw", n, conc, soap_raw)
            results.append((raw, await calls("soap envelope", n, conc, soap_ours)))
        if "rest" in only:
            client_id, key_id, secret = rest_client

            async def rest_raw(i: int) -> None:
                (await raw_http.post("/echo", content=raw_body(i))).raise_for_status()

            async def rest_ours(i: int) -> None:
                body = units["rest"].body(i)[1]
                headers = api_clients.sign_request("POST", "/api/v1/exchange/messages", body, client_id=client_id,
                                                   key_id=key_id, alg=crypto.HMAC_SM3, secret=secret)
                res = await http.post("/api/v1/exchange/messages", content=body, headers=headers)
                _check(res.status_code == 200, res.text)

            raw = await calls("rest raw", n, conc, rest_raw)
            results.append((raw, await calls("rest envelope", n, conc, rest_ours)))
        if "rest" in only and batch:
            client_id, key_id, secret = rest_client
            path = "/api/v1/exchange/messages/batch"

            def joined(parts: list[bytes]) -> bytes:
                return b'{"envelopes":[' + b",".join(parts) + b"]}"

            async def batch_raw(k: int) -> None:
                body = joined([raw_body(k * batch + j) for j in range(batch)])
                (await raw_http.post("/echo", content=body)).raise_for_status()

            async def batch_ours(k: int) -> None:
                body = joined([units["rest"].body(n + k * batch + j)[1] for j in range(batch)])
                headers = api_clients.sign_request("POST", path, body, client_id=client_id, key_id=key_id,
                                                   alg=crypto.HMAC_SM3, secret=secret)
                res = await http.post(path, content=body, headers=headers)
                _check(res.status_code == 200 and res.json().get("accepted") == batch, res.text)

            requests = n // batch
            raw = await calls(f"restbatch{batch} raw", requests, conc, batch_raw)
            ours = await calls(f"restbatch{batch} envelope", requests, conc, batch_ours)
            raw.count = ours.count = requests * batch  # envelopes, each a round trip inside its request
            results.append((raw, ours))
    return results


def _check(ok: bool, detail: str = "") -> None:
    if not ok:
        raise RuntimeError(f"unexpected answer {detail[:200]}")


# main -----------------------------------------------------------------------------------------
def setup(database: Database, settings: Settings, channels: list[str]) -> tuple[dict[str, Unit], tuple]:
    from pbshare.security.clients import service as api_clients
    from pbshare.security.crypto import algorithms as crypto

    units: dict[str, Unit] = {}
    with database.session() as s:
        unit_service.ensure_office(s)
        for ch in channels:
            code = f"B{ch.upper()}"
            unit_service.upsert_unit(s, code=code, name=f"压测单位 {ch}", kind="other")
            conn, creds = connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code=code,
                                                        channel=ch, name=f"bench {ch}")
            connections.transition(s, connection_id=conn.id, to="testing")
            connections.transition(s, connection_id=conn.id, to="live", override_reason="基准测试 / benchmark")
            units[ch] = Unit(code, env_mod.Key(key_id=creds.key_id, secret=bytes.fromhex(creds.secret_hex)))
        client, key, secret_hex = api_clients.create_client(s, unit_code="BREST", name="bench", alg=crypto.HMAC_SM3,
                                                            data_dir=settings.resolved_data_dir,
                                                            rate_limit_per_minute=10_000_000)
        rest_client = (client.id, key.id, bytes.fromhex(secret_hex))
    return units, rest_client


async def one_run(args: argparse.Namespace, settings: Settings, units: dict[str, Unit],
                  rest_client: tuple) -> list[tuple[Result, Result]]:
    """One pass over every channel asked for, against a fresh server process (fresh queues and streams)."""
    prefix = f"pbb{uuid.uuid4().hex[:8]}"
    config = ChannelConfig.from_settings(settings, prefix=prefix, socket_host="127.0.0.1", socket_port=0,
                                         batch=200)
    only = set(args.only) - ({"soap", "rest"} if args.skip_http else set())
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=server_side, args=(settings, prefix, only, MQTT_PORT, ready, stop),
                         name="bench-server-side")
    server.start()
    pairs = []
    try:
        ports = await asyncio.to_thread(ready.get, True, 120)
        if "amqp" in only:
            pairs.append(await bench_amqp(args.count, config, units["amqp"], prefix, settings.amqp_url))
        if "mqtt" in only:
            pairs.append(await bench_mqtt(args.count, units["mqtt"], prefix))
        if "nats" in only:
            pairs.append(await bench_nats(args.count, config, units["nats"], prefix, settings.nats_url))
        if "socket" in only:
            pairs.append(await bench_socket(args.count, units["socket"], ports, args.concurrency))
        if {"soap", "rest"} & only:
            pairs += await bench_soap_rest(args.count, args.concurrency, ports, units, rest_client, only,
                                           args.rest_batch)
    finally:
        stop.set()
        await asyncio.to_thread(server.join, 60)
        if server.is_alive():
            server.kill()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-platform", clean_session=True)
        c.connect("127.0.0.1", MQTT_PORT, 10)
        c.disconnect()
        if "nats" in only:
            with contextlib.suppress(Exception):
                nc = await nats.connect(settings.nats_url)
                await nc.jetstream().delete_stream(channel_class("nats")(config).stream)
                await nc.close()
    return pairs


async def main_async(args: argparse.Namespace, database: Database, settings: Settings) -> list[list[tuple[Result, Result]]]:
    channels = ["amqp", "mqtt", "nats", "socket", "soap", "rest"]
    units, rest_client = await asyncio.to_thread(setup, database, settings, channels)
    runs = []
    for run in range(args.runs):
        pairs = await one_run(args, settings, units, rest_client)
        print(f"run {run + 1} of {args.runs}")
        for raw, ours in pairs:
            print(raw.line())
            print(ours.line() + f"  ratio {ours.seconds / raw.seconds:5.2f}")
        runs.append(pairs)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="platform database (default: SQLite in a temp dir)")
    parser.add_argument("--skip-http", action="store_true", help="leave out SOAP and REST")
    parser.add_argument("--own-mosquitto", action="store_true",
                        help="run MQTT (ours and raw) on a Mosquitto started here with max_inflight_messages 1000")
    parser.add_argument("--only", default="amqp,mqtt,nats,socket,soap,rest",
                        help="comma-separated channels to measure (default: all)")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="connections a unit's system keeps open: socket connections (each pipelined) and "
                             "concurrent SOAP and REST calls, raw baselines alike (default 8)")
    parser.add_argument("--rest-batch", type=int, default=50,
                        help="envelopes per batched REST request (POST /api/v1/exchange/messages/batch), raw echo "
                             "of the same bodies alike; 0 leaves it out (default 50)")
    parser.add_argument("--runs", type=int, default=3, help="passes over every channel; the median ratio counts")
    args = parser.parse_args()
    args.only = set(args.only.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="pbbench-"))
    global MQTT_PORT
    broker = None
    extra: dict = {}
    if args.own_mosquitto:
        broker, MQTT_PORT = own_mosquitto(tmp)
        extra["mqtt_url"] = f"mqtt://127.0.0.1:{MQTT_PORT}"
    settings = Settings(data_dir=tmp, database_url=args.database_url, start_listeners=False, **extra)
    database = Database.from_settings(settings)
    migrate.upgrade(database.engine)
    print(f"exchange channels: {args.count} messages per channel, platform database {database.dialect}, "
          f"concurrency {args.concurrency}, {args.runs} run(s)")
    try:
        runs = asyncio.run(main_async(args, database, settings))
    finally:
        database.dispose()
        if broker is not None:
            broker.terminate()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"summary over {len(runs)} run(s): median ratio (spread), median rate ours / raw")
    worst = 0.0
    for k, (raw0, _) in enumerate(runs[0]):
        ratios = sorted(ours.seconds / raw.seconds for raw, ours in (r[k] for r in runs))
        rates = [(ours.rate, raw.rate) for raw, ours in (r[k] for r in runs)]
        median = statistics.median(ratios)
        name = raw0.name.split()[0]
        print(f"{name:<8} ratio {median:5.2f} ({ratios[0]:.2f}–{ratios[-1]:.2f})  "
              f"{statistics.median(o for o, _ in rates):7.0f} / {statistics.median(r for _, r in rates):7.0f} msg/s")
        worst = max(worst, median)
    print(f"RATIO {worst:.2f}")


if __name__ == "__main__":
    main()
