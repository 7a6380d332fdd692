"""Request API shapes: what a handler sends, what the case page and the portal show."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime
from pbshare.exchange.requests.enums import RequestKind, VerifyResult


class CheckValueIn(BaseModel):
    resource: str = Field(min_length=1, max_length=32, description="资源代码 / resource code")
    values: dict[str, str] = Field(min_length=1, max_length=20,
                                   description="信息项代码 → 待核查的值 / info item code → value to check")


class RequestIn(BaseModel):
    kind: RequestKind = RequestKind.query
    resources: list[str] = Field(min_length=1, max_length=20, description="资源代码 / catalog resource codes")
    subjects: list[str] | None = Field(None, max_length=5, description="债务人 id；默认为本案债务人 / debtor ids "
                                                                       "(default: the case's debtor)")
    purpose: str = Field(min_length=4, max_length=500)
    legal_basis: str = Field(min_length=2, max_length=500)
    due_on: date | None = Field(None, description="默认按资源的答复时限（如 5 个工作日）/ default: the resource's "
                                                  "answer time in working days")
    check_values: list[CheckValueIn] = Field(default_factory=list, max_length=50)
    submit: bool = Field(True, description="立即提交并发送 / submit and send at once (false: keep as draft)")


class RejectIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class ResultIn(BaseModel):
    index: int = Field(ge=0, description="核查值的序号 / which value to check (0-based)")
    result: VerifyResult
    note: str | None = Field(None, max_length=500)


class AnswerIn(BaseModel):
    records: list[dict[str, Any]] = Field(default_factory=list, max_length=1000,
                                          description="查询：按资源信息项填写的记录 / query: records in the resource's items")
    results: list[ResultIn] = Field(default_factory=list, max_length=100,
                                    description="核查：每个核查值的结果 / verification: a result per value")
    note: str | None = Field(None, max_length=500)


class SubjectOut(BaseModel):
    debtor_id: str
    name: str
    id_no: str = Field(description="masked unless shown in full with a purpose")
    masked: bool = True


class InfoItemOut(BaseModel):
    code: str
    name: str
    type: str
    length: int | None = None
    values: list[str] | None = None
    pii: bool = False
    id_kind: str | None = None


class EventOut(BaseModel):
    at: UtcDateTime
    actor: str
    from_state: str | None
    to_state: str
    to_label: str
    note: str | None


class ReminderOut(BaseModel):
    id: str
    item_id: str
    kind: str
    label: str
    due_on: date
    created_at: UtcDateTime
    sent: bool


class AnswerOut(BaseModel):
    masked: bool = Field(True, description="identifiers masked, unless shown in full with a purpose")
    records: list[dict[str, Any]] = Field(default_factory=list)
    results: list[dict[str, Any]] = Field(default_factory=list)
    note: str | None = None
    compared: dict[str, Any] | None = Field(None, description="与该单位上次就同一人同一资源的答复相比 / against the "
                                                               "unit's last answer on the same person and resource: "
                                                               "added, removed, unchanged records")
    answered_at: UtcDateTime | None = None
    answered_by: str | None = None
    channel: str | None = None
    message_id: str | None = None
    unit_code: str | None = None


class ItemOut(BaseModel):
    id: str
    request_id: str
    case_id: str
    case_no: str
    kind: str
    kind_label: str
    unit_id: str
    unit_code: str
    unit_name: str
    resource_code: str
    resource_name: str
    state: str
    state_label: str
    allowed: list[str]
    due_on: date
    overdue: bool
    route: str | None
    reject_reason: str | None
    answer: AnswerOut | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ItemDetailOut(ItemOut):
    purpose: str
    legal_basis: str
    subjects: list[SubjectOut]
    check_values: list[dict[str, str]]
    info_items: list[InfoItemOut]
    history: list[EventOut]
    reminders: list[ReminderOut]


class RequestOut(BaseModel):
    id: str
    case_id: str
    kind: str
    kind_label: str
    subjects: list[SubjectOut]
    purpose: str
    legal_basis: str
    due_on: date | None
    check_values: list[CheckValueIn]
    created_by: str
    created_at: UtcDateTime
    items: list[ItemOut]


class CaseRequestsOut(BaseModel):
    requests: list[RequestOut]
    reminders: list[ReminderOut]


class CountsOut(BaseModel):
    todo: int
    overdue: int
    answered: int
    reminders: int = 0


class DueOut(BaseModel):
    resource: str
    due_on: date
    working_days: int


class UploadOut(BaseModel):
    item: ItemDetailOut
    rows: int
