"""Where channels hand in what they receive: the inbox (``exchange.messaging``) in a worker thread.

The channel acknowledges to its transport only after the hub returned: the transaction is committed
by then.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pbshare.exchange import messaging
from pbshare.exchange.channel import ChannelConfig


class Hub:
    """Where channels hand in what they receive: the inbox, in a worker thread, one transaction per batch."""

    def __init__(self, database: Any, config: ChannelConfig) -> None:
        self.database = database
        self.config = config

    async def receive(self, channel: str, raws: list[tuple[bytes, str | None]]) -> list[Any]:
        return await asyncio.to_thread(messaging.receive_batch, self.database, raws=raws, channel=channel,
                                       data_dir=self.config.data_dir, max_bytes=self.config.max_bytes)

    async def refuse(self, channel: str, raw: bytes, *, size: int, peer: str | None) -> Any:
        """A message too large to read whole: keep what was read and say why."""
        def run() -> Any:
            with self.database.session(immediate=True) as db:
                return messaging.receive(db, raw=raw, channel=channel, data_dir=self.config.data_dir,
                                         max_bytes=self.config.max_bytes, peer=peer, size=size)

        return await asyncio.to_thread(run)
