"""MQTT channel on Mosquitto (paho-mqtt): QoS 1, persistent sessions, topics per unit and type.

    <prefix>/in/<UNIT>/<type>    the unit publishes here (QoS 1)
    <prefix>/out/<UNIT>/<type>   the platform publishes deliveries, receipts and errors here (QoS 1)

The platform's listener keeps a persistent session (clean_session=False, a fixed client id), so
what units publish while it is down waits in the broker. Acknowledgements are manual
(``manual_ack_set``): the PUBACK goes out only after the inbox committed. paho runs its network
loop in its own thread; messages cross into asyncio through a queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from pbshare.channels.base import Channel, ConnectionInfo, Health

log = logging.getLogger("pbshare.channels.mqtt")


def broker_address(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


def new_client(client_id: str, *, persistent: bool) -> mqtt.Client:
    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent,
                       protocol=mqtt.MQTTv311)


class MqttChannel(Channel):
    name = "mqtt"
    label = ("MQTT（Mosquitto）", "MQTT (Mosquitto)")

    _publisher: mqtt.Client | None = None

    def in_topic(self, unit: str, type_: str = "+") -> str:
        return f"{self.config.prefix}/in/{unit}/{type_}"

    def out_topic(self, unit: str, type_: str) -> str:
        return f"{self.config.prefix}/out/{unit}/{type_}"

    @property
    def listener_id(self) -> str:
        return f"{self.config.prefix}-platform"

    def _publisher_client(self) -> mqtt.Client:
        if self._publisher is None or not self._publisher.is_connected():
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

    def _publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        """Publish all, then wait for every PUBACK (pipelined, not one round trip each)."""
        client = self._publisher_client()
        infos = [client.publish(topic, body, qos=1) for topic, body in messages]
        for info in infos:
            info.wait_for_publish(timeout=self.config.send_timeout)
            if not info.is_published():
                raise TimeoutError("the broker did not acknowledge an answer")

    async def send(self, conn: ConnectionInfo, body: bytes) -> bytes | None:
        type_ = json.loads(body).get("type", "delivery")
        await asyncio.to_thread(self._publish_sync, self.out_topic(conn.unit_code, type_), body)
        return None

    async def reply(self, unit_code: str, envelope: dict[str, Any]) -> None:
        from pbshare.channels.envelope import dumps

        await asyncio.to_thread(self._publish_sync, self.out_topic(unit_code, envelope.get("type", "error")),
                                dumps(envelope))

    async def listen(self, conns: list[ConnectionInfo]) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        units = sorted({c.unit_code for c in conns})
        client = new_client(self.listener_id, persistent=True)
        client.manual_ack_set(True)

        def on_connect(cl: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
            if not reason.is_failure:
                cl.subscribe([(self.in_topic(u), 1) for u in units])

        def on_message(_cl: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
            loop.call_soon_threadsafe(inbox.put_nowait, msg)

        client.on_connect = on_connect
        client.on_message = on_message
        host, port = broker_address(self.config.mqtt_url)
        await asyncio.to_thread(client.connect, host, port, 30)
        client.loop_start()
        log.info("mqtt listener on %d unit(s)", len(units))
        try:
            while True:
                items = [await inbox.get()]
                while not inbox.empty() and len(items) < self.config.batch:
                    items.append(inbox.get_nowait())
                await self._handle(client, items)
        finally:
            client.loop_stop()
            with contextlib.suppress(Exception):
                client.disconnect()

    async def _handle(self, client: mqtt.Client, items: list[mqtt.MQTTMessage]) -> None:
        def unit_of(msg: mqtt.MQTTMessage) -> str:
            parts = msg.topic.split("/")
            return parts[-2] if len(parts) >= 2 else ""

        try:
            outcomes = await self.hub.receive(self.name, [(m.payload, f"mqtt:{m.topic}") for m in items])
        except Exception:
            # No PUBACK: the broker delivers these again when the session reconnects.
            log.exception("inbox failed; reconnecting so the broker delivers the messages again")
            client.reconnect()
            return
        from pbshare.channels.envelope import dumps

        # Committed: acknowledge at once so the broker's in-flight window (20 by default) keeps moving,
        # then queue the answers on the publisher (paho sends them QoS 1 from its own thread; a lost
        # answer is recovered by the unit resending, which earns a "duplicate" receipt).
        for msg in items:
            client.ack(msg.mid, msg.qos)
        answers = [(self.out_topic(unit_of(m), o.reply.get("type", "error")), dumps(o.reply))
                   for m, o in zip(items, outcomes, strict=True) if o.reply is not None]
        if answers:
            publisher = self._publisher_client()
            for topic, body in answers:
                info = publisher.publish(topic, body, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    log.warning("could not queue an answer on %s: rc %s", topic, info.rc)

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
