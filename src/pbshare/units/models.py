"""The unit registry: the office and every data source unit (数源单位)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id
from pbshare.units.enums import SharingState, UnitKind


class Unit(Base):
    """A data source unit (数源单位); the office itself is a unit too."""

    __tablename__ = "unit"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default=UnitKind.other.value)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    state: Mapped[str] = mapped_column(String(16), default=SharingState.negotiating.value)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # catalog_0001: people to call and the systems the unit connects (name, kind, address)
    contacts: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    systems: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
