"""The saved import profile's table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.collect.enums import LoadMode
from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class ImportProfile(Base):
    """A saved import: source, options, mapping, target and mode, re-run in one step."""

    __tablename__ = "collect_profile"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(200))
    source_kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[dict] = mapped_column(JSON, default=dict)
    mapping: Mapped[list] = mapped_column(JSON, default=list)
    target_topic: Mapped[str] = mapped_column(String(63))
    target_table: Mapped[str] = mapped_column(String(63))
    mode: Mapped[str] = mapped_column(String(16), default=LoadMode.append.value)
    key: Mapped[list] = mapped_column(JSON, default=list)
    resource_code: Mapped[str | None] = mapped_column(String(32))
    # incremental database loads: the highest cursor value loaded so far
    watermark: Mapped[dict | None] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
