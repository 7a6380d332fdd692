"""Inbox, outbox, receipts and dead letters: what every channel does with an envelope.

Receiving (``receive``): parse → find the connection by ``sig.key_id`` → check its state → verify
the signature → refuse stale envelopes (replays) → decrypt → record in the inbox under a unique key
on the envelope id → act. A duplicate (same id, same content) is answered with a receipt and
ignored; anything refused is kept in ``exchange_rejected`` and answered with an ``error`` envelope.
The caller commits, and only then acknowledges to the transport.

Sending (``enqueue``): the signed envelope is written to the outbox in the caller's transaction; the
dispatcher (``exchange.runtime``) sends it, retries with exponential backoff and parks it as a dead
letter after the last attempt; ``replay`` puts a dead letter back in the queue.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from pbshare.core.clock import utcnow
from pbshare.core.db import Database
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T
from pbshare.core.ids import new_id
from pbshare.core.lookup import get_or_raise, one_or_raise
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import Outcome
from pbshare.exchange.connections import service as connections
from pbshare.exchange.connections.enums import ConnectionState
from pbshare.exchange.envelope import EnvelopeError, Key
from pbshare.exchange.messaging.models import InboxMessage, InboxState, OutboxMessage, OutboxState, RejectedMessage
from pbshare.security.audit import service as audit
from pbshare.security.crypto import algorithms as crypto
from pbshare.security.crypto.pii import vault_for
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

if TYPE_CHECKING:
    # Connections are reached through their service; the class only names what it returns.
    from pbshare.exchange.connections.models import ExchangeConnection

log = logging.getLogger("pbshare.exchange")

MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_MAX = timedelta(minutes=30)
KEEP_RAW_BYTES = 64 * 1024  # a refused message is kept up to this size (the rest is noted as cut)

# Other domains act on production envelopes by registering a handler per type. A handler gets
# (db, envelope, connection) and may return a payload for the ``response`` (for a request).
Handler = Callable[[Session, dict[str, Any], "ExchangeConnection"], dict[str, Any] | None]
HANDLERS: dict[str, list[Handler]] = {}


def on_message(type_: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS.setdefault(type_, []).append(fn)
        return fn

    return register


# Types whose inbox rows stay ``received`` until the domain that lands them says they are done
# (``finish_inbox``): the envelope is safe in the inbox the moment it is acknowledged, and a crash
# between inbox and store resumes from ``pending_inbox``. Test envelopes are held too: the lander
# puts them in the test area. Deliveries are always held, whichever process received them (a
# standalone ``pbshare channels listen`` too): collect's lander in ``pbshare serve`` lands them.
HELD_TYPES: set[str] = {"delivery"}


def hold(type_: str) -> None:
    HELD_TYPES.add(type_)


@dataclasses.dataclass(frozen=True)
class InboxItem:
    envelope_id: str
    connection_id: str
    channel: str
    sender: str
    resource: str | None
    test: bool
    received_at: Any


def pending_inbox(db: Session, *, type_: str, limit: int = 20) -> list[InboxItem]:
    """Held envelopes of ``type_`` not yet landed, oldest first."""
    rows = db.execute(select(InboxMessage).where(InboxMessage.type == type_,
                                                 InboxMessage.state == InboxState.received.value)
                      .order_by(InboxMessage.received_at).limit(limit)).scalars()
    return [InboxItem(r.envelope_id, r.connection_id, r.channel, r.sender, r.resource, bool(r.test), r.received_at)
            for r in rows]


def finish_inbox(db: Session, *, envelope_id: str, ok: bool, result: dict[str, Any]) -> None:
    """Mark a held envelope landed (``processed``) or given up (``failed``), with what happened."""
    db.execute(update(InboxMessage).where(InboxMessage.envelope_id == envelope_id)
               .values(state=InboxState.processed.value if ok else InboxState.failed.value,
                       result=json.dumps(result, ensure_ascii=False, default=str)[:20000], processed_at=utcnow()))


def inbox_result(db: Session, *, envelope_id: str) -> tuple[str, dict[str, Any] | None]:
    """The state of an inbox envelope and what its lander recorded."""
    row = one_or_raise(db, select(InboxMessage).where(InboxMessage.envelope_id == envelope_id),
                       T("收件箱中没有该消息", "No such message in the inbox"))
    return row.state, json.loads(row.result) if row.result else None


def held_inbox(db: Session, *, type_: str, state: str | None = None, page: int = 1,
               size: int = 50) -> tuple[list[dict[str, Any]], int]:
    """Held envelopes of ``type_`` (newest first) with what their lander recorded, and how many there are."""
    stmt = select(InboxMessage).where(InboxMessage.type == type_)
    if state:
        stmt = stmt.where(InboxMessage.state == state)
    total = int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = db.scalars(stmt.order_by(InboxMessage.received_at.desc()).limit(size).offset((page - 1) * size))
    return [{"envelope_id": r.envelope_id, "sender": r.sender, "resource": r.resource, "channel": r.channel,
             "test": bool(r.test), "state": r.state, "received_at": r.received_at, "processed_at": r.processed_at,
             "result": json.loads(r.result) if r.result else None} for r in rows], total


def hold_again(db: Session, *, envelope_id: str) -> None:
    """Put a landed or failed envelope back in line for its lander (a person asked to land it again)."""
    row = one_or_raise(db, select(InboxMessage).where(InboxMessage.envelope_id == envelope_id),
                       T("收件箱中没有该消息", "No such message in the inbox"))
    if row.type not in HELD_TYPES:
        raise Invalid(T("该类消息不需要入库处理", "Messages of this type are not landed"), code="not_held")
    row.state, row.processed_at = InboxState.received.value, None


def office_code() -> str:
    return unit_service.OFFICE_CODE


def _digest(env: dict[str, Any]) -> str:
    # Without sig and created_at: a dead letter replayed with a fresh timestamp is still "the same".
    body = {k: v for k, v in env.items() if k not in ("created_at", "sig")}
    return crypto.sm3_hex(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())


def _sign_reply(reply: dict[str, Any], conn: ExchangeConnection | None, data_dir: Path) -> dict[str, Any]:
    key = connections.key_for(conn, data_dir, outbound=True) if conn is not None else None
    return env_mod.sign(reply, key) if key is not None else reply


# receiving ------------------------------------------------------------------------------------
def is_outage(exc: BaseException) -> bool:
    """The database itself failed (down, unreachable, locked, pool exhausted), not the message in hand.

    An outage is answered "try again later" and nothing is acknowledged; any other failure belongs to
    one message, which is refused and kept so it cannot come back for ever.
    """
    return isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)) or bool(
        getattr(exc, "connection_invalidated", False))


def _unprocessable(kind: str) -> EnvelopeError:
    # The exception's text may quote the message (personal data): only its type is logged and kept.
    log.warning("a received message could not be processed (%s); refused and kept", kind)
    return EnvelopeError("unprocessable", T("消息无法处理，已拒收并留存，平台管理员可查看原因",
                                            "The message could not be processed; it is refused and kept for the "
                                            "office to inspect"), detail={"exception": kind})


def _guarded_verify(raw: bytes, **kw: Any) -> tuple[dict[str, Any], ExchangeConnection, str]:
    """``_verified`` where any failure of this one message (not of the database) becomes a refusal."""
    try:
        return _verified(raw, **kw)
    except (EnvelopeError, SQLAlchemyError):
        raise
    except Exception as exc:  # a bug meeting odd input must not fail the batch it came in
        raise _unprocessable(type(exc).__name__) from None


class _Cache:
    """Connections and units looked up once per batch, not once per message."""

    def __init__(self, db: Session, data_dir: Path) -> None:
        self.db, self.data_dir = db, data_dir
        self.conns: dict[str, tuple[ExchangeConnection | None, Key | None, str | None]] = {}

    def by_key_id(self, key_id: str) -> tuple[ExchangeConnection | None, Key | None, str | None]:
        if key_id not in self.conns:
            conn = connections.find_by_key_id(self.db, key_id=key_id)
            unit_code = unit_service.get_unit(self.db, unit_id=conn.unit_id).code if conn else None
            key = connections.key_for(conn, self.data_dir) if conn else None
            self.conns[key_id] = (conn, key, unit_code)
        return self.conns[key_id]


def receive(db: Session, *, raw: bytes, channel: str, data_dir: Path, max_bytes: int = env_mod.MAX_BYTES,
            peer: str | None = None, cache: _Cache | None = None, size: int | None = None,
            caller_unit: str | None = None) -> Outcome:
    """Take one message off a channel. The caller commits, then acknowledges to the transport."""
    cache = cache or _Cache(db, data_dir)
    found: list[ExchangeConnection] = []
    try:
        env, conn, unit_code = _guarded_verify(raw, channel=channel, cache=cache, max_bytes=max_bytes, size=size,
                                               caller_unit=caller_unit, found=found)
        hold_chain(db)
        outcome = _accept(db, env, conn, unit_code, channel, data_dir)
    except EnvelopeError as err:
        hold_chain(db)
        outcome = _reject(db, err, raw=raw, channel=channel, conn=found[0] if found else None, data_dir=data_dir,
                          peer=peer, size=size)
    _audit(db, channel, [outcome], peer)
    return outcome


def hold_chain(db: Session) -> None:
    """Take the audit chain's lock before the first row lock: receiving updates outbox and connection rows
    and then audits, so every transaction that does both must lock in that one order (see audit.hold_chain)."""
    audit.hold_chain(db)


def _audit(db: Session, channel: str, outcomes: list[Outcome], peer: str | None,
           peers: list[str] | None = None) -> None:
    """One audit record per received batch: which envelopes came in, which were refused and why."""
    if not outcomes:
        return
    by_status: dict[str, int] = {}
    for o in outcomes:
        by_status[o.status] = by_status.get(o.status, 0) + 1
    audit.record(db, action="exchange.receive", object_type="exchange_inbox",
                 object_id=(outcomes[0].envelope or {}).get("id") if len(outcomes) == 1 else None,
                 result="refused" if by_status.get("rejected") == len(outcomes) else "ok",
                 ip=peer if channel in ("rest", "soap") else None, actor_name=f"channel:{channel}",
                 detail={"channel": channel, "peer": peer, **({"peers": peers[:50]} if peers else {}), **by_status,
                         # every envelope of a batch (a group commit holds at most 500)
                         "envelopes": [o.envelope["id"] for o in outcomes if o.envelope][:500],
                         "refused": [o.error.code for o in outcomes if o.error][:100]})


def _verified(raw: bytes, *, channel: str, cache: _Cache, max_bytes: int, size: int | None, caller_unit: str | None,
              found: list[ExchangeConnection]) -> tuple[dict[str, Any], ExchangeConnection, str]:
    """Parse, find the connection, check its state, the signature, the addressing and the age; decrypt."""
    if size is not None and size > max_bytes:
        raise EnvelopeError("too_large", T("消息 {n} 字节，超过上限 {m} 字节", "The message is {n} bytes, over "
                                           "the limit of {m} bytes", n=size, m=max_bytes))
    env, signed = env_mod.parse_signed(raw, max_bytes=max_bytes)
    maybe_conn, maybe_key, maybe_unit = cache.by_key_id(env["sig"]["key_id"])
    if maybe_conn is not None:
        found.append(maybe_conn)
    conn, key, unit_code = _check_connection(env, maybe_conn, maybe_key, maybe_unit, channel, cache.db)
    if not env_mod.verify(env, key, signed=signed):
        raise EnvelopeError("bad_signature", T("签名验证失败：请用该连接的密钥对 RFC 8785 规范化后的消息（不含 sig）"
                                               "签名", "The signature does not verify: sign the RFC 8785 "
                                               "canonical form of the envelope without sig, with this "
                                               "connection's key"), field="sig", answers=env["id"],
                            sender=env["sender"])
    _check_addressing(env, conn, unit_code, channel)
    if caller_unit is not None and caller_unit != unit_code:
        raise EnvelopeError("wrong_caller", T("调用方属于单位 {c}，不能代 {u} 发送消息", "The caller belongs to unit "
                                              "{c} and cannot send for {u}", c=caller_unit, u=unit_code),
                            field="sender", answers=env["id"], sender=env["sender"])
    env_mod.check_fresh(env)
    if "enc" in env:
        env = {**{k: v for k, v in env.items() if k != "enc"}, "payload": env_mod.decrypt_payload(env, key)}
    return env, conn, unit_code


def _check_connection(env: dict[str, Any], conn: ExchangeConnection | None, key: Key | None,
                      unit_code: str | None, channel: str, db: Session) -> tuple[ExchangeConnection, Key, str]:
    """The connection, its key and its unit, if the connection may take this envelope now."""
    def bad(code: str, zh: str, en: str, field: str | None = "sig.key_id", **params: Any) -> EnvelopeError:
        return EnvelopeError(code, T(zh, en, **params), field=field, answers=env["id"], sender=env["sender"])

    if conn is None or unit_code is None:
        raise bad("unknown_key", "未知的密钥编号 {k}：请使用平台发放的 key_id", "Unknown key id {k}: use the key_id the "
                  "platform issued to you", k=env["sig"]["key_id"][:64])
    state = ConnectionState(conn.state)
    if state == ConnectionState.terminated or key is None:
        # since when, and whom to contact (a unit that left the sharing is told so)
        raise EnvelopeError("connection_terminated", connections.terminated_notice(db, conn=conn), field="sig.key_id",
                            answers=env["id"], sender=env["sender"])
    if state == ConnectionState.suspended:
        raise bad("connection_suspended", "该连接已暂停，消息不予接收，请联系平台管理员", "This connection is "
                  "suspended; messages are refused. Contact the office's administrator")
    if state == ConnectionState.draft:
        raise bad("connection_not_open", "该连接尚未开通（草稿），请等待平台开启联调测试", "This connection is not "
                  "open yet (draft); wait for the office to start joint testing")
    if state == ConnectionState.testing and not env.get("test"):
        raise bad("testing_only", "连接处于联调测试阶段，只接收 test=true 的测试消息", "The connection is in joint "
                  "testing: only envelopes with test=true are accepted", field="test")
    return conn, key, unit_code


def _check_addressing(env: dict[str, Any], conn: ExchangeConnection, unit_code: str, channel: str) -> None:
    def bad(code: str, zh: str, en: str, field: str | None = "sig.key_id", **params: Any) -> EnvelopeError:
        return EnvelopeError(code, T(zh, en, **params), field=field, answers=env["id"], sender=env["sender"])

    if conn.channel != channel:
        raise bad("wrong_channel", "该密钥属于 {c} 通道，不能用于 {d} 通道", "This key belongs to the {c} channel, not "
                  "{d}", c=conn.channel, d=channel)
    if env["sender"] != unit_code:
        raise bad("wrong_sender", "发送方 {s} 与密钥所属单位 {u} 不符", "The sender {s} does not match the key's unit "
                  "{u}", field="sender", s=env["sender"], u=unit_code)
    if env["receiver"] != office_code():
        raise bad("wrong_receiver", "接收方应为平台 {o}", "The receiver must be the platform, {o}", field="receiver",
                  o=office_code())


def _inbox_row(env: dict[str, Any], conn: ExchangeConnection, channel: str, digest: str,
               data_dir: Path) -> dict[str, Any]:
    now = utcnow()
    return {"id": new_id(), "envelope_id": env["id"], "connection_id": conn.id, "channel": channel,
            "type": env["type"], "sender": env["sender"], "resource": env.get("resource"),
            "correlation_id": env.get("correlation_id"), "test": bool(env.get("test")), "digest": digest,
            "body_sealed": vault_for(data_dir).seal(json.dumps(env, ensure_ascii=False)),
            "state": InboxState.received.value if env["type"] in HELD_TYPES else InboxState.processed.value,
            "received_at": now, "processed_at": None if env["type"] in HELD_TYPES else now}


def _duplicate(env: dict[str, Any], digest: str, stored: str, conn: ExchangeConnection, unit_code: str,
               data_dir: Path) -> Outcome:
    if stored != digest:
        raise EnvelopeError("id_reused", T("消息编号 {i} 已用于另一条内容不同的消息，请为新消息生成新的 id",
                                           "The id {i} was already used for a different message; give every "
                                           "new message a new id", i=env["id"]),
                            field="id", answers=env["id"], sender=env["sender"])
    reply = None if env["type"] in ("receipt", "error") else _sign_reply(
        env_mod.receipt_for(env, sender=office_code(), status="duplicate"), conn, data_dir)
    return Outcome("duplicate", reply, env, conn.id, unit_code)


def _answer(env: dict[str, Any], conn: ExchangeConnection, unit_code: str, response: dict[str, Any] | None,
            data_dir: Path) -> Outcome:
    if env["type"] in ("receipt", "error"):
        return Outcome("accepted", None, env, conn.id, unit_code)
    reply = _sign_reply(env_mod.receipt_for(env, sender=office_code()), conn, data_dir)
    resp_env = None
    if env["type"] == "request":
        resp_env = _sign_reply(env_mod.build(type="response", sender=office_code(), receiver=env["sender"],
                                             resource=env.get("resource"), correlation_id=env["id"],
                                             test=bool(env.get("test")), payload=response or {}), conn, data_dir)
    return Outcome("accepted", reply, env, conn.id, unit_code, response=resp_env)


def _accept(db: Session, env: dict[str, Any], conn: ExchangeConnection, unit_code: str, channel: str,
            data_dir: Path) -> Outcome:
    digest = _digest(env)
    stored = db.scalar(select(InboxMessage.digest).where(InboxMessage.envelope_id == env["id"]))
    if stored is None:
        try:
            with db.begin_nested():
                db.execute(insert(InboxMessage), [_inbox_row(env, conn, channel, digest, data_dir)])
        except IntegrityError:  # another listener recorded it a moment ago
            stored = db.scalar(select(InboxMessage.digest).where(InboxMessage.envelope_id == env["id"]))
    if stored is not None:
        return _duplicate(env, digest, stored, conn, unit_code, data_dir)
    conn.last_seen_at = utcnow()
    return _answer(env, conn, unit_code, _act(db, env, conn), data_dir)


def _act(db: Session, env: dict[str, Any], conn: ExchangeConnection) -> dict[str, Any] | None:
    """Receipts close deliveries; errors mark them refused; the rest goes to registered handlers."""
    answered = env.get("correlation_id")
    response: dict[str, Any] | None = None
    if env["type"] == "receipt" and answered:
        db.execute(update(OutboxMessage).where(OutboxMessage.envelope_id == answered,
                                               OutboxMessage.connection_id == conn.id,
                                               OutboxMessage.state != OutboxState.delivered.value)
                   .values(state=OutboxState.delivered.value, delivered_at=utcnow()))
    elif env["type"] == "error" and answered:
        payload = env.get("payload") or {}
        db.execute(update(OutboxMessage).where(OutboxMessage.envelope_id == answered,
                                               OutboxMessage.connection_id == conn.id)
                   .values(state=OutboxState.refused.value,
                           last_error=f"{payload.get('code')}: {payload.get('message')}"[:2000]))
    elif env.get("test"):
        # Joint-testing traffic stops here: recorded in the inbox, never handed to production tables.
        response = {"test": True, "status": "received", "answers": env["id"]}
    else:
        for handler in HANDLERS.get(env["type"], []):
            out = handler(db, env, conn)
            if out is not None and response is None:
                response = out
        if env["type"] == "request" and response is None:
            response = {"status": "received", "answers": env["id"]}
    return response


def _reject(db: Session, err: EnvelopeError, *, raw: bytes, channel: str, conn: ExchangeConnection | None,
            data_dir: Path, peer: str | None, size: int | None) -> Outcome:
    reply = env_mod.error_for(err, sender=office_code())
    if conn is not None and conn.secret_sealed:
        reply = _sign_reply(reply, conn, data_dir)
    text = raw[:KEEP_RAW_BYTES].decode("utf-8", errors="replace")
    row = RejectedMessage(connection_id=conn.id if conn else None, channel=channel, code=err.code,
                          message=err.message.render("zh-CN")[:500], field=err.field, answers_id=err.answers,
                          sender=err.sender, peer=peer[:200] if peer else None,
                          size=size if size is not None else len(raw),
                          truncated=len(raw) > KEEP_RAW_BYTES or (size or 0) > len(raw),
                          raw_sealed=vault_for(data_dir).seal(text), reply=env_mod.dumps(reply).decode())
    db.add(row)
    db.flush()
    log.info("refused a %s message: %s", channel, err.code)
    return Outcome("rejected", reply, None, conn.id if conn else None, error=err)


def receive_batch(database: Database, *, raws: list[tuple[bytes, str | None]], channel: str, data_dir: Path,
                  max_bytes: int = env_mod.MAX_BYTES, callers: list[str | None] | None = None) -> list[Outcome]:
    """Many messages in one transaction (committed on return): what broker listeners use, and the
    requests of REST, SOAP and socket callers that arrived together (``exchange.hub.InboxWriter``).

    The duplicate check is one query for the batch and new envelopes are inserted in one statement;
    if another listener raced us to one of them, the batch falls back to one message at a time.
    ``callers``: per message, the unit of the API client that sent it (REST), checked like ``receive``'s.
    """
    with database.session(immediate=True) as db:
        cache = _Cache(db, data_dir)
        outcomes: list[Outcome | None] = [None] * len(raws)
        good: list[tuple[int, dict[str, Any], ExchangeConnection, str]] = []
        for i, (raw, peer) in enumerate(raws):
            found: list[ExchangeConnection] = []
            try:
                env, conn, unit_code = _guarded_verify(raw, channel=channel, cache=cache, max_bytes=max_bytes,
                                                       size=None, caller_unit=callers[i] if callers else None,
                                                       found=found)
                good.append((i, env, conn, unit_code))
            except EnvelopeError as err:
                outcomes[i] = _reject(db, err, raw=raw, channel=channel, conn=found[0] if found else None,
                                      data_dir=data_dir, peer=peer, size=None)
        hold_chain(db)
        ids = [env["id"] for _, env, _, _ in good]
        stored: dict[str, str] = {}
        for chunk in range(0, len(ids), 500):
            stored.update(db.execute(select(InboxMessage.envelope_id, InboxMessage.digest)
                                     .where(InboxMessage.envelope_id.in_(ids[chunk:chunk + 500]))).all())
        rows: list[dict[str, Any]] = []
        fresh: list[tuple[int, dict[str, Any], ExchangeConnection, str]] = []
        for i, env, conn, unit_code in good:
            digest = _digest(env)
            if env["id"] in stored:
                try:
                    outcomes[i] = _duplicate(env, digest, stored[env["id"]], conn, unit_code, data_dir)
                except EnvelopeError as err:
                    outcomes[i] = _reject(db, err, raw=raws[i][0], channel=channel, conn=conn, data_dir=data_dir,
                                          peer=raws[i][1], size=None)
                continue
            stored[env["id"]] = digest  # a second copy inside this batch is a duplicate of the first
            rows.append(_inbox_row(env, conn, channel, digest, data_dir))
            fresh.append((i, env, conn, unit_code))
        if rows:
            try:
                with db.begin_nested():
                    # Core executemany: the ORM's bulk path costs more per row than the row itself
                    # (a mapped class's __table__ is a Table; SQLAlchemy types it as any FromClause)
                    db.execute(cast(Table, InboxMessage.__table__).insert(), rows)
            except IntegrityError:
                for i, env, conn, unit_code in fresh:
                    outcomes[i] = _accept(db, env, conn, unit_code, channel, data_dir)
                fresh = []
        now = utcnow()
        for i, env, conn, unit_code in fresh:
            conn.last_seen_at = now
            outcomes[i] = _answer(env, conn, unit_code, _act(db, env, conn), data_dir)
        done = [o for o in outcomes if o is not None]
        # One audit record per batch; REST and SOAP requests (whose record names the caller's address) one
        # per address. Socket connections merged into one batch are listed in the record.
        if channel in ("rest", "soap"):
            by_peer: dict[str | None, list[Outcome]] = {}
            for (_, peer), outcome in zip(raws, done, strict=True):
                by_peer.setdefault(peer, []).append(outcome)
            for peer, group in by_peer.items():
                _audit(db, channel, group, peer)
        else:
            peers = list(dict.fromkeys(peer for _, peer in raws if peer))
            _audit(db, channel, done, peers[0] if len(peers) == 1 else None, peers=peers if len(peers) > 1 else None)
        return done


def rejected_raw(db: Session, *, rejected_id: str, data_dir: Path) -> str:
    """The bytes of a refused message as they came (up to ``KEEP_RAW_BYTES``)."""
    row = get_or_raise(db, RejectedMessage, rejected_id, T("拒收记录不存在", "The refused message does not exist"))
    return vault_for(data_dir).open(row.raw_sealed) or ""


def read_rejected_raw(db: Session, *, rejected_id: str, data_dir: Path, principal: Principal,
                      ip: str | None = None) -> str:
    """``rejected_raw`` for a person: the bytes may hold personal data, so every reading is audited."""
    text = rejected_raw(db, rejected_id=rejected_id, data_dir=data_dir)
    audit.record(db, action="exchange.rejected.read", principal=principal, object_type="exchange_rejected",
                 object_id=rejected_id, ip=ip)
    return text


def inbox_envelope(db: Session, *, envelope_id: str, data_dir: Path) -> dict[str, Any]:
    row: InboxMessage = one_or_raise(db, select(InboxMessage).where(InboxMessage.envelope_id == envelope_id),
                                     T("收件箱中没有该消息", "No such message in the inbox"))
    return json.loads(vault_for(data_dir).open(row.body_sealed) or "{}")


# sending --------------------------------------------------------------------------------------
def enqueue(db: Session, *, connection_id: str, type: str, payload: dict[str, Any],
            data_dir: Path, resource: str | None = None, correlation_id: str | None = None,
            test: bool = False) -> OutboxMessage:
    """Write an envelope to the outbox, in the caller's transaction (the business change commits with it)."""
    conn = connections.get_connection(db, connection_id=connection_id)
    _check_can_send(conn, test)
    unit_code = unit_service.get_unit(db, unit_id=conn.unit_id).code
    env = env_mod.build(type=type, sender=office_code(), receiver=unit_code, payload=payload, resource=resource,
                        correlation_id=correlation_id, test=test)
    row = OutboxMessage(envelope_id=env["id"], connection_id=conn.id, type=type, receiver=unit_code,
                        resource=resource, correlation_id=correlation_id, test=test,
                        payload_sealed=vault_for(data_dir).seal(json.dumps(env, ensure_ascii=False)))
    db.add(row)
    db.flush()
    return row


