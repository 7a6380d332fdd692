"""Catalog tables. The foundation holds units; the catalog issue adds resources and items."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class UnitKind(enum.StrEnum):
    office = "office"  # 市破产事务管理署
    court = "court"  # 人民法院
    natural_resources = "natural_resources"  # 规划和自然资源 / 不动产
    housing = "housing"  # 住房和建设
    public_security = "public_security"  # 公安
    civil_affairs = "civil_affairs"  # 民政
    market_regulation = "market_regulation"  # 市场监督管理
    social_security = "social_security"  # 人力资源和社会保障
    provident_fund = "provident_fund"  # 住房公积金
    tax = "tax"  # 税务
    medical_security = "medical_security"  # 医疗保障
    credit = "credit"  # 信用中心
    gov_data_authority = "gov_data_authority"  # 政务服务和数据管理局
    gov_hub = "gov_hub"  # 政务信息资源共享平台
    other = "other"


class SharingState(enum.StrEnum):
    negotiating = "negotiating"  # 协商中
    integrated = "integrated"  # 已接入
    left = "left"  # 已退出


class Unit(Base):
    """A data source unit (数源单位); the office itself is a unit too."""

    __tablename__ = "unit"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default=UnitKind.other.value)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    state: Mapped[str] = mapped_column(String(16), default=SharingState.negotiating.value)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
