"""Tables of requests to units: the request, its items (one per unit × resource), their history and reminders."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id
from pbshare.exchange.requests.enums import ItemState


class InfoRequest(Base):
    """A case handler's request about the case's debtor: what is wanted, why, on what legal basis."""

    __tablename__ = "info_request"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("bankruptcy_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # [{"debtor_id", "name"}]: the persons asked about; their ID numbers stay sealed on the debtor
    subjects: Mapped[list] = mapped_column(default=list)
    purpose: Mapped[str] = mapped_column(String(500))
    legal_basis: Mapped[str] = mapped_column(String(500))
    # 核查: [{"resource", "values": {item: value}}] sealed (they may describe a person's property)
    check_values_sealed: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)  # None: each item's resource decides
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    items: Mapped[list[RequestItem]] = relationship(back_populates="request", order_by="RequestItem.resource_code",
                                                    cascade="all, delete-orphan", passive_deletes=True)


class RequestItem(Base):
    """What one unit is asked for one resource, and its answer with provenance."""

    __tablename__ = "info_request_item"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(ForeignKey("info_request.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=ItemState.draft.value, index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    # how it went out: a connection's channel, or "portal" for a unit without a live connection
    route: Mapped[str | None] = mapped_column(String(32))
    connection_id: Mapped[str | None] = mapped_column(ForeignKey("exchange_connection.id"))
    envelope_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the request envelope sent
    check_count: Mapped[int] = mapped_column(Integer, default=0)  # 核查: how many values to check (not the values)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    # the answer: records (query) or results (verification), identifiers masked; in full sealed
    answer: Mapped[dict | None] = mapped_column()
    answer_sealed: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by: Mapped[str | None] = mapped_column(String(64))  # operator's user name, or the unit's system
    answer_channel: Mapped[str | None] = mapped_column(String(32))  # portal | upload | rest | amqp …
    answer_message_id: Mapped[str | None] = mapped_column(String(64))  # the response envelope's id
    answer_unit_code: Mapped[str | None] = mapped_column(String(32))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    request: Mapped[InfoRequest] = relationship(back_populates="items")


class RequestItemEvent(Base):
    """One step of an item's history: who moved it from which state to which, and why."""

    __tablename__ = "info_request_event"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    item_id: Mapped[str] = mapped_column(ForeignKey("info_request_item.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))


class RequestReminder(Base):
    """An item nearing or passing its due date; shown to the unit and the handler (once per kind)."""

    __tablename__ = "info_request_reminder"
    __table_args__ = (UniqueConstraint("item_id", "kind"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    item_id: Mapped[str] = mapped_column(ForeignKey("info_request_item.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    sent_envelope_id: Mapped[str | None] = mapped_column(String(64))  # the message on the unit's channel
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