def _check_can_send(conn: ExchangeConnection, test: bool) -> None:
    if conn.state == ConnectionState.live or (conn.state == ConnectionState.testing and test):
        return
    if conn.state == ConnectionState.testing:
        raise Invalid(T("连接处于联调测试阶段，只能发送测试消息", "The connection is in joint testing: only test "
                        "messages may be sent"), code="testing_only")
    raise Conflict(T("连接状态为 {s}，不能发送消息", "The connection is {s}; nothing can be sent", s=conn.state),
                   code="connection_not_live")


def signed_body(db: Session, msg: OutboxMessage, *, data_dir: Path, fresh: bool = False) -> bytes:
    """The wire bytes of an outbox message: signed (and encrypted when the connection asks) now."""
    conn = connections.get_connection(db, connection_id=msg.connection_id)
    key = connections.key_for(conn, data_dir, outbound=True)
    if key is None:
        raise Conflict(T("连接密钥已吊销", "The connection's keys are revoked"), code="connection_terminated")
    env = json.loads(vault_for(data_dir).open(msg.payload_sealed) or "{}")
    if fresh:
        env["created_at"] = env_mod.build(type="receipt", sender="X", receiver="X")["created_at"]
    if conn.encrypt:
        env = env_mod.encrypt_payload(env, key)
    return env_mod.dumps(env_mod.sign(env, key))


