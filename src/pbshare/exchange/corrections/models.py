"""Tables of corrections: a correction request to a unit, and each thing that happened to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class Correction(Base):
    """The office asks a unit to correct what it sent: a delivery, an answer, or rows that failed a rule."""

    __tablename__ = "exchange_correction"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(16))  # delivery | answer | rows
    subject_id: Mapped[str] = mapped_column(String(64), index=True)  # envelope id | request item id | report id
    resource_code: Mapped[str | None] = mapped_column(String(32), index=True)
    quality_report_id: Mapped[str | None] = mapped_column(String(36), index=True)
    original_envelope_id: Mapped[str | None] = mapped_column(String(64))  # the delivery or answer corrected
    original_run_id: Mapped[str | None] = mapped_column(String(36))
    what: Mapped[str] = mapped_column(Text)  # what is wrong, in the raiser's words (masked)
    rows: Mapped[list] = mapped_column(default=list)  # [{"line": n, "key": {...masked}, "reason": "..."}]
    rules: Mapped[list] = mapped_column(default=list)  # [{"name", "failed", "columns"}]
    # suggested (from a rejected report, not yet raised) | sent (correction envelope) | waiting (portal)
    # | answered (corrected data came) | closed | withdrawn
    state: Mapped[str] = mapped_column(String(16), index=True)
    route: Mapped[str | None] = mapped_column(String(32))  # the channel, or "portal"
    connection_id: Mapped[str | None] = mapped_column(ForeignKey("exchange_connection.id"))
    envelope_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # our correction envelope
    answer_envelope_id: Mapped[str | None] = mapped_column(String(64), index=True)
    answer_run_id: Mapped[str | None] = mapped_column(String(36))
    comparison: Mapped[dict] = mapped_column(default=dict)  # before → after: counts, flags, comparison id
    answer_rows_sealed: Mapped[str | None] = mapped_column(Text)  # a portal answer's rows, sealed
    due_on: Mapped[str | None] = mapped_column(String(10))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    close_note: Mapped[str | None] = mapped_column(String(500))

    events: Mapped[list[CorrectionEvent]] = relationship(order_by="CorrectionEvent.at", lazy="selectin",
                                                         cascade="all, delete-orphan")


class CorrectionEvent(Base):
    __tablename__ = "exchange_correction_event"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    correction_id: Mapped[str] = mapped_column(ForeignKey("exchange_correction.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
