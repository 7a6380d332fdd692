"""Saved reports, dashboards and the Excel/CSV files people upload as report sources.

A report is a query spec (``reports.schemas.QuerySpec``) plus how to draw it; a dashboard is a grid of
reports with global filters. Both are shared with roles: a person holding one of ``roles`` may open it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class Report(Base):
    """A report built without SQL: a source, a query spec and a chart (table, pivot, bar, line, pie, KPI, map)."""

    __tablename__ = "report"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    chart: Mapped[str] = mapped_column(String(16), default="table")
    spec: Mapped[dict] = mapped_column(JSON, default=dict)  # QuerySpec as JSON
    options: Mapped[dict] = mapped_column(JSON, default=dict)  # chart options, global-filter columns
    roles: Mapped[list] = mapped_column(JSON, default=list)  # roles that may open it besides its author
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Dashboard(Base):
    """Reports on a grid (x, y, w, h in 12 columns), global filters, an auto-refresh interval."""

    __tablename__ = "report_dashboard"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    tiles: Mapped[list] = mapped_column(JSON, default=list)  # [{report_id, x, y, w, h, title?}]
    filters: Mapped[list] = mapped_column(JSON, default=list)  # global filters shown: date, unit, district
    refresh_seconds: Mapped[int] = mapped_column(Integer, default=0)  # 0: no auto-refresh
    roles: Mapped[list] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ReportUpload(Base):
    """An Excel or CSV file uploaded as a report source; its rows are kept as Parquet under the data dir."""

    __tablename__ = "report_upload"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    columns: Mapped[list] = mapped_column(JSON, default=list)  # [{name, title, type}]
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
