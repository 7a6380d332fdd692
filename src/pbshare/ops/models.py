"""Retention policies and destruction records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class RetentionPolicy(Base):
    """How long one kind of personal data is kept (for example 8 years after discharge), then destroyed."""

    __tablename__ = "retention_policy"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    resource: Mapped[str] = mapped_column(String(64))  # what it applies to, e.g. "bankruptcy_case"
    label_zh: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    stages: Mapped[list] = mapped_column(JSON, default=list)  # case stages the rule applies to
    keep_days: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DestructionRecord(Base):
    """What was destroyed, how many, when and by whom: never the data itself."""

    __tablename__ = "destruction_record"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    policy_code: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(32), default="delete")
    cutoff: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
