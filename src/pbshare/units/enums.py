"""Kinds of unit and the states of a unit's sharing (共享状态)."""

from __future__ import annotations

import enum


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
