"""Listeners and the outbox dispatcher, run by ``pbshare serve`` (lifespan) or ``pbshare listen``.

Every few seconds the runtime looks at the connections in testing or live, starts a listener for
each channel that has one (restarting it when its set of connections changed), sends what is due
in the outbox, and records each connection's health for the UI.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from pbshare.core import faults
from pbshare.core.db import Database
from pbshare.exchange.channel import Channel, ChannelConfig, ConnectionInfo, Health
from pbshare.exchange.connections import service as connections
from pbshare.exchange.connections.service import snapshot
from pbshare.exchange.hub import Hub
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.registry import channel_class

log = logging.getLogger("pbshare.channels")
# How long shutdown waits for a task to honour its cancellation before leaving it behind.
STOP_GRACE = 5.0
CLEANUP = 2.0

# One outbox message on its way: (outbox id, connection, signed body or None, error or None), and
# after sending (outbox id, connection, the peer's inline answer or None, error or None).
Claimed = tuple[str, ConnectionInfo, bytes | None, str | None]


async def cancel_and_wait(task: asyncio.Task[Any], *, grace: float = STOP_GRACE) -> bool:
    """Cancel a task and wait for it to end; True if it ended within ``grace`` seconds.

    The task first gets up to CLEANUP seconds to run its ``finally`` (closing a broker channel is a
    round trip; cancelling that again would leave the channel, and the messages it holds, behind).
    A task still running then has lost the cancellation (Python 3.11's ``asyncio.wait_for`` can do
    that) and is cancelled again every half second until the grace is spent. The caller's own
    cancellation is never swallowed (``suppress(CancelledError)`` around ``await task`` would eat it).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    task.cancel()
    await asyncio.wait({task}, timeout=min(CLEANUP, grace))
    while not task.done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.warning("task %s did not stop within %.0f s; leaving it", task.get_name(), grace)
            return False
        task.cancel()
        await asyncio.wait({task}, timeout=min(0.5, remaining))
    if not task.cancelled() and task.exception() is not None:
        log.debug("task %s ended with %r", task.get_name(), task.exception())
    return True


