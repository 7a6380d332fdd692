"""What the platform told the hub: resources registered in its catalog, and our subscriptions there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class HubRegistration(Base):
    """One of our published open resources registered in the hub's catalog."""

    __tablename__ = "govhub_registration"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    resource_code: Mapped[str] = mapped_column(String(32), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))  # sent | registered | refused
    envelope_id: Mapped[str | None] = mapped_column(String(64), index=True)
    note: Mapped[str | None] = mapped_column(String(500))
    registered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class HubSubscription(Base):
    """Our subscription, through the hub, to another unit's resource (its data then arrives as deliveries)."""

    __tablename__ = "govhub_subscription"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    resource_code: Mapped[str] = mapped_column(String(32), index=True)
    publisher: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # requested | active | refused | ended
    envelope_id: Mapped[str | None] = mapped_column(String(64), index=True)
    hub_subscription_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
