"""Connections: a unit × channel × settings × credentials, and its life cycle.

draft → testing → live ⇄ suspended, and from any state → terminated (keys revoked, for good).
Only ``live`` carries production traffic; ``testing`` passes only envelopes marked ``test``.
Secrets are generated here, shown once, and kept sealed with the PII vault.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.core.clock import LOCAL_TZ, as_utc, utcnow
from pbshare.core.db import Database
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T, current_language
from pbshare.core.lookup import get_or_raise
from pbshare.exchange.channel import Channel, ChannelConfig, ConnectionInfo
from pbshare.exchange.connections.enums import CONNECTION_STATE_LABELS, ConnectionState
from pbshare.exchange.connections.models import ExchangeConnection
from pbshare.exchange.connections.schemas import ChannelOut, ConnectionOut, TrafficOut
from pbshare.exchange.envelope import Key
from pbshare.exchange.jointtest import gate as go_live_gate
from pbshare.exchange.registry import available_channels, channel_class
from pbshare.security.audit import service as audit
from pbshare.security.clients import service as api_clients
from pbshare.security.crypto import algorithms as crypto
from pbshare.security.crypto.pii import vault_for
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

TRANSITIONS: dict[ConnectionState, set[ConnectionState]] = {
    ConnectionState.draft: {ConnectionState.testing, ConnectionState.terminated},
    ConnectionState.testing: {ConnectionState.live, ConnectionState.draft, ConnectionState.suspended,
                              ConnectionState.terminated},
    ConnectionState.live: {ConnectionState.suspended, ConnectionState.testing, ConnectionState.terminated},
    ConnectionState.suspended: {ConnectionState.live, ConnectionState.testing, ConnectionState.terminated},
    ConnectionState.terminated: set(),
}
LISTENING_STATES = (ConnectionState.testing.value, ConnectionState.live.value)


@dataclass(frozen=True)
class Credentials:
    """Shown once when a connection is made (or its keys rotated); give these to the unit's engineer."""

    key_id: str
    sig_alg: str
    secret_hex: str
    enc_key_hex: str
    platform_public_key: str


def platform_sm2(data_dir: Path) -> crypto.KeyPair:
    """The platform's own SM2 key pair, in a 0600 file under the data dir, created on first use."""
    path = data_dir / "keys" / "exchange_sm2.key"
    if not path.exists():
        pair = crypto.sm2_generate()
        crypto.read_or_create_key_file(path)  # creates with 0600
        path.write_text(f"{pair.private_hex}\n{pair.public_hex}\n")
    private_hex, public_hex = path.read_text().split()
    return crypto.KeyPair(crypto.SM2_SM3, private_hex, public_hex)


def _channels() -> set[str]:
    return set(available_channels())


def create_connection(db: Session, *, data_dir: Path, unit_code: str, channel: str, name: str,
                      settings: dict[str, Any] | None = None, sig_alg: str = crypto.HMAC_SM3,
                      unit_public_key: str | None = None, encrypt: bool = False,
                      principal: Principal | None = None) -> tuple[ExchangeConnection, Credentials]:
    if channel not in _channels():
        raise Invalid(T("未知的通道 {c}，可用：{a}", "Unknown channel {c}; available: {a}", c=channel,
                        a=", ".join(sorted(_channels()))), code="unknown_channel")
    if sig_alg not in (crypto.HMAC_SM3, crypto.SM2_SM3):
        raise Invalid(T("签名算法须为 HMAC-SM3 或 SM2-SM3", "The signature algorithm must be HMAC-SM3 or SM2-SM3"),
                      code="bad_sig_alg")
    if sig_alg == crypto.SM2_SM3 and not unit_public_key:
        raise Invalid(T("SM2-SM3 签名须提供对方单位的 SM2 公钥", "SM2-SM3 needs the unit's SM2 public key"),
                      code="public_key_required")
    if unit_public_key:
        unit_public_key = api_clients.normalise_public_key(unit_public_key)
    unit = unit_service.get_unit_by_code(db, code=unit_code)
    conn = ExchangeConnection(unit_id=unit.id, channel=channel, name=name, settings=settings or {},
                              sig_alg=sig_alg, unit_public_key=unit_public_key, encrypt=encrypt,
                              key_id=f"{unit_code}-{channel}-{secrets.token_hex(4)}")
    creds = _new_keys(conn, data_dir)
    db.add(conn)
    db.flush()
    audit.record(db, action="exchange.connection.create", principal=principal, object_type="exchange_connection",
                 object_id=conn.id, detail={"unit": unit_code, "channel": channel, "key_id": conn.key_id})
    return conn, creds