def find_outbox_message(db: Session, *, message_id: str) -> OutboxMessage | None:
    return db.get(OutboxMessage, message_id)


def claim_due(db: Session, *, limit: int = 100) -> list[OutboxMessage]:
    """Pending messages whose time has come; on PostgreSQL rows another dispatcher holds are skipped."""
    stmt = (select(OutboxMessage).where(OutboxMessage.state == OutboxState.pending.value,
                                        OutboxMessage.next_attempt_at <= utcnow())
            .order_by(OutboxMessage.next_attempt_at).limit(limit))
    if db.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(db.scalars(stmt))


def mark_sent(db: Session, msg: OutboxMessage) -> None:
    msg.attempts += 1
    msg.sent_at = utcnow()
    msg.last_error = None
    if msg.state == OutboxState.pending:
        # A condition in SQL, not the state read earlier: the unit's receipt may have been committed since
        # (it answered before the send was recorded), and ``delivered`` must not turn back into ``sent``.
        db.execute(update(OutboxMessage).where(OutboxMessage.id == msg.id,
                                               OutboxMessage.state == OutboxState.pending.value)
                   .values(state=OutboxState.sent.value))


def mark_failed(db: Session, msg: OutboxMessage, *, error: str, max_attempts: int = MAX_ATTEMPTS,
                base: timedelta = BACKOFF_BASE) -> None:
    """Exponential backoff (base × 2^n, capped); after the last attempt the message becomes a dead letter."""
    msg.attempts += 1
    msg.last_error = error[:2000]
    if msg.attempts >= max_attempts:
        msg.state = OutboxState.dead.value
        log.warning("outbox message %s parked as a dead letter after %d attempts", msg.envelope_id, msg.attempts)
        return
    delay = min(base * (2 ** (msg.attempts - 1)), BACKOFF_MAX)
    msg.next_attempt_at = utcnow() + delay


