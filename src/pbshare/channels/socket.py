"""TCP socket channel: 4-byte big-endian length-prefixed frames of envelope JSON.

Each envelope frame is answered by exactly one frame: the receipt or the error envelope (the ack);
a frame that is not a valid envelope (not JSON, NaN, a huge integer, a lone surrogate, nesting past
64 levels…) gets its error frame like any refusal and the connection stays open. With the database
down the frames in hand are answered ``inbox_unavailable`` and the connection is closed.
``{"type": "heartbeat"}`` frames are answered in kind and keep an idle connection open; a connection
silent for longer than the idle timeout is closed. A frame announcing more than the maximum size is
refused: the first bytes are kept with the reason, an error frame is sent and the connection closed
(the stream cannot be trusted after that). TLS, and mutual TLS when a CA is configured, via ``ssl``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import struct
from typing import Any

from pbshare.core.i18n import T
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import Channel, ConnectionInfo, Health, InboxUnavailable

log = logging.getLogger("pbshare.channels.socket")
HEADER = struct.Struct(">I")
HEARTBEAT = b'{"type":"heartbeat"}'
KEEP_OVERSIZED = 64 * 1024


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader, max_bytes: int) -> tuple[bytes, int]:
    """One frame: (body, announced size). A too-large frame returns only its first bytes."""
    size = HEADER.unpack(await reader.readexactly(HEADER.size))[0]
    if size > max_bytes:
        try:
            head = await asyncio.wait_for(reader.read(min(size, KEEP_OVERSIZED)), timeout=2)
        except TimeoutError:
            head = b""
        return head, size
    return await reader.readexactly(size), size


def server_ssl(cert: str, key: str | None, ca: str | None) -> ssl.SSLContext:
    """TLS for the listener; ``key`` None: the key is in the certificate file. A CA: clients must show a certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    if ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(ca)
    return ctx


def client_ssl(settings: dict[str, Any]) -> ssl.SSLContext | None:
    if not settings.get("tls"):
        return None
    ctx = ssl.create_default_context(cafile=settings.get("ca"))
    if settings.get("cert"):
        ctx.load_cert_chain(settings["cert"], settings.get("key"))
    return ctx