def _new_keys(conn: ExchangeConnection, data_dir: Path) -> Credentials:
    secret, enc_key = secrets.token_bytes(32), secrets.token_bytes(16)
    conn.secret_sealed = vault_for(data_dir).seal(json.dumps({"secret": secret.hex(), "enc_key": enc_key.hex()}))
    return Credentials(key_id=conn.key_id, sig_alg=conn.sig_alg, secret_hex=secret.hex(), enc_key_hex=enc_key.hex(),
                       platform_public_key=platform_sm2(data_dir).public_hex)


def rotate_keys(db: Session, *, data_dir: Path, connection_id: str,
                principal: Principal | None = None) -> Credentials:
    conn = get_connection(db, connection_id=connection_id)
    if conn.state == ConnectionState.terminated:
        raise Conflict(T("连接已终止，不能更换密钥", "The connection is terminated; its keys cannot be renewed"),
                       code="connection_terminated")
    creds = _new_keys(conn, data_dir)
    audit.record(db, action="exchange.connection.rotate_keys", principal=principal,
                 object_type="exchange_connection", object_id=conn.id, detail={"key_id": conn.key_id})
    return creds


def get_connection(db: Session, *, connection_id: str) -> ExchangeConnection:
    return get_or_raise(db, ExchangeConnection, connection_id, T("连接不存在", "The connection does not exist"))


def find_by_key_id(db: Session, *, key_id: str) -> ExchangeConnection | None:
    return db.scalar(select(ExchangeConnection).where(ExchangeConnection.key_id == key_id))


def list_connections(db: Session, *, unit_id: str | None = None, channel: str | None = None,
                     states: tuple[str, ...] | None = None) -> list[ExchangeConnection]:
    stmt = select(ExchangeConnection).order_by(ExchangeConnection.created_at)
    if unit_id:
        stmt = stmt.where(ExchangeConnection.unit_id == unit_id)
    if channel:
        stmt = stmt.where(ExchangeConnection.channel == channel)
    if states:
        stmt = stmt.where(ExchangeConnection.state.in_(states))
    return list(db.scalars(stmt))


def live_unit_codes(db: Session) -> list[str]:
    """The units with at least one live connection: only these show as connected (a unit's registry state
    ``integrated`` is what was agreed, not that data flows)."""
    ids = set(db.scalars(select(ExchangeConnection.unit_id).where(
        ExchangeConnection.state == ConnectionState.live.value)))
    return sorted(unit_service.get_unit(db, unit_id=i).code for i in ids)


def transition(db: Session, *, connection_id: str, to: str, principal: Principal | None = None,
               reason: str | None = None, override_reason: str | None = None) -> ExchangeConnection:
    """Move a connection. Live from testing (or from suspended, if it never went live) needs the latest
    joint-test report passed, or ``override_reason`` from an administrator (audited with the move)."""
    conn = get_connection(db, connection_id=connection_id)
    try:
        target = ConnectionState(to)
    except ValueError:
        raise Invalid(T("未知的连接状态 {s}", "Unknown connection state {s}", s=to), code="bad_state") from None
    current = ConnectionState(conn.state)
    if target not in TRANSITIONS[current]:
        raise Conflict(T("连接不能从“{a}”变为“{b}”", "A connection cannot go from {a} to {b}", a=current.value,
                         b=target.value), code="bad_transition",
                       detail={"allowed": sorted(s.value for s in TRANSITIONS[current])})
    gate: dict[str, Any] = {}
    if target == ConnectionState.live and current in (ConnectionState.testing, ConnectionState.suspended):
        gate = go_live_gate.check_go_live(db, connection_id=conn.id, from_state=current.value,
                                          override_reason=override_reason, principal=principal)
    conn.state = target.value
    if target == ConnectionState.terminated:
        # Revoke: the secret is destroyed, so nothing signed with it can ever be accepted again.
        conn.secret_sealed = None
        conn.revoked_at = utcnow()
    audit.record(db, action="exchange.connection.state", principal=principal, object_type="exchange_connection",
                 object_id=conn.id, detail={"from": current.value, "to": target.value, "reason": reason, **gate})
    db.flush()
    return conn


def terminated_notice(db: Session, *, conn: ExchangeConnection) -> T:
    """What a terminated connection's unit is told when it still sends: the unit left the sharing on a date
    (or this one connection was terminated on a date), and whom to contact."""
    unit = unit_service.get_unit(db, unit_id=conn.unit_id)
    left = unit_service.left_notice(db, unit=unit)
    if left is not None:
        return left
    since = as_utc(conn.revoked_at or utcnow()).astimezone(LOCAL_TZ).date().isoformat()
    return T("该连接已于 {d} 终止，密钥已吊销，消息不予接收；请改用本单位其他连接，或联系{o}申请开通新连接",
             "This connection was terminated on {d} and its keys revoked, so its messages are refused; use the "
             "unit's other connection, or contact {o} for a new connection", d=since,
             o=unit_service.office_contact(db))


