"""The audit log's tables: the chained records and the checkpoints of archived ranges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base


class AuditArchive(Base):
    """A batch of audit records moved to a signed file; the chain continues from ``last_hash``."""

    __tablename__ = "audit_archive"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    from_seq: Mapped[int] = mapped_column(BigInteger)
    to_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    count: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sm3: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))  # HMAC-SM3 over the checkpoint, keyed by the audit key
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))


class AuditRefusalTally(Base):
    """How many identical refusals one minute saw. Only the first is a chained record (``record_seq``);
    the repeats are counted here, so a flood neither fills the disk nor touches the chain."""

    __tablename__ = "audit_refusal_tally"

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)  # SM3 of what, who, where, which minute
    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    record_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)


class AuditRecord(Base):
    __tablename__ = "audit_record"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor_name: Mapped[str | None] = mapped_column(String(64))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64), index=True)
    object_id: Mapped[str | None] = mapped_column(String(128), index=True)
    result: Mapped[str] = mapped_column(String(16), default="ok")
    purpose: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
