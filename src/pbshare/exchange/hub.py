"""Where channels hand in what they receive: the inbox (``exchange.messaging.service``) in a worker thread.

The channel acknowledges to its transport only after the hub returned: the transaction is committed
by then. The hub tells a database outage (``InboxUnavailable``: acknowledge nothing, try later) from a
message that breaks the inbox (refused and kept, so the rest of its batch goes through and it never
comes back). A transport that signs its own requests (REST) also gets the connection's key here, so
no transport opens a database session itself.
"""

from __future__ import annotations

import asyncio
import logging

from pbshare.core import faults
from pbshare.core.db import Database
from pbshare.exchange.channel import ChannelConfig, ConnectionInfo, InboxUnavailable, Outcome
from pbshare.exchange.connections import service as connections
from pbshare.exchange.envelope import Key
from pbshare.exchange.messaging import service as messaging

log = logging.getLogger("pbshare.exchange.hub")


class Hub:
    """Where channels hand in what they receive: the inbox, in a worker thread, one transaction per batch."""

    def __init__(self, database: Database, config: ChannelConfig) -> None:
        self.database = database
        self.config = config

    async def receive(self, channel: str, raws: list[tuple[bytes, str | None]]) -> list[Outcome]:
        """One outcome per message; raises only ``InboxUnavailable`` (the database, not a message, failed)."""
        try:
            outcomes = await asyncio.to_thread(messaging.receive_batch, self.database, raws=raws, channel=channel,
                                               data_dir=self.config.data_dir, max_bytes=self.config.max_bytes)
            faults.pause_at("inbox_committed")  # fault tests only: killed here, nothing answered or acknowledged
            return outcomes
        except Exception as exc:
            if messaging.is_outage(exc):
                raise InboxUnavailable(type(exc).__name__, office=messaging.office_code()) from exc
            # Something in the batch broke the inbox: one at a time, so only that message is refused.
            log.warning("a %s batch of %d failed (%s); taking its messages one at a time", channel, len(raws),
                        type(exc).__name__)
        return [await self._one(channel, raw, peer) for raw, peer in raws]

    async def _one(self, channel: str, raw: bytes, peer: str | None) -> Outcome:
        def run() -> Outcome:
            with self.database.session(immediate=True) as db:
                return messaging.receive(db, raw=raw, channel=channel, data_dir=self.config.data_dir,
                                         max_bytes=self.config.max_bytes, peer=peer)

        try:
            return await asyncio.to_thread(run)
        except Exception as exc:
            if messaging.is_outage(exc):
                raise InboxUnavailable(type(exc).__name__, office=messaging.office_code()) from exc
            return await self._park(channel, raw, peer=peer, deliveries=1, failure=type(exc).__name__)

    async def park(self, channel: str, raw: bytes, *, peer: str | None, deliveries: int) -> Outcome:
        """A broker message delivered ``deliveries`` times without being stored: keep it as refused, so
        the transport can acknowledge it and the broker stops delivering it."""
        return await self._park(channel, raw, peer=peer, deliveries=deliveries, failure=None)

    async def _park(self, channel: str, raw: bytes, *, peer: str | None, deliveries: int,
                    failure: str | None) -> Outcome:
        def run() -> Outcome:
            with self.database.session(immediate=True) as db:
                return messaging.park(db, raw=raw, channel=channel, data_dir=self.config.data_dir, peer=peer,
                                      deliveries=deliveries, failure=failure)

        try:
            return await asyncio.to_thread(run)
        except Exception as exc:
            raise InboxUnavailable(type(exc).__name__, office=messaging.office_code()) from exc

    async def refuse(self, channel: str, raw: bytes, *, size: int, peer: str | None) -> Outcome:
        """A message too large to read whole: keep what was read and say why."""
        def run() -> Outcome:
            with self.database.session(immediate=True) as db:
                return messaging.receive(db, raw=raw, channel=channel, data_dir=self.config.data_dir,
                                         max_bytes=self.config.max_bytes, peer=peer, size=size)

        try:
            return await asyncio.to_thread(run)
        except Exception as exc:
            raise InboxUnavailable(type(exc).__name__, office=messaging.office_code()) from exc

    async def signing_key(self, conn: ConnectionInfo) -> Key | None:
        """The key that signs what we send on ``conn``; None once its keys are revoked."""
        return await asyncio.to_thread(connections.signing_key, self.database, connection_id=conn.id,
                                       data_dir=self.config.data_dir)