class SocketChannel(Channel):
    name = "socket"
    label = ("TCP 套接字", "TCP socket")
    replies_inline = True

    _server: asyncio.Server | None = None

    async def listen(self, conns: list[ConnectionInfo]) -> None:
        cfg = self.config
        ctx = server_ssl(cfg.socket_tls_cert, cfg.socket_tls_key, cfg.socket_tls_ca) if cfg.socket_tls_cert else None
        self._server = await asyncio.start_server(self._serve, cfg.socket_host, cfg.socket_port, ssl=ctx,
                                                  limit=cfg.max_bytes + HEADER.size)
        log.info("socket listener on %s:%s (tls=%s)", cfg.socket_host, cfg.socket_port, ctx is not None)
        try:
            async with self._server:
                await self._server.serve_forever()
        finally:
            self._server = None

    @property
    def port(self) -> int | None:
        if self._server and self._server.sockets:
            return self._server.sockets[0].getsockname()[1]
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        peer_text = f"{peer[0]}:{peer[1]}" if peer else None
        queue: asyncio.Queue[tuple[bytes, int] | None] = asyncio.Queue(maxsize=self.config.batch * 2)
        worker = asyncio.create_task(self._answer(queue, writer, peer_text))
        try:
            while True:
                try:
                    body, size = await asyncio.wait_for(read_frame(reader, self.config.max_bytes),
                                                        timeout=self.config.idle_timeout)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    break
                await queue.put((body, size))
                if size > self.config.max_bytes:
                    break
        finally:
            await queue.put(None)
            with contextlib.suppress(Exception):
                await worker
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, queue: asyncio.Queue, writer: asyncio.StreamWriter, peer: str | None) -> None:
        """Take the frames read so far as one batch (one transaction), then write one ack per frame, in order."""
        done = False
        while not done:
            first = await queue.get()
            items = [first] if first is not None else []
            done = first is None
            while not done and not queue.empty() and len(items) < self.config.batch:
                nxt = queue.get_nowait()
                if nxt is None:
                    done = True
                else:
                    items.append(nxt)
            if not items:
                break
            try:
                replies = await self._handle(items, peer)
            except InboxUnavailable as exc:
                # Nothing was taken: the frames in hand are answered "inbox_unavailable" and the connection closed,
                # so the unit sends again later (a message that did get in is then answered "duplicate").
                log.warning("inbox unavailable (%s) for %d frame(s) from %s; closing", exc, len(items), peer)
                with contextlib.suppress(Exception):
                    writer.write(frame(env_mod.dumps(exc.reply)) * len(items))
                    await writer.drain()
                writer.close()
                return
            except Exception:
                log.exception("socket answering failed for %d frame(s) from %s; closing", len(items), peer)
                writer.close()
                return
            try:
                writer.write(b"".join(frame(r) for r in replies))
                await writer.drain()
            except ConnectionError:
                return

    async def _handle(self, items: list[tuple[bytes, int]], peer: str | None) -> list[bytes]:
        replies: list[bytes | None] = [None] * len(items)
        batch: list[tuple[int, bytes]] = []
        for i, (body, size) in enumerate(items):
            if size > self.config.max_bytes:
                outcome = await self.connected_hub.refuse(self.name, body, size=size, peer=peer)
                replies[i] = outcome.reply_bytes
            elif len(body) < 64 and body.replace(b" ", b"") == HEARTBEAT:
                replies[i] = HEARTBEAT
            else:
                batch.append((i, body))
        if batch:
            outcomes = await self.connected_hub.receive(self.name, [(b, peer) for _, b in batch])
            for (i, _), outcome in zip(batch, outcomes, strict=True):
                # A receipt or error we got needs no answer, but the sender still waits for an ack frame.
                replies[i] = outcome.reply_bytes or env_mod.dumps({"type": "ack", "id": (outcome.envelope or {})
                                                                   .get("id"), "status": outcome.status})
        return [r or b"{}" for r in replies]

    async def send(self, conn: ConnectionInfo, body: bytes) -> bytes | None:
        host, port = conn.settings.get("host"), conn.settings.get("port")
        if not host or not port:
            raise ValueError(T("连接未配置对方的 host 和 port", "The connection has no host and port for the unit")
                             .render("en"))
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, int(port), ssl=client_ssl(conn.settings)), timeout=self.config.send_timeout)
        try:
            writer.write(frame(body))
            await writer.drain()
            reply, _ = await asyncio.wait_for(read_frame(reader, self.config.max_bytes),
                                              timeout=self.config.send_timeout)
            return reply
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def health(self, conn: ConnectionInfo | None = None) -> Health:
        if conn is not None and conn.settings.get("host") and conn.settings.get("port"):
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(
                    conn.settings["host"], int(conn.settings["port"]), ssl=client_ssl(conn.settings)), timeout=5)
                writer.close()
                return Health(True, f"{conn.settings['host']}:{conn.settings['port']} reachable")
            except (OSError, TimeoutError) as exc:
                return Health(False, f"{conn.settings['host']}:{conn.settings['port']}: {exc}")
        if self._server is not None and self._server.is_serving():
            return Health(True, f"listening on {self.config.socket_host}:{self.port}")
        return Health(False, "listener not running")


# reference client (what ``pbshare socket send`` runs; a unit can copy it) ---------------------
async def send_frames(host: str, port: int, bodies: list[bytes], *, ssl_context: ssl.SSLContext | None = None,
                      timeout: float = 30.0, max_bytes: int = env_mod.MAX_BYTES) -> list[dict[str, Any]]:
    """Send envelopes over one connection, pipelined, and return the ack frame for each, in order."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ssl_context), timeout=timeout)
    try:
        writer.write(b"".join(frame(b) for b in bodies))
        await writer.drain()
        acks = []
        for _ in bodies:
            body, _size = await asyncio.wait_for(read_frame(reader, max_bytes), timeout=timeout)
            acks.append(json.loads(body))
        return acks
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
