"""Stored rule sets: one per catalog resource or per import profile, each an ordered list of rules.

A resource with no stored set gets one derived from its info items on every read; saving it (even
unchanged, or emptied) stores it, and from then on the stored set is what runs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class RuleSet(Base):
    """Whose rules these are: exactly one of ``resource_code`` and ``profile_id`` is set."""

    __tablename__ = "quality_rule_set"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    resource_code: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)
    profile_id: Mapped[str | None] = mapped_column(String(36), unique=True, index=True)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    rules: Mapped[list[StoredRule]] = relationship(back_populates="rule_set", cascade="all, delete-orphan",
                                                   order_by="StoredRule.position")


class StoredRule(Base):
    """One rule. ``columns``: list of column names; ``params``: the kind's parameters (see engine.validate_rule)."""

    __tablename__ = "quality_rule"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    set_id: Mapped[str] = mapped_column(ForeignKey("quality_rule_set.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(32))
    columns: Mapped[list] = mapped_column(JSON, default=list)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    severity: Mapped[str] = mapped_column(String(16), default="error")
    dimension: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    rule_set: Mapped[RuleSet] = relationship(back_populates="rules")
