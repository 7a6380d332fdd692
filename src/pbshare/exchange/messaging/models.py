"""Tables of messaging: the outbox (with dead letters), the inbox and refused messages.

The outbox holds every envelope we send (written in the same transaction as the change that caused
it); the inbox holds every envelope we accepted, with a unique key on the envelope id so a duplicate
is recognised before anything acts on it; ``exchange_rejected`` keeps every message we refused, byte
for byte (sealed), with the reason. Each row points at its connection (``exchange_connection``).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class OutboxState(enum.StrEnum):
    pending = "pending"  # 待发送
    sent = "sent"  # 已发送，待回执
    delivered = "delivered"  # 已送达（收到回执）
    refused = "refused"  # 对方以错误消息拒收
    dead = "dead"  # 重试用尽，进入死信


class InboxState(enum.StrEnum):
    received = "received"
    processed = "processed"
    failed = "failed"


class OutboxMessage(Base):
    __tablename__ = "exchange_outbox"
    __table_args__ = (Index("ix_exchange_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    envelope_id: Mapped[str] = mapped_column(String(64), unique=True)
    connection_id: Mapped[str] = mapped_column(ForeignKey("exchange_connection.id"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    receiver: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str | None] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload_sealed: Mapped[str] = mapped_column(Text)  # the envelope before signing, sealed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InboxMessage(Base):
    __tablename__ = "exchange_inbox"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    envelope_id: Mapped[str] = mapped_column(String(64), unique=True)
    connection_id: Mapped[str] = mapped_column(ForeignKey("exchange_connection.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str | None] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    digest: Mapped[str] = mapped_column(String(64))  # SM3 of the canonical form without sig/created_at
    body_sealed: Mapped[str] = mapped_column(Text)  # the envelope as received (payload decrypted), sealed
    state: Mapped[str] = mapped_column(String(16), default=InboxState.received.value)
    result: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RejectedMessage(Base):
    """A message we refused, kept with the reason and the error envelope we answered with."""

    __tablename__ = "exchange_rejected"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str | None] = mapped_column(ForeignKey("exchange_connection.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(String(500))
    field: Mapped[str | None] = mapped_column(String(64))
    answers_id: Mapped[str | None] = mapped_column(String(64))
    sender: Mapped[str | None] = mapped_column(String(64))
    peer: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    raw_sealed: Mapped[str] = mapped_column(Text)
    reply: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
