"""``pbshare listen`` killed with SIGKILL at the worst moments, on the real RabbitMQ, SQLite and PostgreSQL.

The process is frozen by ``PBSHARE_FAULT_PAUSE`` (``pbshare.core.faults``) exactly between two steps,
killed, and started again: nothing received is lost or stored twice, every envelope is receipted,
every outbound envelope reaches the unit (an idempotent receiver: a copy sent again is recognised by
its id) and ends ``delivered``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aio_pika
import pytest

from pbshare.channels.amqp import AmqpChannel
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import ChannelConfig
from pbshare.exchange.messaging import service as messaging
from tests.channels.conftest import UnitSide, eventually
from tests.channels.faults_kit import counts, listen, report, scale

pytestmark = pytest.mark.services


class UnitBroker:
    """The unit's side of RabbitMQ: publishes into its ``in`` queue, reads its ``out`` queue."""

    def __init__(self, settings: Any, prefix: str, unit: UnitSide) -> None:
        self.config = ChannelConfig.from_settings(settings, prefix=prefix)
        self.prefix, self.unit = prefix, unit
        self.connection: Any = None
        self.channel: Any = None

    async def __aenter__(self) -> UnitBroker:
        self.connection = await aio_pika.connect(self.config.amqp_url)
        self.channel = await self.connection.channel(publisher_confirms=True)
        await AmqpChannel(self.config).declare(self.channel, self.unit.unit_code)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for kind in ("in", "out"):
            await self.channel.queue_delete(f"{self.prefix}.{kind}.{self.unit.unit_code}")
        await self.channel.queue_delete(f"{self.prefix}.dead")
        await self.channel.exchange_delete(f"{self.prefix}.exchange")
        await self.channel.exchange_delete(f"{self.prefix}.dlx")
        await self.connection.close()

    async def publish(self, bodies: list[bytes]) -> None:
        exchange = await self.channel.get_exchange(f"{self.prefix}.exchange")
        for start in range(0, len(bodies), 500):  # confirms awaited together, 500 at a time
            await asyncio.gather(*(exchange.publish(aio_pika.Message(b, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                                    routing_key=f"in.{self.unit.unit_code}")
                                   for b in bodies[start:start + 500]))

    async def waiting_out(self) -> int:
        queue = await self.channel.declare_queue(f"{self.prefix}.out.{self.unit.unit_code}", passive=True)
        return int(queue.declaration_result.message_count)

    async def read_out(self, done: Any, timeout: float) -> list[dict[str, Any]]:
        """Everything the platform sent to the unit until ``done(got)`` is true."""
        queue = await self.channel.get_queue(f"{self.prefix}.out.{self.unit.unit_code}")
        got: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not done(got):
            if loop.time() > end:
                raise AssertionError(f"the unit got {len(got)} message(s) in {timeout:.0f} s and was still waiting")
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            got.append(json.loads(message.body))
            await message.ack()
        return got


async def test_killed_between_inbox_commit_and_receipt(open_connection, settings, database, prefix):
    n = scale(400)
    unit = open_connection("amqp")
    bodies = [unit.body(payload={"i": i}) for i in range(n)]
    ids = {json.loads(b)["id"] for b in bodies}
    async with UnitBroker(settings, prefix, unit) as broker:
        await broker.publish(bodies)
        first = listen(settings, prefix=prefix, pause="inbox_committed")
        try:
            await asyncio.to_thread(first.wait_paused)
            stored_at_kill = counts(database)["inbox"]
            first.kill()
        finally:
            first.stop()
        answered_at_kill = await broker.waiting_out()
        assert 0 < stored_at_kill < n and answered_at_kill == 0, "killed after a commit, before any receipt"
        second = listen(settings, prefix=prefix)
        try:
            answers = await broker.read_out(lambda got: {a["correlation_id"] for a in got} >= ids,
                                            timeout=60 + n / 50)
        finally:
            second.stop()
        c = counts(database)
        statuses = [a["payload"]["status"] for a in answers]
        report("listen killed after the inbox commit", sent=n, stored_before_kill=stored_at_kill,
               receipts_before_kill=answered_at_kill, inbox_after_restart=c["inbox"], rejected=c["rejected"],
               receipts=len(answers), accepted=statuses.count("accepted"), duplicate=statuses.count("duplicate"))
        assert all(a["type"] == "receipt" and env_mod.verify(a, unit.key) for a in answers)
        assert c["inbox"] == c["inbox_ids"] == n, "every envelope stored exactly once"
        assert c["rejected"] == 0
        # the batch committed before the kill came again from the broker: recognised, receipted as duplicate
        assert statuses.count("duplicate") == stored_at_kill and statuses.count("accepted") == n - stored_at_kill


@pytest.mark.parametrize("point", ["outbox_claimed", "outbox_sent"])
async def test_killed_between_outbox_and_send(open_connection, settings, database, prefix, point):
    m = scale(200)
    unit = open_connection("amqp")
    with database.session() as s:
        for i in range(m):
            messaging.enqueue(s, connection_id=unit.connection_id, type="delivery", payload={"case": i},
                              data_dir=settings.resolved_data_dir)
    seen: dict[str, int] = {}
    receipts: dict[str, bytes] = {}
    async with UnitBroker(settings, prefix, unit) as broker:
        first = listen(settings, prefix=prefix, pause=point)
        try:
            await asyncio.to_thread(first.wait_paused)
            first.kill()
        finally:
            first.stop()
        at_kill = await broker.waiting_out()
        assert counts(database).get("outbox_pending") == m, "nothing recorded as sent at the kill"
        second = listen(settings, prefix=prefix)
        try:
            async def unit_answers() -> None:
                """An idempotent receiver: a copy it already has is counted, answered with the same receipt."""
                while len(seen) < m:
                    for delivery in await broker.read_out(lambda got: len(got) > 0, timeout=60 + m / 20):
                        assert env_mod.verify(delivery, unit.key)
                        seen[delivery["id"]] = seen.get(delivery["id"], 0) + 1
                        if delivery["id"] not in receipts:
                            receipts[delivery["id"]] = env_mod.dumps(env_mod.sign(
                                env_mod.receipt_for(delivery, sender=unit.unit_code), unit.key))
                        await broker.publish([receipts[delivery["id"]]])

            await unit_answers()
            await eventually(lambda: counts(database).get("outbox_delivered") == m, timeout=60 + m / 20)
            if point == "outbox_sent":  # the copies sent again after the restart may still be on their way
                for delivery in await broker.read_out(lambda got: sum(seen.values()) + len(got) >= m + at_kill,
                                                      timeout=30):
                    seen[delivery["id"]] = seen.get(delivery["id"], 0) + 1
            await asyncio.sleep(1)
            left_over = await broker.waiting_out()
        finally:
            second.stop()
    c = counts(database)
    copies = sum(seen.values())
    report(f"listen killed at {point}", queued=m, on_the_broker_at_kill=at_kill, delivered_to_unit=len(seen),
           copies_received=copies, outbox_delivered=c.get("outbox_delivered"), outbox_dead=c.get("outbox_dead", 0))
    assert len(seen) == m and c.get("outbox_delivered") == m and not c.get("outbox_dead") and left_over == 0
    if point == "outbox_claimed":
        assert at_kill == 0 and copies == m, "claimed but not sent: sent once, after the restart"
    else:
        # sent, not recorded: the batch is sent again after the restart and the unit knows it by its id
        assert at_kill > 0 and copies == m + at_kill
