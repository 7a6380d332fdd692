"""Data models a person designs (数据模型) and their form versions, plus the history of every record.

The records themselves live in a warehouse table (topic ``forms``, table ``f_<code>``), so SQL datasets,
transforms, quality rules and reports see them like any other table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id

BIGID = BigInteger().with_variant(Integer, "sqlite")


class DataModel(Base):
    """A model: its draft definition (fields and layout) and the version published last."""

    __tablename__ = "forms_model"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(String(63))
    table_name: Mapped[str] = mapped_column(String(63))
    fields: Mapped[list] = mapped_column(JSON, default=list)  # the draft's fields
    layout: Mapped[dict] = mapped_column(JSON, default=dict)  # the draft's layout {columns, sections, tabs}
    access: Mapped[dict] = mapped_column(JSON, default=dict)  # {read|enter|edit|export: [roles]}
    published_version: Mapped[int] = mapped_column(Integer, default=0)  # 0: never published
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ModelVersion(Base):
    """One published version of a model's fields and layout."""

    __tablename__ = "forms_version"
    __table_args__ = (UniqueConstraint("model_id", "version", name="uq_forms_version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list] = mapped_column(JSON, default=list)
    layout: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(String(200))
    published_by: Mapped[str | None] = mapped_column(String(100))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RecordChange(Base):
    """One change of one record: who, when, what (old → new per field, sealed: values may be personal)."""

    __tablename__ = "forms_record_change"
    __table_args__ = (Index("ix_forms_record_change_record", "model_id", "record_id"),)

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(String(36))
    record_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(16))  # create | update | delete | restore | import | convert
    changed_by: Mapped[str | None] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changes_sealed: Mapped[str | None] = mapped_column(Text)  # {"field": [old, new]} as JSON, sealed
