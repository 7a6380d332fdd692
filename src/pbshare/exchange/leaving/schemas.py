"""What leaving closes: the confirmation's list, and what stays readable."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ClosedItem(BaseModel):
    kind: str = Field(description="keys | listener | outbox | api_client | subscription | …")
    id: str
    label: str
    detail: str


class LeavePreview(BaseModel):
    connection_id: str
    connection_name: str
    channel: str
    unit_code: str
    unit_name: str
    state: str
    whole_unit: bool = Field(description="the unit's last open connection: its API clients are disabled too")
    closes: list[ClosedItem]
    kept: list[str]
    done: bool = False


class LeaveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="为何终止 / why the connection is terminated")
    confirm: bool = Field(False, description="须为 true：已看过将关闭的内容 / must be true: the preview was seen")
