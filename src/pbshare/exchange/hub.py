"""Where channels hand in what they receive: the inbox (``exchange.messaging.service``) in a worker thread.

The channel acknowledges to its transport only after the hub returned: the transaction is committed
by then. A transport that signs its own requests (REST) also gets the connection's key here, so no
transport opens a database session itself.
"""

from __future__ import annotations

import asyncio

from pbshare.core.db import Database
from pbshare.exchange.channel import ChannelConfig, ConnectionInfo, Outcome
from pbshare.exchange.connections import service as connections
from pbshare.exchange.envelope import Key
from pbshare.exchange.messaging import service as messaging


class Hub:
    """Where channels hand in what they receive: the inbox, in a worker thread, one transaction per batch."""

    def __init__(self, database: Database, config: ChannelConfig) -> None:
        self.database = database
        self.config = config

    async def receive(self, channel: str, raws: list[tuple[bytes, str | None]]) -> list[Outcome]:
        return await asyncio.to_thread(messaging.receive_batch, self.database, raws=raws, channel=channel,
                                       data_dir=self.config.data_dir, max_bytes=self.config.max_bytes)

    async def refuse(self, channel: str, raw: bytes, *, size: int, peer: str | None) -> Outcome:
        """A message too large to read whole: keep what was read and say why."""
        def run() -> Outcome:
            with self.database.session(immediate=True) as db:
                return messaging.receive(db, raw=raw, channel=channel, data_dir=self.config.data_dir,
                                         max_bytes=self.config.max_bytes, peer=peer, size=size)

        return await asyncio.to_thread(run)

    async def signing_key(self, conn: ConnectionInfo) -> Key | None:
        """The key that signs what we send on ``conn``; None once its keys are revoked."""
        return await asyncio.to_thread(connections.signing_key, self.database, connection_id=conn.id,
                                       data_dir=self.config.data_dir)
