"""Retention policies in and out, destruction records out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pbshare.core.clock import UtcDateTime


class RetentionPolicyOut(BaseModel):
    code: str
    resource: str
    label_zh: str
    label_en: str
    stages: list[str]
    keep_days: int
    is_active: bool


class RetentionPolicyIn(BaseModel):
    keep_days: int | None = Field(default=None, ge=30, le=36500)
    is_active: bool | None = None


class DestructionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    at: UtcDateTime
    policy_code: str
    resource: str
    count: int
    method: str
    cutoff: UtcDateTime
    actor: str
    detail: dict