def list_outbox(db: Session, *, states: tuple[str, ...] | None = None, connection_id: str | None = None,
                limit: int = 200) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)
    if states:
        stmt = stmt.where(OutboxMessage.state.in_(states))
    if connection_id:
        stmt = stmt.where(OutboxMessage.connection_id == connection_id)
    return list(db.scalars(stmt))


DEAD_STATES = (OutboxState.dead.value, OutboxState.refused.value)


def dead_letters(db: Session, *, connection_id: str | None = None, limit: int = 200) -> list[OutboxMessage]:
    return list_outbox(db, states=DEAD_STATES, connection_id=connection_id, limit=limit)


def replay(db: Session, *, outbox_id: str, principal: Principal | None = None) -> OutboxMessage:
    """Put a dead letter back in the queue with a fresh count of attempts (same envelope id)."""
    msg = get_or_raise(db, OutboxMessage, outbox_id, T("死信不存在", "The dead letter does not exist"))
    if msg.state not in DEAD_STATES:
        raise Conflict(T("只有死信或被拒收的消息可以重发（当前：{s}）", "Only dead or refused messages can be replayed "
                         "(this one is {s})", s=msg.state), code="not_dead")
    conn = connections.get_connection(db, connection_id=msg.connection_id)
    _check_can_send(conn, msg.test)
    msg.state, msg.attempts, msg.next_attempt_at = OutboxState.pending.value, 0, utcnow()
    audit.record(db, action="exchange.deadletter.replay", principal=principal, object_type="exchange_outbox",
                 object_id=msg.id, detail={"envelope_id": msg.envelope_id, "last_error": (msg.last_error or "")[:200]})
    msg.last_error = None
    db.flush()
    return msg


