"""Joint-test shapes: a report (run) with its steps, and whether a connection may go live now."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime


class StepOut(BaseModel):
    id: str
    position: int
    kind: str = Field(description="request | delivery | push")
    kind_label: str
    resource_code: str
    resource_name: str
    envelope_id: str | None
    state: str = Field(description="waiting | passed | failed")
    state_label: str
    sent_at: UtcDateTime | None
    answered_at: UtcDateTime | None
    elapsed_ms: int | None
    failures: list[str]
    detail: dict[str, Any]


class RunOut(BaseModel):
    id: str
    connection_id: str
    state: str = Field(description="running | passed | failed")
    state_label: str
    started_by: str
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    passed: int
    failed: int
    waiting: int
    steps: list[StepOut]


class GoLiveStatusOut(BaseModel):
    connection_id: str
    state: str
    can_go_live: bool
    reason: str | None = Field(None, description="why the go-live button is disabled")
    latest_report: RunOut | None


class GoLiveIn(BaseModel):
    override_reason: str | None = Field(None, max_length=500, description="管理员强制上线的理由 / the administrator's "
                                        "reason to go live without a passed report")