class Runtime:
    """Listeners for the channels that have connections in testing or live, and the outbox dispatcher."""

    def __init__(self, database: Database, config: ChannelConfig, *, tick: float = 1.0, health_every: float = 30.0,
                 max_attempts: int | None = None, backoff_base: timedelta | None = None) -> None:
        self.database = database
        self.config = config
        self.hub = Hub(database, config)
        self.tick = tick
        self.health_every = health_every
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.channels: dict[str, Channel] = {}
        self.listeners: dict[str, asyncio.Task[None]] = {}
        # per channel, the (id, unit, state) of the connections its listener was started for
        self._listening: dict[str, tuple[tuple[str, str, str], ...]] = {}
        self._main: asyncio.Task[None] | None = None
        self._last_health = 0.0

    def channel(self, name: str) -> Channel:
        if name not in self.channels:
            self.channels[name] = channel_class(name)(self.config, self.hub)
        return self.channels[name]

    # life cycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.reload()
        self._main = asyncio.create_task(self._loop(), name="pbshare-channels")

    async def stop(self) -> None:
        tasks = [t for t in [self._main, *self.listeners.values()] if t is not None]
        await asyncio.gather(*(cancel_and_wait(t) for t in tasks))
        for ch in self.channels.values():
            try:
                async with asyncio.timeout(STOP_GRACE):
                    await ch.close()
            except Exception as exc:  # closing is best effort at shutdown
                log.warning("closing the %s channel failed: %r", ch.name, exc)
        self.listeners.clear()
        self._listening.clear()

    async def run_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.reload()
                await self.dispatch_once()
                if loop.time() - self._last_health >= self.health_every:
                    self._last_health = loop.time()
                    await self.check_health()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("channel runtime step failed; retrying")
            await asyncio.sleep(self.tick)

    # listeners --------------------------------------------------------------------------------
    def _listening_connections(self) -> dict[str, list[ConnectionInfo]]:
        with self.database.session() as db:
            grouped: dict[str, list[ConnectionInfo]] = {}
            for conn in connections.list_connections(db, states=connections.LISTENING_STATES):
                grouped.setdefault(conn.channel, []).append(snapshot(db, conn))
            return grouped

    async def reload(self) -> None:
        grouped = await asyncio.to_thread(self._listening_connections)
        for name in set(self.listeners) | set(grouped):
            conns = grouped.get(name, [])
            key = tuple(sorted((c.id, c.unit_code, c.state) for c in conns))
            task = self.listeners.get(name)
            if task is not None and not task.done() and self._listening.get(name) == key:
                continue
            if task is not None:
                if task.done() and not task.cancelled() and task.exception():
                    log.warning("%s listener stopped: %r; restarting", name, task.exception())
                await cancel_and_wait(task)
                self.listeners.pop(name, None)
            if conns:
                try:
                    ch = self.channel(name)
                except KeyError:
                    log.error("no channel implementation installed for %s", name)
                    continue
                self.listeners[name] = asyncio.create_task(ch.listen(conns), name=f"listen-{name}")
                self._listening[name] = key

    # outbox -----------------------------------------------------------------------------------
    def _claim(self, limit: int) -> list[Claimed]:
        """Take what is due and sign it now, in one short write transaction (the sending happens outside it)."""
        out: list[Claimed] = []
        with self.database.session(immediate=True) as db:
            for msg in messaging.claim_due(db, limit=limit):
                conn = connections.get_connection(db, connection_id=msg.connection_id)
                info = snapshot(db, conn)
                try:
                    body = messaging.signed_body(db, msg, data_dir=self.config.data_dir, fresh=True)
                    out.append((msg.id, info, body, None))
                except Exception as exc:
                    out.append((msg.id, info, None, str(exc)))
        return out

    def _finish(self, results: list[Claimed]) -> None:
        """Record what became of each send; an inline answer (receipt or error) goes through the inbox."""
        kwargs: dict[str, Any] = {}
        if self.max_attempts:
            kwargs["max_attempts"] = self.max_attempts
        if self.backoff_base:
            kwargs["base"] = self.backoff_base
        with self.database.session(immediate=True) as db:
            if any(reply for _, _, reply, _ in results):
                messaging.hold_chain(db)  # before the first row lock, like a receipt arriving meanwhile
            for msg_id, info, reply, error in results:
                msg = messaging.find_outbox_message(db, message_id=msg_id)
                if msg is None:
                    continue
                if error is not None:
                    messaging.mark_failed(db, msg, error=error, **kwargs)
                    continue
                messaging.mark_sent(db, msg)
                if reply:
                    outcome = messaging.receive(db, raw=reply, channel=info.channel, data_dir=self.config.data_dir,
                                                max_bytes=self.config.max_bytes, peer="reply")
                    if outcome.status == "rejected" and outcome.error is not None:
                        msg.last_error = f"reply not accepted: {outcome.error.code}"

    async def dispatch_once(self, limit: int = 200) -> int:
        """Send what is due; returns how many were attempted."""
        claimed = await asyncio.to_thread(self._claim, limit)
        if not claimed:
            return 0
        faults.pause_at("outbox_claimed")  # fault tests only: killed here, nothing sent
        results: list[Claimed] = []
        for msg_id, info, body, error in claimed:
            reply = None
            if body is not None:
                try:
                    async with asyncio.timeout(self.config.send_timeout):
                        reply = await self.channel(info.channel).send(info, body)
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
            results.append((msg_id, info, reply, error))
        faults.pause_at("outbox_sent")  # fault tests only: killed here, sent but not recorded as sent
        await asyncio.to_thread(self._finish, results)
        return len(results)

    # health -----------------------------------------------------------------------------------
    async def waiting_for(self, timeout: float = 2.0) -> list[dict[str, str]]:
        """What the listeners wait for right now (``/readyz``): each channel whose broker does not answer
        within ``timeout`` seconds, or whose listener stopped and is about to be started again."""
        waiting: list[dict[str, str]] = []
        for name, task in list(self.listeners.items()):
            ch = self.channels.get(name)
            if ch is None or ch.served_by_web:
                continue
            if task.done():
                cause = "" if task.cancelled() or task.exception() is None else repr(task.exception())[:200]
                waiting.append({"channel": name, "waiting_for": "listener", "detail": f"listener stopped {cause}; "
                                f"started again within {self.tick:.0f} s"})
                continue
            try:
                async with asyncio.timeout(timeout):
                    health = await ch.health(None)
            except TimeoutError:
                health = Health(False, f"no answer within {timeout:.0f} s")
            except Exception as exc:  # a probe that fails is an answer too
                health = Health(False, f"{type(exc).__name__}: {exc}")
            if not health.ok:
                waiting.append({"channel": name, "waiting_for": "broker", "detail": health.detail[:300]})
        return waiting

    async def check_health(self) -> None:
        """Ask every listening connection's channel whether its peer is reachable, and record the answers."""
        grouped = await asyncio.to_thread(self._listening_connections)
        results: list[tuple[str, bool, str]] = []
        for name, conns in grouped.items():
            for conn in conns:
                try:
                    ch = self.channel(name)
                except Exception as exc:  # no implementation installed: that is the answer
                    results.append((conn.id, False, f"{type(exc).__name__}: {exc}"))
                    continue
                ok, detail = await connections.probe(ch, conn)
                results.append((conn.id, ok, detail))

        def save() -> None:
            with self.database.session(immediate=True) as db:
                for cid, ok, detail in results:
                    connections.record_health(db, connection_id=cid, ok=ok, detail=detail)

        await asyncio.to_thread(save)
