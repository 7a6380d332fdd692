"""API clients and their keys, and the nonces that stop a signed request being replayed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class ApiClient(Base):
    """A unit's system that calls the platform with signed requests (role ``api_client``)."""

    __tablename__ = "api_client"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # CIDR blocks the client may call from; empty means any address
    ip_allowlist: Mapped[list] = mapped_column(JSON, default=list)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    keys: Mapped[list[ApiClientKey]] = relationship(
        back_populates="client", cascade="all, delete-orphan", lazy="selectin", order_by="ApiClientKey.created_at"
    )


class ApiClientKey(Base):
    """One key of an API client. During a rotation two keys are valid until the old one's ``expires_at``."""

    __tablename__ = "api_client_key"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"), index=True)
    alg: Mapped[str] = mapped_column(String(16))  # HMAC-SM3 | SM2-SM3
    secret_sealed: Mapped[str | None] = mapped_column(Text)  # HMAC shared secret, sealed with the data key
    public_key_hex: Mapped[str | None] = mapped_column(String(140))  # SM2 public key (x||y, hex)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    client: Mapped[ApiClient] = relationship(back_populates="keys")


class ApiNonce(Base):
    """Nonces seen from API clients inside the time window; the unique key refuses a replay."""

    __tablename__ = "api_nonce"
    __table_args__ = (UniqueConstraint("client_id", "nonce"), Index("ix_api_nonce_client_seen", "client_id", "seen_at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(36))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
