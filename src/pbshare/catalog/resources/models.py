"""Resource tables: the working copy with its GB/T 21063.3 core metadata, info items, consents and
published versions."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbshare.catalog.resources.enums import ResourceState
from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id

if TYPE_CHECKING:
    from pbshare.units.models import Unit


class Resource(Base):
    """The working copy of one catalog resource; published versions are frozen in ``ResourceVersion``."""

    __tablename__ = "catalog_resource"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    classification: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    abstract: Mapped[str | None] = mapped_column(Text)
    provider_unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    receivers: Mapped[list] = mapped_column(JSON, default=list)
    share_type: Mapped[str] = mapped_column(String(16))
    share_condition: Mapped[str | None] = mapped_column(Text)
    methods: Mapped[list] = mapped_column(JSON, default=list)
    open_scope: Mapped[str] = mapped_column(String(16))
    frequency: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(16))
    key: Mapped[list] = mapped_column(JSON, default=list)
    related: Mapped[list] = mapped_column(JSON, default=list)
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=ResourceState.draft.value, index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)  # latest published version number
    consultation_round: Mapped[int] = mapped_column(Integer, default=0)
    publish_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    provider: Mapped[Unit] = relationship(lazy="joined")
    items: Mapped[list[InfoItem]] = relationship(order_by="InfoItem.position", cascade="all, delete-orphan",
                                                 lazy="selectin")


class InfoItem(Base):
    __tablename__ = "catalog_info_item"
    __table_args__ = (UniqueConstraint("resource_id", "code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    resource_id: Mapped[str] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(16))
    length: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    pii: Mapped[bool] = mapped_column(Boolean, default=False)
    id_kind: Mapped[str | None] = mapped_column(String(16))
    values: Mapped[list | None] = mapped_column(JSON)


class Consent(Base):
    """One party's opinion in one consultation round of a resource (source unit or data authority)."""

    __tablename__ = "catalog_consent"
    __table_args__ = (UniqueConstraint("resource_id", "round", "unit_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    resource_id: Mapped[str] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"))
    role: Mapped[str] = mapped_column(String(16))  # source | receiver | authority
    agreed: Mapped[bool] = mapped_column(Boolean)
    decided_on: Mapped[date] = mapped_column(Date)
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The office recorded the unit's opinion for it (a letter, a meeting): marked so, with the evidence.
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[str | None] = mapped_column(Text)
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_file: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    unit: Mapped[Unit] = relationship(lazy="joined")


class ResourceVersion(Base):
    """A published version, frozen as the resource's document (the import/export shape)."""

    __tablename__ = "catalog_resource_version"
    __table_args__ = (UniqueConstraint("resource_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    resource_id: Mapped[str] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    consents: Mapped[list] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(64))