def list_rejected(db: Session, *, connection_id: str | None = None, limit: int = 200) -> list[RejectedMessage]:
    stmt = select(RejectedMessage).order_by(RejectedMessage.received_at.desc()).limit(limit)
    if connection_id:
        stmt = stmt.where(RejectedMessage.connection_id == connection_id)
    return list(db.scalars(stmt))


def list_inbox(db: Session, *, connection_id: str | None = None, limit: int = 200) -> list[InboxMessage]:
    stmt = select(InboxMessage).order_by(InboxMessage.received_at.desc()).limit(limit)
    if connection_id:
        stmt = stmt.where(InboxMessage.connection_id == connection_id)
    return list(db.scalars(stmt))


def refuse(db: Session, *, raw: bytes, channel: str, err: EnvelopeError, data_dir: Path, peer: str | None = None,
           size: int | None = None) -> Outcome:
    """Keep a message a channel refused before it could be read as an envelope (bad XML, too large)."""
    return _reject(db, err, raw=raw, channel=channel, conn=None, data_dir=data_dir, peer=peer, size=size)


def park(db: Session, *, raw: bytes, channel: str, data_dir: Path, peer: str | None, deliveries: int,
         failure: str | None = None) -> Outcome:
    """Keep a broker message that could not be stored after ``deliveries`` tries (or that broke the
    inbox with ``failure``, an exception's type), so the broker stops delivering it; it is answered
    with an error like any refusal."""
    if failure is not None:
        err = _unprocessable(failure)
    else:
        err = EnvelopeError("redelivered_too_often", T("消息已投递 {n} 次仍无法入库，已停止重试并留存，请稍后重新发送",
                                                       "The message could not be stored after {n} deliveries; it is "
                                                       "kept and no longer retried. Send it again later",
                                                       n=deliveries))
    conn = None
    with contextlib.suppress(EnvelopeError):  # whose it is, when it reads: the answer is signed with that key
        env = env_mod.parse(raw, max_bytes=len(raw) + 1)
        err = dataclasses.replace(err, answers=env["id"], sender=env["sender"])
        conn = connections.find_by_key_id(db, key_id=env["sig"]["key_id"])
    outcome = _reject(db, err, raw=raw, channel=channel, conn=conn, data_dir=data_dir, peer=peer, size=None)
    _audit(db, channel, [outcome], peer)
    return outcome


