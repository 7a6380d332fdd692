"""The channel contract (send, listen, health) every transport implements.

A transport is a class registered under the entry-point group ``pbshare.channels`` (see
``exchange.registry``). Every channel hands what it receives to the ``Hub``, which runs the inbox (``exchange.messaging``)
in a worker thread and returns, per message, what to answer; the channel acknowledges to its
transport only after that returned (the transaction is committed by then).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pbshare.exchange import envelope as env_mod

if TYPE_CHECKING:
    from pbshare.exchange.hub import Hub


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
