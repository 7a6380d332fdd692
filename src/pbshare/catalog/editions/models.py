"""Edition tables: named sets of published versions, and the catalog's header row."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class Edition(Base):
    """A named, dated set of published versions (e.g. "2022 年版")."""

    __tablename__ = "catalog_edition"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    edition_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))
    version_ids: Mapped[list] = mapped_column(JSON, default=list)


class CatalogInfo(Base):
    """The catalog's own header (name, version, publisher): one row, kept so export gives back what
    was imported."""

    __tablename__ = "catalog_info"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str | None] = mapped_column(String(32))
    publisher: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
