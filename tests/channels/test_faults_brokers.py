"""Each broker restarted mid-stream under a real ``pbshare serve``, on SQLite and PostgreSQL.

Every test starts its own broker (a second Mosquitto, a second nats-server, a second RabbitMQ node)
on a free port with its own store, so restarting it disturbs no other test. Envelopes flow both ways
while the broker goes down and comes back: every inbound envelope is stored exactly once and
receipted, every outbound one reaches the unit (an idempotent receiver: copies are known by their
id) and ends ``delivered``, the listeners reconnect by themselves, and ``/readyz`` names the broker
it waits for meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import nats
import paho.mqtt.client as mqtt
import pytest

from pbshare.channels.amqp import AmqpChannel
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import ChannelConfig
from pbshare.exchange.messaging import service as messaging
from tests.channels.conftest import UnitSide
from tests.channels.faults_kit import Process, counts, free_port, process_env, report, scale

pytestmark = pytest.mark.services

DOWN_FOR = float(os.environ.get("PBSHARE_FAULT_DOWN_S") or 4)


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), __import__("socket").create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def wait_port(port: int, up: bool, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while port_open(port) != up:
        if time.monotonic() > end:
            raise AssertionError(f"{what} did not {'open' if up else 'close'} port {port} within {timeout:.0f} s")
        time.sleep(0.1)


# the brokers ------------------------------------------------------------------------------------
class Mosquitto:
    """A second Mosquitto with its own persistence file: queued QoS 1 messages survive a restart."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        self.conf = root / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\nuser root\npersistence true\n"
                             f"persistence_location {root}/\nmax_queued_messages 0\nmax_inflight_messages 0\n"
                             f"log_dest file {root}/mosquitto.log\nlog_type error\nlog_type warning\n"
                             "log_type notice\nlog_type information\nlog_type subscribe\n")
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port, True, 20, "mosquitto")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # mosquitto writes its persistence file as it stops
            self.proc.wait(20)
        wait_port(self.port, False, 10, "mosquitto")


class NatsServer:
    """A second nats-server with JetStream in its own store directory."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.store = root / "js"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(["nats-server", "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd",
                                      str(self.store)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, True, 20, "nats-server")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        wait_port(self.port, False, 10, "nats-server")


class RabbitNode:
    """A second RabbitMQ node (own name, ports and store); restarted with ``stop_app``/``start_app``,
    which keeps durable queues and persistent messages, as a broker restart does."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.node = f"pbfault{uuid.uuid4().hex[:8]}@localhost"
        root.mkdir(parents=True, exist_ok=True)
        (root / "plugins").write_text("[].\n")
        shutil.chown(root, "rabbitmq")
        for sub in ("mnesia", "log"):
            (root / sub).mkdir(exist_ok=True)
            shutil.chown(root / sub, "rabbitmq")
        shutil.chown(root / "plugins", "rabbitmq")
        self.env = {**os.environ, "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
                    "RABBITMQ_DIST_PORT": str(free_port()), "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
                    "RABBITMQ_MNESIA_DIR": str(root / "mnesia" / "node"), "RABBITMQ_LOG_BASE": str(root / "log"),
                    "RABBITMQ_FEATURE_FLAGS_FILE": str(root / "mnesia" / "feature_flags"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "plugins"),
                    "RABBITMQ_CONFIG_FILE": str(root / "none")}
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def ctl(self, *args: str) -> None:
        subprocess.run(["rabbitmqctl", "-n", self.node, *args], env=self.env, check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def boot(self) -> None:
        self.proc = subprocess.Popen(["rabbitmq-server"], env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port, True, 90, "rabbitmq-server")

    def start(self) -> None:
        self.ctl("start_app")
        wait_port(self.port, True, 30, "rabbitmq start_app")

    def stop(self) -> None:
        self.ctl("stop_app")
        wait_port(self.port, False, 30, "rabbitmq stop_app")

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.ctl("stop")
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(30)


@pytest.fixture(scope="module")
def rabbit() -> Iterator[RabbitNode]:
    # RabbitMQ runs as its own user, who cannot enter pytest's private temporary directories
    root = Path(tempfile.mkdtemp(prefix="pbshare-rabbit-"))
    node = RabbitNode(root)
    try:
        node.boot()
        yield node
    finally:
        node.shutdown()
        shutil.rmtree(root, ignore_errors=True)


# the unit's side ---------------------------------------------------------------------------------
class MqttUnit:
    """The unit's paho client with a persistent session: what it publishes while the broker is down
    waits in paho and goes out after the reconnect."""

    def __init__(self, url: str, prefix: str, unit: str) -> None:
        self.prefix, self.unit = prefix, unit
        self.got: queue.Queue[dict[str, Any]] = queue.Queue()
        self.infos: list[mqtt.MQTTMessageInfo] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-unit-{unit}",
                                  clean_session=False)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.2, 1)
        self.client.on_message = lambda _c, _u, msg: self.got.put(json.loads(msg.payload))
        self.client.on_connect = lambda cl, *_: cl.subscribe(f"{prefix}/out/{unit}/+", qos=1)
        host, port = url.removeprefix("mqtt://").split(":")
        self.client.connect(host, int(port), 10)
        self.client.loop_start()

    async def publish(self, body: bytes, type_: str) -> None:
        self.infos.append(self.client.publish(f"{self.prefix}/in/{self.unit}/{type_}", body, qos=1))

    async def take(self) -> list[dict[str, Any]]:
        out = []
        while True:
            try:
                out.append(self.got.get_nowait())
            except queue.Empty:
                return out

    async def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class NatsUnit:
    """The unit's nats-py client (reconnects by itself); a publish refused while the server is down is
    tried again, as a unit's system would."""

    def __init__(self, url: str, prefix: str, unit: str) -> None:
        self.url, self.prefix, self.unit = url, prefix, unit
        self.received: list[dict[str, Any]] = []
        self.nc: Any = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.nc = await nats.connect(self.url, max_reconnect_attempts=-1, reconnect_time_wait=0.3)
        self.js = self.nc.jetstream(timeout=5)
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        sub = None
        while True:
            try:
                if sub is None:
                    sub = await self.js.pull_subscribe(f"{self.prefix}.out.{self.unit}.>", durable=f"unit-{self.unit}",
                                                       stream=self.prefix.upper())
                for m in await sub.fetch(200, timeout=0.5):
                    self.received.append(json.loads(m.data))
                    await m.ack()
            except asyncio.CancelledError:
                raise
            except Exception:  # no stream yet, a fetch timeout, the server restarting: try again
                await asyncio.sleep(0.2)

    async def publish(self, body: bytes, type_: str) -> None:
        while True:
            try:
                await self.js.publish(f"{self.prefix}.in.{self.unit}.{type_}", body)
                return
            except Exception:
                await asyncio.sleep(0.3)

    async def take(self) -> list[dict[str, Any]]:
        out, self.received = self.received, []
        return out

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
        with contextlib.suppress(Exception):
            await self.nc.close()


