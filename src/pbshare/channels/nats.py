"""NATS JetStream channel (nats-py): durable pull consumers with explicit acks.

One stream per platform, named after the prefix in capitals (``PBSHARE``), holding

    <prefix>.in.<UNIT>.<type>    the unit publishes here; the platform's durable consumer
                                 ``<prefix>-in-<UNIT>`` reads it
    <prefix>.out.<UNIT>.<type>   the platform publishes deliveries, receipts and errors here; the unit
                                 reads it with its own durable consumer

A message is acknowledged only after the inbox committed; an unacknowledged one is delivered
again after ``ack_wait``, and the inbox recognises it by its envelope id. A bad message is refused,
answered and acknowledged like a good one. Only a database outage leaves messages unacknowledged
(delivered again after a pause); the consumer's ``max_deliver`` is ``max_deliveries``, and on its last
delivery a message is parked as refused (or, with the database still down, left in the stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import nats
from nats.js.api import AckPolicy, ConsumerConfig, StorageType

from pbshare.exchange.channel import Channel, ConnectionInfo, Health, InboxUnavailable

log = logging.getLogger("pbshare.channels.nats")


class NatsChannel(Channel):
    name = "nats"
    label = ("NATS JetStream", "NATS JetStream")

    _nc: Any = None
    _js: Any = None

    @property
    def ack_wait(self) -> float:
        return float(self.config.extra.get("nats_ack_wait", 30.0))

    @property
    def stream(self) -> str:
        return self.config.prefix.upper().replace(".", "_").replace("-", "_")

    def in_subject(self, unit: str, type_: str = ">") -> str:
        return f"{self.config.prefix}.in.{unit}.{type_}"

    def out_subject(self, unit: str, type_: str = ">") -> str:
        return f"{self.config.prefix}.out.{unit}.{type_}"

    async def _connect(self) -> Any:
        if self._nc is None or self._nc.is_closed:
            self._nc = await nats.connect(self.config.nats_url, name=f"{self.config.prefix}-platform",
                                          max_reconnect_attempts=-1)
            self._js = self._nc.jetstream(timeout=15)  # JetStream API calls are slow on a busy server
            await self.ensure_stream(self._js)
        return self._js

    async def ensure_stream(self, js: Any) -> None:
        subjects = [f"{self.config.prefix}.in.>", f"{self.config.prefix}.out.>"]
        try:
            await js.stream_info(self.stream)
        except Exception:
            await js.add_stream(name=self.stream, subjects=subjects, storage=StorageType.FILE)

    async def _publish(self, subject: str, body: bytes) -> None:
        js = await self._connect()
        await js.publish(subject, body)  # returns once the stream stored it

    async def send(self, conn: ConnectionInfo, body: bytes) -> bytes | None:
        type_ = json.loads(body).get("type", "delivery")
        await self._publish(self.out_subject(conn.unit_code, type_), body)
        return None

    async def reply(self, unit_code: str, envelope: dict[str, Any]) -> None:
        from pbshare.exchange.envelope import dumps

        await self._publish(self.out_subject(unit_code, envelope.get("type", "error")), dumps(envelope))

    async def listen(self, conns: list[ConnectionInfo]) -> None:
        js = await self._connect()
        units = sorted({c.unit_code for c in conns})
        subs = []
        for unit in units:
            durable = f"{self.config.prefix}-in-{unit}".replace(".", "_")
            config = ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait,
                                    max_ack_pending=self.config.batch * 10,
                                    max_deliver=self.config.max_deliveries, filter_subject=self.in_subject(unit))
            # Create or update: a consumer made before delivery was bounded (max_deliver -1) gets the bound.
            await js.add_consumer(self.stream, config=config)
            subs.append((unit, await js.pull_subscribe_bind(durable, stream=self.stream)))
        log.info("nats listener on %d unit(s)", len(subs))
        try:
            await asyncio.gather(*(self._pull(unit, sub) for unit, sub in subs))
        finally:
            for _, sub in subs:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def _pull(self, unit: str, sub: Any) -> None:
        while True:
            try:
                msgs = await sub.fetch(self.config.batch, timeout=1)
            except TimeoutError:
                # Nothing arrived within the second. nats-py raises its own TimeoutError for an empty
                # pull but sometimes asyncio's bare one from inside fetch (under load); both mean "no
                # messages yet", not a broken listener to restart.
                continue
            try:
                outcomes = await self.connected_hub.receive(self.name, [(m.data, f"nats:{unit}") for m in msgs])
            except InboxUnavailable as exc:
                log.warning("inbox unavailable (%s); %d message(s) will be delivered again", exc, len(msgs))
                await self._retry_later(unit, msgs)
                continue
            await self._answer_and_ack(unit, [(m, o.reply) for m, o in zip(msgs, outcomes, strict=True)])

    async def _answer_and_ack(self, unit: str, done: list[tuple[Any, dict[str, Any] | None]]) -> None:
        answers = [self.reply(unit, reply) for _, reply in done if reply is not None]
        for result in await asyncio.gather(*answers, return_exceptions=True):  # stored acks come together
            if isinstance(result, Exception):
                log.warning("could not publish an answer to %s: %s", unit, result)
        for m, _ in done:
            await m.ack()

    async def _retry_later(self, unit: str, msgs: list[Any]) -> None:
        """Delivered again in a second; on the last allowed delivery (the server counts them), parked."""
        parked = []
        for m in msgs:
            delivered = m.metadata.num_delivered
            if delivered < self.config.max_deliveries:
                with contextlib.suppress(Exception):
                    await m.nak(delay=1)
                continue
            try:
                outcome = await self.connected_hub.park(self.name, m.data, peer=f"nats:{unit}", deliveries=delivered)
            except InboxUnavailable:
                continue  # max_deliver reached: the stream keeps it, the consumer stops offering it
            parked.append((m, outcome.reply))
        if parked:
            await self._answer_and_ack(unit, parked)

    async def health(self, conn: ConnectionInfo | None = None) -> Health:
        try:
            js = await self._connect()
            info = await js.stream_info(self.stream)
            detail = f"stream {self.stream}: {info.state.messages} stored"
            if conn is not None:
                durable = f"{self.config.prefix}-in-{conn.unit_code}".replace(".", "_")
                with contextlib.suppress(Exception):
                    ci = await js.consumer_info(self.stream, durable)
                    detail += f", {ci.num_pending} pending, {ci.num_ack_pending} unacknowledged"
            return Health(True, detail)
        except Exception as exc:
            return Health(False, f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._nc = self._js = None
