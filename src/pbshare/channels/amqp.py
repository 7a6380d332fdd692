"""AMQP 0-9-1 channel on RabbitMQ (aio-pika).

Topology (all durable, names under the configured prefix, ``pbshare`` by default):

    exchange  <prefix>.exchange   direct
    queue     <prefix>.in.<UNIT>  routing key in.<UNIT>    the unit publishes here, the platform consumes
    queue     <prefix>.out.<UNIT> routing key out.<UNIT>   the platform publishes here, the unit consumes
    exchange  <prefix>.dlx        fanout, queue <prefix>.dead: what a queue dead-letters

Publishing uses publisher confirms and persistent messages; consuming uses manual acks, sent only
after the inbox transaction committed. A receipt or error goes to the unit's ``out`` queue (or to the
message's ``reply_to`` queue when it set one). A bad message is refused, answered and acknowledged like
a good one. Only a database outage leaves messages unacknowledged: they go back to the queue, and one
that failed ``max_deliveries`` times is parked as refused, or, with the database still down,
dead-lettered to ``<prefix>.dead``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from pbshare.exchange.channel import Channel, ConnectionInfo, Health, InboxUnavailable

log = logging.getLogger("pbshare.channels.amqp")


class AmqpChannel(Channel):
    name = "amqp"
    label = ("AMQP 消息队列（RabbitMQ）", "AMQP message queue (RabbitMQ)")

    _connection: AbstractRobustConnection | None = None
    _publisher: Any = None
    _exchange: Any = None
    _failures: dict[bytes, int] | None = None  # deliveries that found the inbox down, per message body

    @property
    def exchange_name(self) -> str:
        return f"{self.config.prefix}.exchange"

    def in_queue(self, unit: str) -> str:
        return f"{self.config.prefix}.in.{unit}"

    def out_queue(self, unit: str) -> str:
        return f"{self.config.prefix}.out.{unit}"

    async def _connect(self) -> AbstractRobustConnection:
        if self._connection is None or self._connection.is_closed:
            self._connection = await aio_pika.connect_robust(
                self.config.amqp_url, client_properties={"connection_name": f"{self.config.prefix}-platform"})
            self._publisher = None
        return self._connection

    async def declare(self, channel: Any, unit: str) -> Any:
        """The exchange, dead-letter exchange and the unit's two queues (idempotent)."""
        exchange = await channel.declare_exchange(self.exchange_name, aio_pika.ExchangeType.DIRECT, durable=True)
        dlx = await channel.declare_exchange(f"{self.config.prefix}.dlx", aio_pika.ExchangeType.FANOUT, durable=True)
        dead = await channel.declare_queue(f"{self.config.prefix}.dead", durable=True)
        await dead.bind(dlx)
        args = {"x-dead-letter-exchange": f"{self.config.prefix}.dlx"}
        for name, key in ((self.in_queue(unit), f"in.{unit}"), (self.out_queue(unit), f"out.{unit}")):
            queue = await channel.declare_queue(name, durable=True, arguments=args)
            await queue.bind(exchange, routing_key=key)
        return exchange

    async def _publish_channel(self) -> Any:
        conn = await self._connect()
        if self._publisher is None or self._publisher.is_closed:
            self._publisher = await conn.channel(publisher_confirms=True)
            self._exchange = await self._publisher.declare_exchange(self.exchange_name, aio_pika.ExchangeType.DIRECT,
                                                                    durable=True)
        return self._publisher

    async def _publish(self, routing_key: str, body: bytes, *, reply_to_queue: str | None = None) -> None:
        channel = await self._publish_channel()
        message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                   content_type="application/json")
        if reply_to_queue:
            await channel.default_exchange.publish(message, routing_key=reply_to_queue)
        else:
            await self._exchange.publish(message, routing_key=routing_key)  # awaits the broker's confirm

    async def send(self, conn: ConnectionInfo, body: bytes) -> bytes | None:
        channel = await self._publish_channel()
        await self.declare(channel, conn.unit_code)
        await self._publish(f"out.{conn.unit_code}", body)
        return None

    async def reply(self, unit_code: str, envelope: dict[str, Any], reply_to: str | None = None) -> None:
        from pbshare.exchange.envelope import dumps

        await self._publish(f"out.{unit_code}", dumps(envelope), reply_to_queue=reply_to)

    async def listen(self, conns: list[ConnectionInfo]) -> None:
        conn = await self._connect()
        channel = await conn.channel()
        await channel.set_qos(prefetch_count=self.config.batch)
        inbox: asyncio.Queue[tuple[str, AbstractIncomingMessage]] = asyncio.Queue()
        tags = []
        for unit in sorted({c.unit_code for c in conns}):
            await self.declare(channel, unit)
            queue = await channel.get_queue(self.in_queue(unit))

            async def on_message(message: AbstractIncomingMessage, unit: str = unit) -> None:
                await inbox.put((unit, message))

            tags.append((queue, await queue.consume(on_message, no_ack=False)))
        log.info("amqp listener on %d queue(s)", len(tags))
        try:
            while True:
                items = [await inbox.get()]
                while not inbox.empty() and len(items) < self.config.batch:
                    items.append(inbox.get_nowait())
                await self._handle(items)
        finally:
            for queue, tag in tags:
                with contextlib.suppress(Exception):
                    await queue.cancel(tag)
            with contextlib.suppress(Exception):
                await channel.close()

    async def _handle(self, items: list[tuple[str, AbstractIncomingMessage]]) -> None:
        hub = self.connected_hub
        try:
            outcomes = await hub.receive(self.name, [(m.body, f"amqp:{unit}") for unit, m in items])
        except InboxUnavailable as exc:
            log.warning("inbox unavailable (%s); %d message(s) go back to the queue", exc, len(items))
            await self._retry_later(items)
            return
        if self._failures:
            for _, m in items:
                self._failures.pop(hashlib.sha256(m.body).digest(), None)
        await self._answer_and_ack([(unit, m, o.reply) for (unit, m), o in zip(items, outcomes, strict=True)])

    async def _answer_and_ack(self, done: list[tuple[str, AbstractIncomingMessage, dict[str, Any] | None]]) -> None:
        # Committed: answer, then acknowledge (a lost answer is recovered by the unit resending).
        answers = [self.reply(unit, reply, reply_to=m.reply_to) for unit, m, reply in done if reply is not None]
        for result in await asyncio.gather(*answers, return_exceptions=True):  # confirms arrive together
            if isinstance(result, Exception):
                log.warning("could not publish an answer: %s", result)
        for _, message, _ in done:
            await message.ack()

    async def _retry_later(self, items: list[tuple[str, AbstractIncomingMessage]]) -> None:
        """Back to the queue after a pause; after ``max_deliveries`` failures: parked as refused, or
        dead-lettered (``<prefix>.dead``) when even that cannot be written. RabbitMQ does not count
        deliveries on a classic queue, so the listener counts them (per message body)."""
        failures = self._failures = self._failures if self._failures is not None else {}
        if len(failures) > 100_000:  # a long outage: start counting afresh rather than grow without end
            failures.clear()
        await asyncio.sleep(1)
        if not await self.connected_hub.database_up():
            # The database is down: the messages wait for it, and this delivery counts against none of them.
            for _, message in items:
                with contextlib.suppress(Exception):
                    await message.nack(requeue=True)
            return
        parked: list[tuple[str, AbstractIncomingMessage, dict[str, Any] | None]] = []
        for unit, message in items:
            key = hashlib.sha256(message.body).digest()
            failures[key] = n = failures.get(key, 0) + 1
            if n < self.config.max_deliveries:
                with contextlib.suppress(Exception):
                    await message.nack(requeue=True)
                continue
            failures.pop(key, None)
            try:
                outcome = await self.connected_hub.park(self.name, message.body, peer=f"amqp:{unit}", deliveries=n)
            except InboxUnavailable:
                with contextlib.suppress(Exception):
                    await message.nack(requeue=False)  # to <prefix>.dead through the dead-letter exchange
                continue
            parked.append((unit, message, outcome.reply))
        if parked:
            await self._answer_and_ack(parked)

    async def health(self, conn: ConnectionInfo | None = None) -> Health:
        try:
            connection = await self._connect()
            channel = await connection.channel()
            try:
                if conn is None:
                    return Health(True, "broker reachable")
                await self.declare(channel, conn.unit_code)
                queue = await channel.declare_queue(self.in_queue(conn.unit_code), passive=True)
                out = await channel.declare_queue(self.out_queue(conn.unit_code), passive=True)
                return Health(True, f"in {queue.declaration_result.message_count} waiting, "
                                    f"out {out.declaration_result.message_count} waiting")
            finally:
                await channel.close()
        except Exception as exc:
            return Health(False, f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._connection = None
        self._publisher = None
