"""Quality reports: one per import run or received delivery, its rules' outcomes, and the scoring settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class QualityReport(Base):
    """What one delivery's checks found: dimension scores, the overall score, the verdict (and any override)."""

    __tablename__ = "quality_report"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subject_kind: Mapped[str] = mapped_column(String(16), index=True)  # import_run | delivery
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    resource_code: Mapped[str | None] = mapped_column(String(32), index=True)
    unit_code: Mapped[str | None] = mapped_column(String(32), index=True)
    target: Mapped[str | None] = mapped_column(String(130))
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    error_rows: Mapped[int] = mapped_column(BigInteger, default=0)  # rows kept out (quarantined)
    warning_rows: Mapped[int] = mapped_column(BigInteger, default=0)  # rows loaded and flagged
    score: Mapped[float | None] = mapped_column(Float)  # 0–100; null when nothing was checked
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # {dimension: 0–100 | null}
    checks: Mapped[dict] = mapped_column(JSON, default=dict)  # {dimension: {"checked": n, "failed": n}}
    weights: Mapped[dict] = mapped_column(JSON, default=dict)  # the weights this score used
    reject_share: Mapped[float] = mapped_column(Float)  # the error-row share above which it was rejected
    verdict: Mapped[str] = mapped_column(String(32), index=True)  # in force (after any override)
    computed_verdict: Mapped[str] = mapped_column(String(32))  # what the rules gave
    verdict_reason: Mapped[str] = mapped_column(Text)  # why, in both languages
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by: Mapped[str | None] = mapped_column(String(64))
    overridden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    rules: Mapped[list[QualityReportRule]] = relationship(order_by="QualityReportRule.position",
                                                          cascade="all, delete-orphan", lazy="selectin")


class QualityReportRule(Base):
    """One rule's outcome in one report: rows checked and failed, and a masked sample of the failing rows."""

    __tablename__ = "quality_report_rule"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("quality_report.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(400))
    dimension: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    columns: Mapped[list] = mapped_column(JSON, default=list)
    set_level: Mapped[bool] = mapped_column(Boolean, default=False)  # judges the delivery as a whole (volume …)
    checked: Mapped[int] = mapped_column(BigInteger, default=0)
    failed: Mapped[int] = mapped_column(BigInteger, default=0)
    sample: Mapped[list] = mapped_column(JSON, default=list)  # [{"line", "key", "value"}], identifiers masked
    skipped: Mapped[str | None] = mapped_column(String(64))  # why it could not run (no previous delivery …)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # set rules: share, previous rows, change …


class QualityScoring(Base):
    """The weights of the overall score and the rejection threshold; one row (id 1), defaults in ``scoring``."""

    __tablename__ = "quality_scoring"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    weights: Mapped[dict] = mapped_column(JSON, default=dict)
    reject_share: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
