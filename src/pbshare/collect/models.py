"""Import profiles, their runs, SQL datasets and no-code transforms."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class SourceKind(enum.StrEnum):
    csv = "csv"  # CSV 文件
    excel = "excel"  # Excel 工作簿
    database = "database"  # 数据库表或查询
    api = "api"  # REST 接口（JSON，分页）


class LoadMode(enum.StrEnum):
    append = "append"  # 追加
    replace = "replace"  # 覆盖
    upsert = "upsert"  # 按业务主键更新或插入


class RunStatus(enum.StrEnum):
    queued = "queued"  # 排队中
    running = "running"  # 运行中
    succeeded = "succeeded"  # 成功
    failed = "failed"  # 失败


class ImportProfile(Base):
    """A saved import: source, options, mapping, target and mode, re-run in one step."""

    __tablename__ = "collect_profile"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(200))
    source_kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[dict] = mapped_column(JSON, default=dict)
    mapping: Mapped[list] = mapped_column(JSON, default=list)
    target_topic: Mapped[str] = mapped_column(String(63))
    target_table: Mapped[str] = mapped_column(String(63))
    mode: Mapped[str] = mapped_column(String(16), default=LoadMode.append.value)
    key: Mapped[list] = mapped_column(JSON, default=list)
    resource_code: Mapped[str | None] = mapped_column(String(32))
    # incremental database loads: the highest cursor value loaded so far
    watermark: Mapped[dict | None] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ImportRun(Base):
    __tablename__ = "collect_run"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    profile_id: Mapped[str | None] = mapped_column(String(36), index=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_label: Mapped[str] = mapped_column(String(300))
    target: Mapped[str] = mapped_column(String(130))
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.queued.value, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_loaded: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    run_by: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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
