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
import threading
import weakref
from pathlib import Path

from sqlalchemy import Engine, text

from pbshare.core import faults
from pbshare.core.db import Database
from pbshare.core.groupcommit import GroupCommit
from pbshare.exchange.channel import ChannelConfig, ConnectionInfo, InboxUnavailable, Outcome
from pbshare.exchange.connections import service as connections
from pbshare.exchange.envelope import Key
from pbshare.exchange.messaging import service as messaging

log = logging.getLogger("pbshare.exchange.hub")


# (raw bytes, peer, the calling API client's unit or None)
Received = tuple[bytes, str | None, str | None]


class InboxWriter:
    """The inbox of one channel behind a group commit: messages handed in by concurrent callers (REST and
    SOAP requests, socket connections, listeners) are stored in one transaction, and each caller gets its
    outcomes once that transaction has committed. ``receive`` blocks: call it from a worker thread.
    """

    def __init__(self, database: Database, *, channel: str, data_dir: Path, max_bytes: int,
                 max_items: int = 500) -> None:
        self.database, self.channel, self.data_dir, self.max_bytes = database, channel, data_dir, max_bytes
        self._group: GroupCommit[Received, Outcome] = GroupCommit(self._store, max_items=max_items)

    def receive(self, items: list[Received]) -> list[Outcome]:
        """One outcome per message, after its commit; raises only what ``messaging.is_outage`` calls an outage."""
        return self._group.submit(items)

    def _store(self, items: list[Received]) -> list[Outcome]:
        try:
            return messaging.receive_batch(self.database, raws=[(raw, peer) for raw, peer, _ in items],
                                           channel=self.channel, data_dir=self.data_dir, max_bytes=self.max_bytes,
                                           callers=[caller for _, _, caller in items])
        except Exception as exc:
            if messaging.is_outage(exc):
                raise
            # Something in the batch broke the inbox: one at a time, so only that message is refused.
            log.warning("a %s batch of %d failed (%s); taking its messages one at a time", self.channel, len(items),
                        type(exc).__name__)
        return [self._one(raw, peer, caller) for raw, peer, caller in items]

    def _one(self, raw: bytes, peer: str | None, caller: str | None) -> Outcome:
        try:
            with self.database.session(immediate=True) as db:
                return messaging.receive(db, raw=raw, channel=self.channel, data_dir=self.data_dir,
                                         max_bytes=self.max_bytes, peer=peer, caller_unit=caller)
        except Exception as exc:
            if messaging.is_outage(exc):
                raise
            with self.database.session(immediate=True) as db:
                return messaging.park(db, raw=raw, channel=self.channel, data_dir=self.data_dir, peer=peer,
                                      deliveries=1, failure=type(exc).__name__)


# Keyed by the database's engine (a Database is a dataclass, not hashable); gone with it.
_writers: weakref.WeakKeyDictionary[Engine, dict[tuple[str, Path, int], InboxWriter]] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def inbox_writer(database: Database, *, channel: str, data_dir: Path, max_bytes: int) -> InboxWriter:
    """The one writer of ``channel``'s inbox for this database in this process (REST and SOAP requests and
    the listeners share it, so their concurrent messages share commits)."""
    key = (channel, data_dir, max_bytes)
    with _writers_lock:
        writers = _writers.setdefault(database.engine, {})
        if key not in writers:
            writers[key] = InboxWriter(database, channel=channel, data_dir=data_dir, max_bytes=max_bytes)
        return writers[key]


class Hub:
    """Where channels hand in what they receive: the inbox, in a worker thread, one transaction per batch
    (and concurrent batches of one channel grouped into one transaction, see ``InboxWriter``)."""

    def __init__(self, database: Database, config: ChannelConfig) -> None:
        self.database = database
        self.config = config

    async def receive(self, channel: str, raws: list[tuple[bytes, str | None]]) -> list[Outcome]:
        """One outcome per message; raises only ``InboxUnavailable`` (the database, not a message, failed)."""
        writer = inbox_writer(self.database, channel=channel, data_dir=self.config.data_dir,
                              max_bytes=self.config.max_bytes)
        try:
            outcomes = await asyncio.to_thread(writer.receive, [(raw, peer, None) for raw, peer in raws])
            faults.pause_at("inbox_committed")  # fault tests only: killed here, nothing answered or acknowledged
            return outcomes
        except Exception as exc:  # the writer refused and kept what broke it: what is left is the database
            raise InboxUnavailable(type(exc).__name__, office=messaging.office_code()) from exc

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

    async def database_up(self) -> bool:
        """Whether the database answers now. A broker message that failed while it did not is not counted
        against ``max_deliveries``: an outage is waited out, it never parks or dead-letters a message."""
        def ping() -> bool:
            try:
                with self.database.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except Exception:
                return False
            return True

        return await asyncio.to_thread(ping)

    async def signing_key(self, conn: ConnectionInfo) -> Key | None:
        """The key that signs what we send on ``conn``; None once its keys are revoked."""
        return await asyncio.to_thread(connections.signing_key, self.database, connection_id=conn.id,
                                       data_dir=self.config.data_dir)
