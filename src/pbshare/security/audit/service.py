"""Tamper-evident audit log: every record is chained to the one before by an SM3 hash.

``record`` is the one call every domain makes for logins, permission and configuration changes,
reads of a person's data, exports and exchange messages. The hash covers the record's canonical
JSON (RFC 8785) and the previous record's hash, so a changed, removed or inserted record breaks the
chain at that point (``verify``).
"""

from __future__ import annotations

import getpass
import hmac
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from pbshare.core.clock import as_utc, utcnow
from pbshare.core.errors import AppError
from pbshare.core.jcs import jcs
from pbshare.core.logs import request_id_var, scrub
from pbshare.security.audit.models import AuditArchive, AuditRecord, AuditRefusalTally
from pbshare.security.crypto import algorithms as crypto
from pbshare.security.crypto.keys import keyring_for
from pbshare.units.principal import Principal

GENESIS = "0" * 64


_CHAINED = ("seq", "at", "actor_id", "actor_name", "unit_code", "ip", "action", "object_type", "object_id",
            "result", "purpose", "request_id", "detail", "prev_hash")


def canonical(rec: AuditRecord) -> bytes:
    data: dict[str, Any] = {}
    for name in _CHAINED:
        value = getattr(rec, name)
        if isinstance(value, datetime):
            value = as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        data[name] = value
    return jcs(data)


_acting_as: ContextVar[str | None] = ContextVar("audit_acting_as", default=None)


@contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Records written inside carry ``name`` (the demo loader's records say ``demo``, also for what it does
    in a demo user's name), so no record is left without someone to answer for it."""
    token = _acting_as.set(name[:64])
    try:
        yield
    finally:
        _acting_as.reset(token)


def cli_actor() -> str:
    """Who ran a command: the operating-system account, so the audit log says who."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:  # no passwd entry in some containers
        return "cli:unknown"


def _clean(detail: dict | None) -> dict:
    """Details never carry identifiers or secrets in clear."""
    if not detail:
        return {}
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if isinstance(value, str):
            out[key] = scrub(value)
        elif isinstance(value, (int, float, bool)) or value is None:
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = [scrub(v) if isinstance(v, str) else v for v in value][:100]
        elif isinstance(value, dict):
            out[key] = _clean(value)
        else:
            out[key] = scrub(str(value))
    return out


def hold_chain(db: Session) -> None:
    """Serialise writers so two records never claim the same place in the chain (SQLite has one writer).

    Held until the transaction ends. A transaction that will both lock rows and audit takes it first, before
    any row lock, so two such transactions never wait on each other in a circle (PostgreSQL's deadlock)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(7007001)"))



def record(
    db: Session,
    *,
    action: str,
    principal: Principal | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    result: str = "ok",
    purpose: str | None = None,
    detail: dict | None = None,
    ip: str | None = None,
    actor_name: str | None = None,
) -> AuditRecord:
    """Append one record. ``principal`` is who acted; None for the system or a caller not yet known
    (a failed login names itself in ``actor_name``)."""
    hold_chain(db)
    last = db.execute(select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)).first()
    if last is None:
        # Everything so far may have been archived: continue from the last checkpoint.
        last = db.execute(select(AuditArchive.to_seq, AuditArchive.last_hash)
                          .order_by(AuditArchive.to_seq.desc()).limit(1)).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    rec = AuditRecord(
        seq=seq,
        at=utcnow(),
        actor_id=principal.user_id if principal else None,
        # Inside ``acting_as`` (the demo loader, a command, a scheduled job) the record names who really ran
        # it, also when it acts for a user (actor_id stays that user's).
        actor_name=_acting_as.get() or (principal.username if principal else None) or actor_name,
        unit_code=principal.unit_code if principal else None,
        ip=ip,
        action=action,
        object_type=object_type,
        object_id=object_id,
        result=result,
        purpose=purpose,
        request_id=request_id_var.get(),
        detail=_clean(detail),
        prev_hash=prev,
    )
    rec.hash = crypto.sm3_hex(canonical(rec))
    db.add(rec)
    db.flush()
    return rec


def record_refusal(
    db: Session,
    *,
    action: str,
    principal: Principal | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: dict | None = None,
    ip: str | None = None,
    actor_name: str | None = None,
    result: str = "denied",
) -> AuditRecord | None:
    """Record a refusal, at most once a minute for the same action, actor, address and object.

    A flood of identical refusals must not fill the disk: the first of a minute becomes a chained
    record, the repeats only add to its count in ``audit_refusal_tally`` (shown with the record as
    ``repeats``). Chained rows are never changed, so ``verify`` still passes. Returns the new record,
    or None when the refusal was counted into an earlier one.
    """
    minute = utcnow().replace(second=0, microsecond=0)
    actor = (principal.user_id or principal.username) if principal else actor_name
    detail = _clean(detail)
    bucket = crypto.sm3_hex(jcs([action, result, actor, ip, object_type, object_id, detail, minute.isoformat()]))
    hold_chain(db)
    counted = db.execute(update(AuditRefusalTally).where(AuditRefusalTally.bucket == bucket)
                         .values(count=AuditRefusalTally.count + 1))
    if getattr(counted, "rowcount", 0):
        return None
    rec = record(db, action=action, principal=principal, object_type=object_type, object_id=object_id,
                 result=result, detail=detail, ip=ip, actor_name=actor_name)
    db.add(AuditRefusalTally(bucket=bucket, minute=minute, record_seq=rec.seq, count=1))
    db.flush()
    return rec


@contextmanager
def refusals_recorded(
    db: Session,
    *,
    action: str,
    codes: Collection[str],
    principal: Principal | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: dict | None = None,
    ip: str | None = None,
) -> Iterator[None]:
    """Around work whose refusal must be in the audit log although the request fails.

    An ``AppError`` with one of ``codes`` rolls back the work, is recorded with ``record_refusal`` (its
    code as ``reason``) and committed, then raised as it was; other errors pass untouched.
    """
    try:
        yield
    except AppError as exc:
        if exc.code in codes:
            db.rollback()
            record_refusal(db, action=action, principal=principal, object_type=object_type, object_id=object_id,
                           ip=ip, detail={"reason": exc.code, **(detail or {})})
            db.commit()
        raise


# How a domain names the objects its audit records point at: object_type -> (db, ids) -> {id: (name, link)}. The
# domains above security register theirs (security cannot import them), so the auditor reads "社保缴费明细"
# with a link to it instead of ``case.si_monthly`` or a UUID.
ObjectNamer = Callable[[Session, list[str]], dict[str, tuple[str, str | None]]]
_NAMERS: dict[str, ObjectNamer] = {}


def register_namer(object_type: str, namer: ObjectNamer) -> None:
    _NAMERS[object_type] = namer


def object_names(db: Session, *, objects: Collection[tuple[str | None, str | None]]
                 ) -> dict[tuple[str, str], tuple[str, str | None]]:
    """{(object_type, object_id): (name, link)} for the objects whose type has a namer; others are left out."""
    wanted: dict[str, set[str]] = {}
    for kind, oid in objects:
        if kind in _NAMERS and oid:
            wanted.setdefault(kind, set()).add(oid)
    out: dict[tuple[str, str], tuple[str, str | None]] = {}
    for kind, ids in wanted.items():
        for oid, named in _NAMERS[kind](db, sorted(ids)).items():
            out[(kind, oid)] = named
    return out


def repeat_counts(db: Session, *, seqs: list[int]) -> dict[int, int]:
    """How many refusals each record stands for (1 unless identical ones followed within its minute)."""
    if not seqs:
        return {}
    rows = db.execute(select(AuditRefusalTally.record_seq, AuditRefusalTally.count)
                      .where(AuditRefusalTally.record_seq.in_(seqs)))
    return {seq: count for seq, count in rows}


def denied_logins(db: Session, *, ip: str, since: datetime) -> int:
    """Failed logins from one address since a time: the login throttle counts them here, where they are kept."""
    return db.scalar(select(func.count()).select_from(AuditRecord).where(
        AuditRecord.action == "auth.login", AuditRecord.result == "denied", AuditRecord.ip == ip,
        AuditRecord.at >= since)) or 0


# archive checkpoints (written by audit_log.archive, checked by verify) ---------------------------
def audit_key(data_dir: Path) -> bytes:
    return keyring_for(data_dir).data_key("audit")


def checkpoint_bytes(*, file_name: str, file_sm3: str, from_seq: int, to_seq: int, count: int,
                      last_hash: str) -> bytes:
    return jcs({"file": file_name, "sm3": file_sm3, "from_seq": from_seq, "to_seq": to_seq, "count": count,
                "last_hash": last_hash})


def checkpoint_mac_ok(data_dir: Path, row: AuditArchive) -> bool:
    data = checkpoint_bytes(file_name=row.file_name, file_sm3=row.file_sm3, from_seq=row.from_seq, to_seq=row.to_seq,
                             count=row.count, last_hash=row.last_hash)
    return hmac.compare_digest(crypto.hmac_sm3(audit_key(Path(data_dir)), data).hex(), row.mac)


@dataclass
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    archived_up_to: int | None = None


def verify(db: Session, *, batch: int = 5000, data_dir: Path | None = None) -> ChainReport:
    """Walk the chain in order; name the first record that was changed, removed or inserted.

    Records moved to signed archive files (``audit_log.archive``) are gone from the table; the walk
    then starts after the last archive checkpoint, from its hash. With ``data_dir`` the checkpoint's
    own HMAC-SM3 is checked too, so a forged checkpoint cannot hide removed records.
    """
    prev_hash, expected_seq, checked, last_seq = GENESIS, 1, 0, 0
    anchor = db.scalars(select(AuditArchive).order_by(AuditArchive.to_seq.desc()).limit(1)).first()
    if anchor is not None:
        if data_dir is not None and not checkpoint_mac_ok(data_dir, anchor):
            return ChainReport(False, 0, anchor.to_seq, "archive checkpoint forged", anchor.to_seq)
        prev_hash, expected_seq, last_seq = anchor.last_hash, anchor.to_seq + 1, anchor.to_seq
    while True:
        rows = db.scalars(select(AuditRecord).where(AuditRecord.seq > last_seq).order_by(AuditRecord.seq)
                          .limit(batch)).all()
        if not rows:
            return ChainReport(ok=True, checked=checked, archived_up_to=anchor.to_seq if anchor else None)
        for rec in rows:
            if rec.seq != expected_seq:
                return ChainReport(False, checked, expected_seq, "removed")
            if rec.prev_hash != prev_hash:
                return ChainReport(False, checked, rec.seq, "inserted or reordered")
            if crypto.sm3_hex(canonical(rec)) != rec.hash:
                return ChainReport(False, checked, rec.seq, "changed")
            prev_hash, expected_seq, last_seq = rec.hash, rec.seq + 1, rec.seq
            checked += 1


def chain_status(db: Session) -> dict[str, Any]:
    """For the auditor's to-do: when the chain was last verified, with what result, and what came since."""
    last = db.scalars(select(AuditRecord).where(AuditRecord.action == "audit.verify")
                      .order_by(AuditRecord.seq.desc()).limit(1)).first()
    since = select(func.count()).select_from(AuditRecord)
    if last is not None:
        since = since.where(AuditRecord.seq > last.seq)
    return {"last_verified_at": last.at if last else None, "last_result": last.result if last else None,
            "records_since": int(db.scalar(since) or 0)}
