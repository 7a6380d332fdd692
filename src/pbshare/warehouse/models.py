"""The warehouse registry: topic databases (专题库) and the tables in them.

The tables themselves live on the warehouse engine (``core.dynamic.TopicStore``); these rows say
what each one holds, where it came from and which columns carry personal identifiers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id
from pbshare.warehouse.enums import TableOrigin


class TopicDB(Base):
    __tablename__ = "wh_topic"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WarehouseTable(Base):
    """One table in a topic database. ``columns``: ``[{name, type, length, title, pii, id_kind}]``."""

    __tablename__ = "wh_table"
    __table_args__ = (UniqueConstraint("topic", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    topic: Mapped[str] = mapped_column(String(63), index=True)
    name: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(200))
    columns: Mapped[list] = mapped_column(JSON, default=list)
    key: Mapped[list] = mapped_column(JSON, default=list)
    origin: Mapped[str] = mapped_column(String(16), default=TableOrigin.manual.value)
    origin_id: Mapped[str | None] = mapped_column(String(36))
    resource_code: Mapped[str | None] = mapped_column(String(32))
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
