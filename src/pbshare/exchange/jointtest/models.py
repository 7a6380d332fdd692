"""Tables of joint testing: a run of a connection's test plan (its report), one step per round trip, and
each time a connection was put live (on a passed report, or on an administrator's override)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class JointTestRun(Base):
    """One run of a connection's test plan; with its steps it is the joint-test report."""

    __tablename__ = "exchange_jointtest_run"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = mapped_column(ForeignKey("exchange_connection.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="running")  # running | passed | failed
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(String(500))

    steps: Mapped[list[JointTestStep]] = relationship(order_by="JointTestStep.position", lazy="selectin",
                                                      cascade="all, delete-orphan")


class JointTestStep(Base):
    """One round trip: request → answer, delivery → receipt or push → receipt, for one resource."""

    __tablename__ = "exchange_jointtest_step"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("exchange_jointtest_run.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # request | delivery | push
    resource_code: Mapped[str] = mapped_column(String(32))
    resource_name: Mapped[str] = mapped_column(String(200))
    outbox_id: Mapped[str | None] = mapped_column(String(36))  # what we sent (request, push)
    envelope_id: Mapped[str | None] = mapped_column(String(64))  # its envelope id, or the unit's delivery's
    state: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting | passed | failed
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    failures: Mapped[list] = mapped_column(default=list)  # [{"zh": …, "en": …}]
    detail: Mapped[dict] = mapped_column(default=dict)


class GoLive(Base):
    """A connection put live: on which passed report, or on whose override and why (also audited)."""

    __tablename__ = "exchange_golive"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = mapped_column(ForeignKey("exchange_connection.id"), index=True)
    report_id: Mapped[str | None] = mapped_column(String(36))
    override_reason: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
