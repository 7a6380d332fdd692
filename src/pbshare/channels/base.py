"""The channel interface (send, listen, health) and discovery through entry points.

A transport is a class registered under the entry-point group ``pbshare.channels``; the platform's
own six are declared in ``pyproject.toml`` and a new one can live in a separate package:

    [project.entry-points."pbshare.channels"]
    ftp = "pbshare_ftp:FtpChannel"

Every channel hands what it receives to the ``Hub``, which runs the inbox (``exchange.messaging``)
in a worker thread and returns, per message, what to answer; the channel acknowledges to its
transport only after that returned (the transaction is committed by then).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

from pbshare.channels import envelope as env_mod

GROUP = "pbshare.channels"


@dataclass
class ChannelConfig:
    """Platform-wide settings of the transports (environment ``PBSHARE_*``; tests pass their own)."""

    data_dir: Path
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    nats_url: str = "nats://127.0.0.1:4222"
    # Namespace of exchanges, queues, topics and streams, so several platforms (or test runs) share a broker.
    prefix: str = "pbshare"
    socket_host: str = "127.0.0.1"
    socket_port: int = 7070
    socket_tls_cert: str | None = None
    socket_tls_key: str | None = None
    socket_tls_ca: str | None = None  # set: clients must present a certificate signed by it (mutual TLS)
    max_bytes: int = env_mod.MAX_BYTES
    idle_timeout: float = 120.0
    heartbeat_interval: float = 30.0
    send_timeout: float = 15.0
    batch: int = 200
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> ChannelConfig:
        env = os.environ
        values: dict[str, Any] = {
            "data_dir": settings.resolved_data_dir, "amqp_url": settings.amqp_url, "mqtt_url": settings.mqtt_url,
            "nats_url": settings.nats_url, "prefix": env.get("PBSHARE_CHANNEL_PREFIX", "pbshare"),
            "socket_host": env.get("PBSHARE_SOCKET_HOST", "0.0.0.0"),  # noqa: S104 - units connect from outside
            "socket_port": int(env.get("PBSHARE_SOCKET_PORT", "7070")),
            "socket_tls_cert": env.get("PBSHARE_SOCKET_TLS_CERT"), "socket_tls_key": env.get("PBSHARE_SOCKET_TLS_KEY"),
            "socket_tls_ca": env.get("PBSHARE_SOCKET_TLS_CA"),
            "max_bytes": int(env.get("PBSHARE_CHANNEL_MAX_BYTES", str(env_mod.MAX_BYTES))),
        }
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class ConnectionInfo:
    """A plain snapshot of a connection for channel code (no database objects cross threads)."""

    id: str
    unit_code: str
    channel: str
    state: str
    settings: dict[str, Any]
    key_id: str


@dataclass
class Health:
    ok: bool
    detail: str = ""


class Channel:
    """One transport. Subclasses set ``name`` and implement the three methods."""

    name: ClassVar[str] = ""
    label: ClassVar[tuple[str, str]] = ("", "")
    # True when send() returns the peer's answer (receipt or error) in the same exchange.
    replies_inline: ClassVar[bool] = False
    # True when the web application serves the inbound side (REST, SOAP): nothing to start.
    served_by_web: ClassVar[bool] = False

    def __init__(self, config: ChannelConfig, hub: Hub | None = None) -> None:
        self.config = config
        self.hub = hub

    async def send(self, conn: ConnectionInfo, body: bytes) -> bytes | None:
        """Deliver one signed envelope to the unit; return its inline answer if the transport has one."""
        raise NotImplementedError

    async def listen(self, conns: list[ConnectionInfo]) -> None:
        """Receive until cancelled, handing each message to ``self.hub`` and acknowledging after it."""
        if self.served_by_web:
            await asyncio.Event().wait()
        raise NotImplementedError

    async def health(self, conn: ConnectionInfo | None = None) -> Health:
        raise NotImplementedError

    async def reply(self, unit_code: str, envelope: dict[str, Any]) -> None:
        """Send a receipt or error back to a unit on transports without an inline answer."""
        return None

    async def close(self) -> None:
        return None


class Hub:
    """Where channels hand in what they receive: the inbox, in a worker thread, one transaction per batch."""

    def __init__(self, database: Any, config: ChannelConfig) -> None:
        self.database = database
        self.config = config

    async def receive(self, channel: str, raws: list[tuple[bytes, str | None]]) -> list[Any]:
        from pbshare.exchange import messaging

        return await asyncio.to_thread(messaging.receive_batch, self.database, raws=raws, channel=channel,
                                       data_dir=self.config.data_dir, max_bytes=self.config.max_bytes)

    async def refuse(self, channel: str, raw: bytes, *, size: int, peer: str | None) -> Any:
        """A message too large to read whole: keep what was read and say why."""
        from pbshare.exchange import messaging

        def run() -> Any:
            with self.database.session(immediate=True) as db:
                return messaging.receive(db, raw=raw, channel=channel, data_dir=self.config.data_dir,
                                         max_bytes=self.config.max_bytes, peer=peer, size=size)

        return await asyncio.to_thread(run)


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def available_channels() -> list[str]:
    return sorted(_entry_points())


def channel_class(name: str) -> type[Channel]:
    eps = _entry_points()
    if name not in eps:
        raise KeyError(f"no channel named {name!r}; installed: {', '.join(sorted(eps))}")
    return eps[name].load()


def snapshot(db: Any, conn: Any) -> ConnectionInfo:
    from pbshare.catalog import service as catalog_service

    unit = catalog_service.get_unit(db, unit_id=conn.unit_id)
    return ConnectionInfo(id=conn.id, unit_code=unit.code, channel=conn.channel, state=conn.state,
                          settings=dict(conn.settings or {}), key_id=conn.key_id)
