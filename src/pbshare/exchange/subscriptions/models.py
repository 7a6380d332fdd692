"""Subscriptions (a unit × an outbound resource × filters × a connection) and what each was sent.

What a subscriber was sent is a row per case event in ``exchange_subscription_delivery`` pointing at
its outbox message; whether and when it was acknowledged is the outbox message's state (a receipt
marks it delivered), so nothing here is updated twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class Subscription(Base):
    __tablename__ = "exchange_subscription"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(32), index=True)
    connection_id: Mapped[str] = mapped_column(ForeignKey("exchange_connection.id"), index=True)
    # {"districts": ["440304"], "procedures": ["清算"], "events": ["restriction_decided"]}; empty: everything
    filters: Mapped[dict] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending | active | rejected | ended
    purpose: Mapped[str] = mapped_column(String(500))  # why the unit needs it (the application's reason)
    source: Mapped[str] = mapped_column(String(16), default="office")  # office | portal | hub
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SubscriptionDelivery(Base):
    __tablename__ = "exchange_subscription_delivery"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("exchange_subscription.id", ondelete="CASCADE"),
                                                 index=True)
    outbox_id: Mapped[str | None] = mapped_column(ForeignKey("exchange_outbox.id"), index=True)
    envelope_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    case_no: Mapped[str | None] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))
    event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))  # queued | not_sent (the connection was not live)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
