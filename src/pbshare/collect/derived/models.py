"""Tables of the derived-table definitions: SQL datasets and no-code transforms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class Dataset(Base):
    """A user's SELECT, stored in one dialect (``sql_dialect``), materialised into a table on refresh."""

    __tablename__ = "collect_dataset"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(200))
    sql: Mapped[str] = mapped_column(Text)
    sql_dialect: Mapped[str] = mapped_column(String(16), default="postgres")
    target_topic: Mapped[str] = mapped_column(String(63))
    target_table: Mapped[str] = mapped_column(String(63))
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Transform(Base):
    """A no-code transform: tables, joins, filters, groups, aggregates and computed columns (``spec``)."""

    __tablename__ = "collect_transform"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict] = mapped_column(JSON, default=dict)
    target_topic: Mapped[str] = mapped_column(String(63))
    target_table: Mapped[str] = mapped_column(String(63))
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
