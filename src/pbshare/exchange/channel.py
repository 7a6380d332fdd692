"""The channel contract (send, listen, health) every transport implements.

A transport is a class registered under the entry-point group ``pbshare.channels`` (see
``exchange.registry``). Every channel hands what it receives to its ``Inbox`` (``exchange.hub.Hub``),
which runs the inbox (``exchange.messaging.service``) in a worker thread and returns, per message,
what to answer; the channel acknowledges to its transport only after that returned (the transaction
is committed by then).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pbshare.config import Settings
from pbshare.core.i18n import T
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.envelope import EnvelopeError, Key


def _setting_default(name: str) -> Any:
    """A setting's default, so a config made without ``Settings`` (tests) agrees with one made from them."""
    return Settings.model_fields[name].default


@dataclass
class Outcome:
    """What became of one received message and what to answer (already signed when we could)."""

    status: str  # accepted | duplicate | rejected
    reply: dict[str, Any] | None
    envelope: dict[str, Any] | None = None
    connection_id: str | None = None
    unit_code: str | None = None
    error: EnvelopeError | None = None
    response: dict[str, Any] | None = None  # the answer to a request, for query/answer channels

    @property
    def reply_bytes(self) -> bytes | None:
        return env_mod.dumps(self.reply) if self.reply is not None else None


class InboxUnavailable(Exception):
    """The inbox could not be written (database down or locked): not the message's fault.

    A transport answers it by not acknowledging (the broker delivers again later) or, where it answers
    inline, with ``reply`` (an unsigned ``error`` envelope, code ``inbox_unavailable``) and a 503; a bad
    message never raises it, it is refused and answered instead.
    """

    def __init__(self, cause: str, *, office: str = "SZBA") -> None:
        super().__init__(cause)
        self.reply = env_mod.error_for(EnvelopeError("inbox_unavailable", T(
            "平台暂时无法接收消息（数据库不可用），消息未被接收，请稍后重发同一消息",
            "The platform cannot take messages just now (its database is unavailable); the message was not "
            "taken. Send the same message again later")), sender=office)


class Inbox(Protocol):
    """What a channel hands received messages to (``exchange.hub.Hub``); the contract names no
    implementation, so the hub may use the inbox's services without a cycle."""

    async def receive(self, channel: str, raws: list[tuple[bytes, str | None]]) -> list[Outcome]: ...

    async def refuse(self, channel: str, raw: bytes, *, size: int, peer: str | None) -> Outcome: ...

    async def signing_key(self, conn: ConnectionInfo) -> Key | None: ...

    async def park(self, channel: str, raw: bytes, *, peer: str | None, deliveries: int) -> Outcome: ...

    async def database_up(self) -> bool: ...


@dataclass
class ChannelConfig:
    """Platform-wide settings of the transports (from ``Settings``, i.e. ``PBSHARE_*``; tests pass their own)."""

    data_dir: Path
    amqp_url: str = _setting_default("amqp_url")
    mqtt_url: str = _setting_default("mqtt_url")
    nats_url: str = _setting_default("nats_url")
    # Namespace of exchanges, queues, topics and streams, so several platforms (or test runs) share a broker.
    prefix: str = _setting_default("channel_prefix")
    socket_host: str = "127.0.0.1"  # made by hand (tests): local only; the platform listens on Settings.socket_host
    socket_port: int = _setting_default("socket_port")
    socket_tls_cert: str | None = None
    socket_tls_key: str | None = None
    socket_tls_ca: str | None = None  # set: clients must present a certificate signed by it (mutual TLS)
    max_bytes: int = env_mod.MAX_BYTES
    idle_timeout: float = 120.0
    heartbeat_interval: float = 30.0
    send_timeout: float = 15.0
    batch: int = 200
    # A broker message that could not be stored this many times is parked as refused (or, with the
    # database down, left to the broker's dead-letter queue) instead of coming back for ever.
    max_deliveries: int = 5
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ChannelConfig:
        """The transports' part of the platform's settings; ``overrides`` replace single fields (tests, bench)."""
        values: dict[str, Any] = {
            "data_dir": settings.resolved_data_dir, "amqp_url": settings.amqp_url, "mqtt_url": settings.mqtt_url,
            "nats_url": settings.nats_url, "prefix": settings.channel_prefix, "socket_host": settings.socket_host,
            "socket_port": settings.socket_port, "socket_tls_cert": settings.socket_tls_cert,
            "socket_tls_key": settings.socket_tls_key, "socket_tls_ca": settings.socket_tls_ca,
            "max_bytes": settings.channel_max_bytes,
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
    """A transport's answer to "is the peer (or our listener) reachable?", shown per connection in the UI."""

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

    def __init__(self, config: ChannelConfig, hub: Inbox | None = None) -> None:
        self.config = config
        self.hub = hub

    @property
    def connected_hub(self) -> Inbox:
        """The hub this channel hands messages to; one made only to send or check health has none."""
        if self.hub is None:
            raise RuntimeError(f"the {self.name} channel was made without a hub: it can send, not receive")
        return self.hub

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