def send_test_message(db: Session, *, connection_id: str, payload: dict[str, Any], data_dir: Path,
                      principal: Principal) -> OutboxMessage:
    """A joint-testing delivery (``test: true``) to a connection, queued and audited (the UI's button)."""
    msg = enqueue(db, connection_id=connection_id, type="delivery", payload=payload, data_dir=data_dir, test=True)
    audit.record(db, action="exchange.test_message", principal=principal, object_type="exchange_connection",
                 object_id=connection_id, detail={"envelope_id": msg.envelope_id})
    return msg


def traffic(db: Session) -> dict[str, dict[str, int]]:
    """Per connection: messages in, out, delivered, rejected and dead letters."""
    counts: dict[str, dict[str, int]] = {}

    def bump(cid: str | None, key: str, n: int) -> None:
        if cid:
            counts.setdefault(cid, {"in": 0, "out": 0, "delivered": 0, "rejected": 0, "dead": 0})[key] += n

    for cid, n in db.execute(select(InboxMessage.connection_id, func.count()).group_by(InboxMessage.connection_id)):
        bump(cid, "in", n)
    for cid, state, n in db.execute(select(OutboxMessage.connection_id, OutboxMessage.state, func.count())
                                    .group_by(OutboxMessage.connection_id, OutboxMessage.state)):
        bump(cid, "out", n)
        if state == OutboxState.delivered:
            bump(cid, "delivered", n)
        if state in (OutboxState.dead, OutboxState.refused):
            bump(cid, "dead", n)
    for refused_cid, n in db.execute(select(RejectedMessage.connection_id, func.count())
                                     .group_by(RejectedMessage.connection_id)):
        bump(refused_cid, "rejected", n)
    return counts


def pull(db: Session, *, unit_id: str, data_dir: Path, limit: int = 100) -> list[dict[str, Any]]:
    """Envelopes waiting for a unit on its REST pull connections (not yet receipted), signed now."""
    conns = [c for c in connections.list_connections(db, unit_id=unit_id, channel="rest",
                                                     states=connections.LISTENING_STATES)
             if not (c.settings or {}).get("url")]
    if not conns:
        return []
    rows = db.scalars(select(OutboxMessage).where(
        OutboxMessage.connection_id.in_([c.id for c in conns]),
        OutboxMessage.state.in_((OutboxState.pending.value, OutboxState.sent.value)))
        .order_by(OutboxMessage.created_at).limit(limit))
    out = []
    for msg in rows:
        out.append(json.loads(signed_body(db, msg, data_dir=data_dir, fresh=True)))
        mark_sent(db, msg)
    return out
