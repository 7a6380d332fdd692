"""Tables of cases: debtors (identifiers sealed, with a blind index) and their bankruptcy cases."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id
from pbshare.exchange.cases.enums import CaseStage


class Debtor(Base):
    """A natural person in a bankruptcy case. Identifiers are stored sealed, with a blind index."""

    __tablename__ = "debtor"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    id_no_sealed: Mapped[str] = mapped_column(Text)
    id_no_index: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    id_no_masked: Mapped[str] = mapped_column(String(32))
    phone_sealed: Mapped[str | None] = mapped_column(Text)
    address_sealed: Mapped[str | None] = mapped_column(Text)
    address_masked: Mapped[str | None] = mapped_column(String(100))
    # Demo and test people: never real (names carry the 演示 prefix too).
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BankruptcyCase(Base):
    __tablename__ = "bankruptcy_case"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_no: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    debtor_id: Mapped[str] = mapped_column(ForeignKey("debtor.id"), index=True)
    court_unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    procedure: Mapped[str] = mapped_column(String(16))  # 清算 / 重整 / 和解
    stage: Mapped[str] = mapped_column(String(16), default=CaseStage.accepted.value)
    accepted_on: Mapped[date] = mapped_column(Date)
    handler_user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    debtor: Mapped[Debtor] = relationship(lazy="joined")


class CaseDecision(Base):
    """A decision on a case that units act on: administrator appointed, a restriction decided (and lifted),
    discharge decided, public display started (and ended). Each one is a case event (``cases.events``)."""

    __tablename__ = "case_decision"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("bankruptcy_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # administrator | restriction | discharge | public_display
    decision_no: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(default=dict)  # restriction, administrator, result … (no identifiers)
    effective_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)  # a restriction lifted, a display ended
    decided_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