class AmqpUnit:
    """The unit's aio-pika robust connection: it reconnects and consumes its ``out`` queue again."""

    def __init__(self, url: str, prefix: str, unit: str) -> None:
        self.url, self.prefix, self.unit = url, prefix, unit
        self.received: list[dict[str, Any]] = []

    async def start(self) -> None:
        self.conn = await aio_pika.connect_robust(self.url, reconnect_interval=0.5)
        self.channel = await self.conn.channel(publisher_confirms=True)
        config = ChannelConfig(data_dir=Path("."), amqp_url=self.url, prefix=self.prefix)
        await AmqpChannel(config).declare(self.channel, self.unit)
        queue_ = await self.channel.get_queue(f"{self.prefix}.out.{self.unit}")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            self.received.append(json.loads(message.body))
            await message.ack()

        await queue_.consume(on_message)

    async def publish(self, body: bytes, type_: str) -> None:
        while True:
            try:
                exchange = await self.channel.get_exchange(f"{self.prefix}.exchange")
                await exchange.publish(aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                       routing_key=f"in.{self.unit}")
                return
            except Exception:
                await asyncio.sleep(0.3)

    async def take(self) -> list[dict[str, Any]]:
        out, self.received = self.received, []
        return out

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.conn.close()


# the test ----------------------------------------------------------------------------------------
async def readyz(base: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as http:
        res = await http.get(f"{base}/readyz")
        return {"http": res.status_code, **res.json()}


async def broker_restart(kind: str, broker: Any, unit_client: Any, unit: UnitSide, settings: Any, database: Any,
                         prefix: str) -> None:
    n_in, n_out = scale(150), scale(150)
    with database.session() as s:
        for i in range(n_out):
            messaging.enqueue(s, connection_id=unit.connection_id, type="delivery", payload={"case": i},
                              data_dir=settings.resolved_data_dir)
    port = free_port()
    env = process_env(settings, prefix=prefix, **{f"PBSHARE_{kind.upper()}_URL": broker.url})
    server = Process(["serve", "--host", "127.0.0.1", "--port", str(port)], env)
    base = f"http://127.0.0.1:{port}"
    seen: dict[str, int] = {}
    receipts: dict[str, bytes] = {}
    answered: dict[str, str] = {}
    bodies = [unit.body(payload={"i": i}) for i in range(n_in)]
    ids = {json.loads(b)["id"] for b in bodies}
    t0 = time.monotonic()
    try:
        end = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await readyz(base))["status"] == "ready":
                    break
            assert server.alive() and time.monotonic() < end, "serve did not start: " + "\n".join(server.lines[-20:])
            await asyncio.sleep(0.3)
        if hasattr(unit_client, "start"):
            await unit_client.start()

        async def absorb() -> None:
            for env in await unit_client.take():
                if env["type"] == "delivery":  # idempotent: counted, answered with the same receipt
                    assert env_mod.verify(env, unit.key)
                    seen[env["id"]] = seen.get(env["id"], 0) + 1
                    if env["id"] not in receipts:
                        receipts[env["id"]] = env_mod.dumps(env_mod.sign(
                            env_mod.receipt_for(env, sender=unit.unit_code), unit.key))
                    await unit_client.publish(receipts[env["id"]], "receipt")
                elif env["type"] == "receipt":
                    answered[env["correlation_id"]] = env["payload"]["status"]
                else:
                    raise AssertionError(f"unexpected answer: {env}")

        third = n_in // 3
        for body in bodies[:third]:
            await unit_client.publish(body, "delivery")
        await absorb()
        await asyncio.to_thread(broker.stop)
        down_at = time.monotonic()
        waiting = await readyz(base)

        async def publish_all(chunk: list[bytes]) -> None:
            for body in chunk:
                await unit_client.publish(body, "delivery")

        # while the broker is down the unit's client holds them (paho) or tries again (NATS, AMQP)
        during = asyncio.create_task(publish_all(bodies[third:2 * third]))
        await asyncio.sleep(max(0.0, DOWN_FOR - (time.monotonic() - down_at)))
        stored_while_down = counts(database)["inbox"]
        await asyncio.to_thread(broker.start)
        await during
        await publish_all(bodies[2 * third:])
        deadline = time.monotonic() + 90 + (n_in + n_out) / 20
        while True:
            await absorb()
            c = counts(database)
            if set(answered) >= ids and c.get("outbox_delivered") == n_out and c["inbox"] >= n_in + n_out:
                break
            assert time.monotonic() < deadline, (f"{kind}: after the restart {len(set(answered) & ids)}/{n_in} "
                                                 f"receipted, outbox {c}; serve said: {server.lines[-10:]}")
            await asyncio.sleep(0.2)
        ready_after = await readyz(base)
    finally:
        server.stop()
        await unit_client.close()
    c = counts(database)
    report(f"{kind} broker restarted mid-stream", inbound=n_in, outbound=n_out, broker_down_s=DOWN_FOR,
           readyz_while_down=f"{waiting.get('status')}:{[w['channel'] for w in waiting.get('waiting', [])]}",
           stored_while_down=stored_while_down, inbox=c["inbox"], rejected=c["rejected"],
           receipted=len(set(answered) & ids),
           duplicates_answered=sum(1 for i in ids if answered.get(i) == "duplicate"),
           outbox_delivered=c.get("outbox_delivered"), outbox_dead=c.get("outbox_dead", 0),
           deliveries_to_unit=len(seen), copies=sum(seen.values()), seconds=round(time.monotonic() - t0, 1))
    # the inbox holds the unit's envelopes and its receipts, each exactly once
    assert c["inbox"] == c["inbox_ids"] == n_in + n_out and c["rejected"] == 0
    assert set(answered) >= ids and c.get("outbox_delivered") == n_out and not c.get("outbox_dead")
    assert len(seen) == n_out
    assert waiting["http"] == 200 and waiting["status"] == "waiting", waiting
    assert [w["channel"] for w in waiting["waiting"]] == [kind] and waiting["waiting"][0]["waiting_for"] == "broker"
    assert ready_after["status"] == "ready", "the listener reconnected by itself"


# Reconnecting is the channel's work and the same on either database; what is stored goes through one inbox
# code path, which the RabbitMQ test (and the kill and outage tests) run on both. So each of the other two
# brokers runs on one database, keeping make test short.
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_mosquitto_restarted_mid_stream(open_connection, settings, database, prefix, tmp_path):
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    try:
        unit = open_connection("mqtt")
        await broker_restart("mqtt", broker, MqttUnit(broker.url, prefix, unit.unit_code), unit, settings, database,
                             prefix)
    finally:
        broker.stop()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_nats_restarted_mid_stream(open_connection, settings, database, prefix, tmp_path):
    broker = NatsServer(tmp_path / "nats")
    broker.start()
    try:
        unit = open_connection("nats")
        await broker_restart("nats", broker, NatsUnit(broker.url, prefix, unit.unit_code), unit, settings, database,
                             prefix)
    finally:
        broker.stop()


async def test_rabbitmq_restarted_mid_stream(open_connection, settings, database, prefix, rabbit):
    unit = open_connection("amqp")
    await broker_restart("amqp", rabbit, AmqpUnit(rabbit.url, prefix, unit.unit_code), unit, settings, database,
                         prefix)
