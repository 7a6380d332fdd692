"""NATS JetStream channel (nats-py): durable pull consumers with explicit acks.

One stream per platform, named after the prefix in capitals (``PBSHARE``), holding

    <prefix>.in.<UNIT>.<type>    the unit publishes here; the platform's durable consumer
                                 ``<prefix>-in-<UNIT>`` reads it
    <prefix>.out.<UNIT>.<type>   the platform publishes deliveries, receipts and errors here; the unit
                                 reads it with its own durable consumer

A message is acknowledged only after the inbox committed; an unacknowledged one is delivered
again after ``ack_wait``, and the inbox recognises it by its envelope id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import nats
from nats.js.api import AckPolicy, ConsumerConfig, StorageType

from pbshare.exchange.channel import Channel, ConnectionInfo, Health

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
            subs.append((unit, await js.pull_subscribe(
                self.in_subject(unit), durable=durable, stream=self.stream,
                config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait,
                                      max_ack_pending=self.config.batch * 10))))
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
            except Exception:
                log.exception("inbox failed; the messages will be delivered again")
                for m in msgs:
                    with contextlib.suppress(Exception):
                        await m.nak(delay=1)
                continue
            answers = [self.reply(unit, o.reply) for o in outcomes if o.reply is not None]
            for result in await asyncio.gather(*answers, return_exceptions=True):  # stored acks come together
                if isinstance(result, Exception):
                    log.warning("could not publish an answer to %s: %s", unit, result)
            for m in msgs:
                await m.ack()

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
