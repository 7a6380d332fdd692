"""Tamper-evident audit log: every record is chained to the one before by an SM3 hash.

``record`` is the one call every domain makes for logins, permission and configuration changes,
reads of a person's data, exports and exchange messages. The hash covers the record's canonical
JSON (RFC 8785) and the previous record's hash, so a changed, removed or inserted record breaks the
chain at that point (``verify``).
"""

from __future__ import annotations

import getpass
import hmac
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbshare.core.clock import as_utc, utcnow
from pbshare.core.jcs import jcs
from pbshare.core.logs import request_id_var, scrub
from pbshare.security.audit.models import AuditArchive, AuditRecord
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
    # Serialise writers so two records never claim the same place in the chain.
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        db.execute(text("SELECT pg_advisory_xact_lock(7007001)"))
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
        actor_name=(principal.username if principal else None) or actor_name,
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
