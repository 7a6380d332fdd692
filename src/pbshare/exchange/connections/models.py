"""The connection table: a unit × channel × settings × credentials (sealed), with its state and health."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id
from pbshare.exchange.connections.enums import ConnectionState


class ExchangeConnection(Base):
    __tablename__ = "exchange_connection"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), default=ConnectionState.draft.value, index=True)
    settings: Mapped[dict] = mapped_column(default=dict)
    sig_alg: Mapped[str] = mapped_column(String(16), default="HMAC-SM3")
    key_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    # {"secret": hex, "enc_key": hex} sealed with the PII vault; None once the keys are revoked.
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    unit_public_key: Mapped[str | None] = mapped_column(Text)  # SM2 public key of the unit (hex)
    encrypt: Mapped[bool] = mapped_column(Boolean, default=False)
    health: Mapped[str] = mapped_column(String(16), default="unknown")  # ok | down | unknown
    health_detail: Mapped[str | None] = mapped_column(String(500))
    health_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
