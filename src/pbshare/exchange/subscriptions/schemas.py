"""Subscription API shapes."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime


class Filters(BaseModel):
    districts: list[str] = Field(default_factory=list, max_length=20,
                                 description="行政区划代码（6 位，取自债务人身份证号前 6 位），如 440304 福田区；空：不限")
    procedures: list[str] = Field(default_factory=list, max_length=3, description="案件类型：清算 / 重整 / 和解；空：不限")
    events: list[str] = Field(default_factory=list, max_length=10, description="只要这些案件事件；空：该资源的全部事件")


class SubscriptionIn(BaseModel):
    unit_code: str = Field(min_length=2, max_length=32, description="订阅单位编码，如 SZPSB")
    resource_code: str = Field(min_length=1, max_length=32, description="本署的出向资源，如 801002")
    channel: str = Field(min_length=2, max_length=32, description="用单位哪条通道接收：rest / amqp / mqtt / nats / soap / socket")
    filters: Filters = Field(default_factory=Filters)
    purpose: str = Field(min_length=4, max_length=500, description="用途（有条件共享的资源须说明）")


class DecisionIn(BaseModel):
    approve: bool
    reason: str = Field(min_length=2, max_length=500, description="同意或驳回的理由")


class EndIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class SubscriptionOut(BaseModel):
    id: str
    unit_id: str
    unit_code: str
    unit_name: str
    resource_code: str
    resource_name: str
    share_type: str
    connection_id: str
    channel: str
    connection_state: str
    filters: Filters
    state: str
    state_label: str
    purpose: str
    source: str
    decided_by: str | None
    decision_reason: str | None
    decided_at: UtcDateTime | None
    ended_at: UtcDateTime | None
    ended_reason: str | None
    created_by: str
    created_at: UtcDateTime
    sent: int = 0
    acknowledged: int = 0


class DeliveryOut(BaseModel):
    id: str
    subscription_id: str
    unit_code: str
    resource_code: str
    case_no: str | None
    event: str
    event_label: str
    event_at: UtcDateTime
    state: str = Field(description="queued | not_sent, then the outbox's pending | sent | delivered | refused | dead")
    acknowledged: bool
    envelope_id: str | None
    outbox_id: str | None
    attempts: int
    sent_at: UtcDateTime | None
    acknowledged_at: UtcDateTime | None
    late_seconds: float | None = Field(description="from the event to the receipt (or to now while unacknowledged)")
    note: str | None


class SubscriberSummary(BaseModel):
    unit_code: str
    unit_name: str
    subscriptions: int
    sent: int
    acknowledged: int
    waiting: int
    failed: int
    max_late_seconds: float | None
    avg_late_seconds: float | None


class DecisionCreate(BaseModel):
    kind: str = Field(description="administrator | restriction | discharge | public_display")
    decision_no: str = Field(min_length=1, max_length=64)
    effective_on: date
    restriction: str | None = Field(None, description="限制高消费 / 限制出境 / 限制担任董事监事高管 / 限制新增借款")
    administrator: str | None = Field(None, max_length=200)
    result: str | None = Field(None, description="免责结果：考察中 / 已免责 / 不予免责 / 撤销免责")
    probation_from: date | None = None
    probation_to: date | None = None
    display_until: date | None = None


class DecisionEnd(BaseModel):
    ended_on: date


class DecisionOut(BaseModel):
    id: str
    case_id: str
    kind: str
    decision_no: str
    detail: dict[str, str | int | float | bool | None]
    effective_on: date
    ended_on: date | None
    decided_by: str
    created_at: UtcDateTime
    deliveries: int = Field(0, description="deliveries to subscribers this decision caused")
