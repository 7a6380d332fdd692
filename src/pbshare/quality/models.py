"""Quarantine: rows that failed a conversion or a check are kept here, never dropped.

A row fixed in the browser and loaded, or discarded, stays as a record of who resolved it and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base


class QuarantineRow(Base):
    """One bad source row. The row itself is sealed (it may hold ID numbers); reasons never do."""

    __tablename__ = "quality_quarantine"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    profile_id: Mapped[str | None] = mapped_column(String(36), index=True)
    target: Mapped[str] = mapped_column(String(130))
    line_no: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    source_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Open while null; "loaded" (fixed and loaded into the target) or "discarded", by whom and when.
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