def key_for(conn: ExchangeConnection, data_dir: Path, *, outbound: bool = False) -> Key | None:
    """The key that checks a unit's envelopes (or, ``outbound``, signs ours). None once revoked."""
    if not conn.secret_sealed:
        return None
    secret, enc_key = _opened(data_dir, conn.secret_sealed)
    if conn.sig_alg == crypto.SM2_SM3:
        pair = platform_sm2(data_dir)
        return Key(key_id=conn.key_id, alg=crypto.SM2_SM3, private_hex=pair.private_hex if outbound else None,
                   public_hex=pair.public_hex if outbound else conn.unit_public_key, enc_key=enc_key)
    return Key(key_id=conn.key_id, alg=crypto.HMAC_SM3, secret=secret, enc_key=enc_key)


@lru_cache(maxsize=1024)
def _opened(data_dir: Path, sealed: str) -> tuple[bytes, bytes]:
    """Keys opened once per sealed value (a rotation seals new ones, so the cache never goes stale)."""
    opened = json.loads(vault_for(data_dir).open(sealed) or "{}")
    return bytes.fromhex(opened["secret"]), bytes.fromhex(opened["enc_key"])


def record_health(db: Session, *, connection_id: str, ok: bool, detail: str | None = None) -> None:
    conn = db.get(ExchangeConnection, connection_id)
    if conn is not None:
        conn.health = "ok" if ok else "down"
        conn.health_detail = (detail or "")[:500] or None
        conn.health_checked_at = utcnow()


def snapshot(db: Session, conn: ExchangeConnection) -> ConnectionInfo:
    """A plain copy of a connection for channel code (no database objects cross threads)."""
    unit = unit_service.get_unit(db, unit_id=conn.unit_id)
    return ConnectionInfo(id=conn.id, unit_code=unit.code, channel=conn.channel, state=conn.state,
                          settings=dict(conn.settings or {}), key_id=conn.key_id)


def signing_key(database: Database, *, connection_id: str, data_dir: Path) -> Key | None:
    """The key that signs what we send on a connection, looked up in its own session (for transports)."""
    with database.session() as db:
        return key_for(get_connection(db, connection_id=connection_id), data_dir, outbound=True)


# health ---------------------------------------------------------------------------------------
HEALTH_TIMEOUT = 10.0


async def probe(channel: Channel, info: ConnectionInfo) -> tuple[bool, str]:
    """Ask a channel whether a connection's peer is reachable: (ok, detail); a failure is an answer too."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            health = await channel.health(info)
        return health.ok, health.detail
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


async def check_health(database: Database, config: ChannelConfig, *, connection_id: str) -> None:
    """Check one connection now (the UI's button) and record the answer; no session is held while waiting."""

    def load() -> ConnectionInfo:
        with database.session() as db:
            return snapshot(db, get_connection(db, connection_id=connection_id))

    info = await asyncio.to_thread(load)
    channel = channel_class(info.channel)(config)
    try:
        ok, detail = await probe(channel, info)
    finally:
        await channel.close()

    def save() -> None:
        with database.session(immediate=True) as db:
            record_health(db, connection_id=connection_id, ok=ok, detail=detail)

    await asyncio.to_thread(save)


# what the UI shows ----------------------------------------------------------------------------
def _in_language(pair: tuple[str, str]) -> str:
    return pair[1] if current_language.get().startswith("en") else pair[0]


def channel_label(name: str) -> str:
    """The channel's name in the request's language; its bare name when the transport is not installed."""
    try:
        return _in_language(channel_class(name).label) or name
    except (KeyError, ImportError):
        return name


def channels_out() -> list[ChannelOut]:
    return [ChannelOut(name=n, label=channel_label(n)) for n in available_channels()]


def connection_out(db: Session, conn: ExchangeConnection, traffic: dict[str, dict[str, int]]) -> ConnectionOut:
    """A connection for the UI, with its unit and the counts from ``messaging.service.traffic``."""
    unit = unit_service.get_unit(db, unit_id=conn.unit_id)
    t = traffic.get(conn.id, {})
    return ConnectionOut(
        id=conn.id, unit_id=unit.id, unit_code=unit.code, unit_name=unit.name, channel=conn.channel,
        channel_label=channel_label(conn.channel), name=conn.name, state=conn.state,
        state_label=_in_language(CONNECTION_STATE_LABELS[ConnectionState(conn.state)]), settings=conn.settings or {},
        sig_alg=conn.sig_alg, key_id=conn.key_id, keys_revoked=conn.secret_sealed is None, encrypt=conn.encrypt,
        health=conn.health, health_detail=conn.health_detail, health_checked_at=conn.health_checked_at,
        last_seen_at=conn.last_seen_at, created_at=conn.created_at,
        traffic=TrafficOut(inbound=t.get("in", 0), outbound=t.get("out", 0), delivered=t.get("delivered", 0),
                           rejected=t.get("rejected", 0), dead=t.get("dead", 0)),
    )
