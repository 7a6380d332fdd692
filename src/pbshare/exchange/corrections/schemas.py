"""Correction shapes: raising one, the unit's portal answer, and what the UI shows."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime


class RowRef(BaseModel):
    line: int | None = Field(None, ge=1, description="行号（交付中的第几行）/ the row's line in the delivery")
    key: dict[str, Any] | None = Field(None, description="业务主键的值（显示时脱敏）/ the row's business key")
    reason: str | None = Field(None, max_length=500, description="该行的问题 / what is wrong with it")


class CorrectionIn(BaseModel):
    subject_kind: Literal["delivery", "answer", "rows"] = Field(
        description="delivery: 交付消息 id；answer: 请求事项 id；rows: 质量报告 id / what subject_id names")
    subject_id: str = Field(min_length=1, max_length=64)
    what: str = Field(min_length=2, max_length=4000, description="哪里有误、应如何更正 / what is wrong")
    rows: list[RowRef] = Field(default_factory=list, max_length=1000)
    rule: str | None = Field(None, max_length=400, description="未通过的规则 / the rule that failed")
    due_on: date | None = None


class FromReportIn(BaseModel):
    what: str | None = Field(None, max_length=4000)


class PortalAnswerIn(BaseModel):
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=5000,
                                       description="更正后的记录，按资源信息项代码 / corrected records by info item code")
    note: str | None = Field(None, max_length=500)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class CloseIn(BaseModel):
    note: str | None = Field(None, max_length=500)


class EventOut(BaseModel):
    state: str
    state_label: str
    actor: str
    note: str | None
    at: UtcDateTime


class CorrectionOut(BaseModel):
    id: str
    unit_code: str
    unit_name: str
    subject_kind: str
    subject_label: str
    subject_id: str
    resource_code: str | None
    quality_report_id: str | None
    original_envelope_id: str | None
    original_run_id: str | None
    what: str
    rows: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    state: str
    state_label: str
    route: str | None
    envelope_id: str | None
    answer_envelope_id: str | None
    answer_run_id: str | None
    comparison: dict[str, Any] = Field(description="before → after: added/removed/changed/unchanged, comparison_id")
    due_on: date | None
    created_by: str
    created_at: UtcDateTime
    answered_at: UtcDateTime | None
    closed_at: UtcDateTime | None
    closed_by: str | None
    close_note: str | None
    events: list[EventOut]
