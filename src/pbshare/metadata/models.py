"""Metadata tables: data sources, harvested objects (databases, tables, columns), harvests,
admin-defined metadata types, and lineage edges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class DataSource(Base):
    """A database reached by a SQLAlchemy URL; the URL (with its password) is stored sealed."""

    __tablename__ = "metadata_source"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    dialect: Mapped[str] = mapped_column(String(32))
    url_sealed: Mapped[str] = mapped_column(Text)
    url_display: Mapped[str] = mapped_column(String(500))  # password replaced by ***
    schema_name: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    last_tested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_test_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_test_message: Mapped[str | None] = mapped_column(Text)
    last_harvest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Harvest(Base):
    __tablename__ = "metadata_harvest"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(ForeignKey("metadata_source.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    tables: Mapped[int] = mapped_column(Integer, default=0)
    columns: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)


class MetaObject(Base):
    """One harvested or registered thing: a database, table, column, API, file ... (see MetaType)."""

    __tablename__ = "metadata_object"
    __table_args__ = (UniqueConstraint("qualified_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    type_code: Mapped[str] = mapped_column(String(32), index=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("metadata_source.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("metadata_object.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    qualified_name: Mapped[str] = mapped_column(String(500))
    comment: Mapped[str | None] = mapped_column(Text)
    harvested: Mapped[dict] = mapped_column(JSON, default=dict)  # data_type, nullable, pk, fks, row_count ...
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)  # values of the admin-defined attributes
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MetaType(Base):
    """A metadata type (database, table, column, resource, api, file, or the admin's own) and its
    attributes: ``[{code, label_zh, label_en, type, required, options}]``."""

    __tablename__ = "metadata_type"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    attributes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LineageEdge(Base):
    """``target`` was produced from ``source`` by a job run, an import, a transform ..."""

    __tablename__ = "metadata_lineage"
    __table_args__ = (UniqueConstraint("target", "source", "via_kind", "via_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    target: Mapped[str] = mapped_column(String(300), index=True)
    source: Mapped[str] = mapped_column(String(300), index=True)
    via_kind: Mapped[str] = mapped_column(String(32))
    via_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    first_recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
