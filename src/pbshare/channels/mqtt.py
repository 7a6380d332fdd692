"""MQTT channel on Mosquitto (paho-mqtt): QoS 1, persistent sessions, topics per unit and type.

    <prefix>/in/<UNIT>/<type>    the unit publishes here (QoS 1)
    <prefix>/out/<UNIT>/<type>   the platform publishes deliveries, receipts and errors here (QoS 1)

The platform's listener keeps a persistent session (clean_session=False, a fixed client id), so
what units publish while it is down waits in the broker. Acknowledgements are manual
(``manual_ack_set``): the PUBACK goes out only after the inbox committed. The listener's paho client
does its network I/O on the asyncio loop (``NetworkLoop``), not in a thread of its own. A bad message
is refused, answered and acknowledged like a good one. Only a database outage leaves messages
unacknowledged (the listener reconnects and the broker delivers them again); one that failed
``max_deliveries`` times is parked as refused and acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from pbshare.exchange.channel import Channel, ConnectionInfo, Health, InboxUnavailable

log = logging.getLogger("pbshare.channels.mqtt")


def broker_address(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


def new_client(client_id: str, *, persistent: bool) -> mqtt.Client:
    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent,
                       protocol=mqtt.MQTTv311)


class NetworkLoop:
    """Runs a paho client's network I/O on the asyncio loop instead of paho's own thread.

    paho's external-loop API: the socket callbacks register it with the loop, ``loop_read`` and
    ``loop_write`` run when it is readable or writable, ``loop_misc`` (keepalive, retries) every second.
    Messages, acknowledgements and answers then never cross threads, and the listener holds no thread
    of its own contending for the interpreter lock with the inbox's worker thread.
    """

    def __init__(self, client: mqtt.Client, loop: asyncio.AbstractEventLoop, on_lost: Any) -> None:
        self.client, self.loop, self.on_lost = client, loop, on_lost
        self._fd: int | None = None
        self._closed = False
        self._housekeeping: asyncio.Task | None = None
        client.on_socket_open = lambda _c, _u, sock: self._on_loop(self._open, sock.fileno())
        client.on_socket_close = lambda _c, _u, _sock: self._on_loop(self._close_fd)
        client.on_socket_register_write = lambda _c, _u, _sock: self._on_loop(self._want_write)
        client.on_socket_unregister_write = lambda _c, _u, _sock: self._on_loop(self._done_writing)

    def _on_loop(self, fn: Any, *args: Any) -> None:
        # connect() runs in a worker thread, and paho calls these from there too
        try:
            here = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            here = False
        if here:
            fn(*args)
        else:
            self.loop.call_soon_threadsafe(fn, *args)

    def _open(self, fd: int) -> None:
        if self._closed:  # cancelled while connect() was still running in its thread
            sock = self.client.socket()
            if sock is not None:
                with contextlib.suppress(Exception):
                    sock.close()
            return
        self._fd = fd
        self.loop.add_reader(fd, self._read)
        self._housekeeping = self.loop.create_task(self._misc(), name="mqtt-misc")

    def _read(self) -> None:
        try:
            self.client.loop_read()  # a lost connection is reported through on_disconnect
        except Exception:
            log.exception("mqtt read failed; dropping the connection")
            self._close_fd()
            self.on_lost()

    def _want_write(self) -> None:
        if self._fd is not None:
            self.loop.add_writer(self._fd, self.client.loop_write)

    def _done_writing(self) -> None:
        if self._fd is not None:
            self.loop.remove_writer(self._fd)

    def _close_fd(self) -> None:
        if self._fd is not None:
            self.loop.remove_reader(self._fd)
            self.loop.remove_writer(self._fd)
            self._fd = None
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            self._housekeeping = None

    async def _misc(self) -> None:
        while self.client.loop_misc() == mqtt.MQTT_ERR_SUCCESS:
            await asyncio.sleep(1)

    def close(self) -> None:
        """Say goodbye to the broker (DISCONNECT; paho closes the socket once it is written), then let go."""
        if self._fd is not None:
            with contextlib.suppress(Exception):
                # What is queued (answers, then acknowledgements) goes out before DISCONNECT; a second
                # at most, since the loop is stopping.
                deadline = time.monotonic() + 1.0
                while self.client.want_write() and time.monotonic() < deadline:
                    self.client.loop_write()
                    if self.client.want_write():
                        time.sleep(0.005)
                self.client.disconnect()
                self.client.loop_write()
        self._closed = True
        self._close_fd()


class MqttChannel(Channel):
    name = "mqtt"
    label = ("MQTT（Mosquitto）", "MQTT (Mosquitto)")

    _publisher: mqtt.Client | None = None
    _failures: dict[bytes, int] | None = None  # deliveries that found the inbox down, per topic and body

    def in_topic(self, unit: str, type_: str = "+") -> str:
        return f"{self.config.prefix}/in/{unit}/{type_}"

    def out_topic(self, unit: str, type_: str) -> str:
        return f"{self.config.prefix}/out/{unit}/{type_}"

    @property
    def listener_id(self) -> str:
        return f"{self.config.prefix}-platform"

    def _publisher_client(self) -> mqtt.Client:
        if self._publisher is None or not self._publisher.is_connected():
            if self._publisher is not None:
                # The old client's thread keeps reconnecting under the same client id: left running, it
                # pushes the new client off the broker and back, over and over, after a broker restart.
                old, self._publisher = self._publisher, None
                old.loop_stop()
                with contextlib.suppress(Exception):
                    old.disconnect()
            client = new_client(f"{self.config.prefix}-platform-pub", persistent=False)
            client.max_inflight_messages_set(self.config.batch)
            client.max_queued_messages_set(0)
            host, port = broker_address(self.config.mqtt_url)
            client.connect(host, port, keepalive=30)
            client.loop_start()
            for _ in range(100):  # CONNACK arrives on paho's thread
                if client.is_connected():
                    break
                time.sleep(0.05)
            self._publisher = client
        return self._publisher

    def _publish_sync(self, topic: str, body: bytes) -> None:
        info = self._publisher_client().publish(topic, body, qos=1)
        info.wait_for_publish(timeout=self.config.send_timeout)  # PUBACK from the broker
        if not info.is_published():
            raise TimeoutError(f"the broker did not acknowledge the publish to {topic}")

    async def send(self, conn: ConnectionInfo, body: bytes) -> bytes | None:
        type_ = json.loads(body).get("type", "delivery")
        await asyncio.to_thread(self._publish_sync, self.out_topic(conn.unit_code, type_), body)
        return None

    async def reply(self, unit_code: str, envelope: dict[str, Any]) -> None:
        from pbshare.exchange.envelope import dumps

        await asyncio.to_thread(self._publish_sync, self.out_topic(unit_code, envelope.get("type", "error")),
                                dumps(envelope))

    async def listen(self, conns: list[ConnectionInfo]) -> None:
        """Receive until cancelled. A lost broker connection is reopened with backoff, on the same client:
        the session persists, so the broker resends what was not acknowledged, and paho resends the
        answers it had not seen acknowledged."""
        loop = asyncio.get_running_loop()
        units = sorted({c.unit_code for c in conns})
        inbox: asyncio.Queue[mqtt.MQTTMessage | None] = asyncio.Queue()
        client = new_client(self.listener_id, persistent=True)
        client.manual_ack_set(True)
        # No in-flight cap on the answers: a capped answer would wait in paho while the acknowledgement
        # queued after it went out first.
        client.max_inflight_messages_set(0)
        client.max_queued_messages_set(0)
        network = NetworkLoop(client, loop, on_lost=lambda: inbox.put_nowait(None))

        def on_connect(cl: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
            if reason.is_failure:
                log.error("the broker refused the mqtt listener: %s", reason)
            else:
                cl.subscribe([(self.in_topic(u), 1) for u in units])

        client.on_connect = on_connect
        # Both run on the event loop's thread: NetworkLoop reads the socket there.
        client.on_message = lambda _cl, _userdata, msg: inbox.put_nowait(msg)
        client.on_disconnect = lambda *_args: inbox.put_nowait(None)
        host, port = broker_address(self.config.mqtt_url)
        client.connect_async(host, port, 30)
        delay = 0.5
        try:
            while True:
                started = time.monotonic()
                try:
                    await asyncio.to_thread(client.reconnect)
                    log.info("mqtt listener on %d unit(s)", len(units))
                    await self._consume(client, inbox)
                except (OSError, ConnectionError) as exc:
                    if time.monotonic() - started > 30:
                        delay = 0.5
                    log.warning("mqtt listener lost the broker (%s); reconnecting in %.1f s", exc, delay)
                    # What was received but not committed is dropped here; unacknowledged, the broker
                    # sends it again on the new connection.
                    while not inbox.empty():
                        inbox.get_nowait()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
        finally:
            network.close()

    async def _consume(self, client: mqtt.Client, inbox: asyncio.Queue[mqtt.MQTTMessage | None]) -> None:
        while True:
            first = await inbox.get()
            if first is None:
                raise ConnectionError("the broker closed the connection")
            items = [first]
            lost = False
            while not inbox.empty() and len(items) < self.config.batch:
                nxt = inbox.get_nowait()
                if nxt is None:
                    lost = True
                    break
                items.append(nxt)
            await self._handle(client, items)
            if lost:
                raise ConnectionError("the broker closed the connection")

    async def _handle(self, client: mqtt.Client, items: list[mqtt.MQTTMessage]) -> None:
        raws: list[tuple[bytes, str | None]] = [(bytes(m.payload), f"mqtt:{m.topic}") for m in items]
        try:
            outcomes = await self.connected_hub.receive(self.name, raws)
        except InboxUnavailable as exc:
            # No PUBACK: the broker delivers these again when the session reconnects; those that failed
            # max_deliveries times are parked as refused and acknowledged instead.
            log.warning("inbox unavailable (%s); reconnecting so the broker delivers the messages again", exc)
            self._answer_and_ack(client, await self._park_worn_out(items))
            await asyncio.sleep(0)
            flush_deadline = time.monotonic() + 1.0
            while client.want_write() and time.monotonic() < flush_deadline:  # the acks, before reconnecting
                client.loop_write()
                await asyncio.sleep(0.005)
            raise ConnectionError("inbox unavailable") from exc
        if self._failures:
            for m in items:
                self._failures.pop(self._key(m), None)
        self._answer_and_ack(client, [(m, o.reply) for m, o in zip(items, outcomes, strict=True)])

    @staticmethod
    def _key(msg: mqtt.MQTTMessage) -> bytes:
        return hashlib.sha256(msg.topic.encode() + b"\0" + bytes(msg.payload)).digest()

    async def _park_worn_out(self, items: list[mqtt.MQTTMessage]) -> list[tuple[mqtt.MQTTMessage, dict | None]]:
        """Count this failed delivery; park what reached ``max_deliveries`` (the broker does not count)."""
        if not await self.connected_hub.database_up():
            return []  # the database is down: the messages wait for it, this delivery counts against none
        failures = self._failures = self._failures if self._failures is not None else {}
        if len(failures) > 100_000:
            failures.clear()
        parked = []
        for m in items:
            key = self._key(m)
            failures[key] = n = failures.get(key, 0) + 1
            if n < self.config.max_deliveries:
                continue
            try:
                outcome = await self.connected_hub.park(self.name, bytes(m.payload), peer=f"mqtt:{m.topic}",
                                                        deliveries=n)
            except InboxUnavailable:
                continue
            failures.pop(key, None)
            parked.append((m, outcome.reply))
        return parked

    def _answer_and_ack(self, client: mqtt.Client, done: list[tuple[mqtt.MQTTMessage, dict[str, Any] | None]]) -> None:
        from pbshare.exchange.envelope import dumps

        def unit_of(msg: mqtt.MQTTMessage) -> str:
            parts = msg.topic.split("/")
            return parts[-2] if len(parts) >= 2 else ""

        # Committed. Answers are queued before the acknowledgements, on the same connection: if the
        # broker has a PUBACK, it has the answer that was written before it. An answer not yet
        # confirmed when the connection drops is resent by paho after the reconnect; a message not
        # yet acknowledged comes again and is answered "duplicate".
        for m, reply in done:
            if reply is not None:
                client.publish(self.out_topic(unit_of(m), reply.get("type", "error")), dumps(reply), qos=1)
        for msg, _ in done:
            client.ack(msg.mid, msg.qos)

    async def health(self, conn: ConnectionInfo | None = None) -> Health:
        try:
            client = await asyncio.to_thread(self._publisher_client)
            return Health(client.is_connected(), f"broker {self.config.mqtt_url}")
        except Exception as exc:
            return Health(False, f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        if self._publisher is not None:
            self._publisher.loop_stop()
            with contextlib.suppress(Exception):
                self._publisher.disconnect()
        self._publisher = None
