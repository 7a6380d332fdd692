"""Pipelines, schedules and runs in and out of the API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pbshare.core.clock import UtcDateTime


class StepIn(BaseModel):
    kind: str = Field(max_length=32)
    name: str | None = Field(None, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    on_error: str = Field("stop", pattern="^(stop|continue)$", description="a failing step stops the pipeline or not")
    retries: int = Field(0, ge=0, le=10)
    retry_delay_s: float = Field(5, ge=0, le=3600, description="first back-off; doubles on each retry")
    timeout_s: float = Field(3600, gt=0, le=24 * 3600)


class PipelineIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(None, max_length=2000)
    steps: list[StepIn] = Field(min_length=1, max_length=50)


class PipelineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    description: str | None
    steps: list[dict[str, Any]]
    created_by: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ScheduleIn(BaseModel):
    pipeline_id: str
    picker: dict[str, Any] = Field(description='{"kind": "hourly", "minute": 5} | {"kind": "daily", "time": "02:00"} | '
                                               '{"kind": "weekly", "weekdays": [1, 5], "time": "08:30"} | '
                                               '{"kind": "monthly", "day": 1 | "last", "time": "03:00"} | '
                                               '{"kind": "cron", "cron": "0 2 * * *"}')
    timezone: str = "Asia/Shanghai"
    enabled: bool = True
    catch_up: str = Field("skip", pattern="^(skip|once)$", description="after downtime: skip missed times or run once")


class PreviewIn(BaseModel):
    picker: dict[str, Any]
    timezone: str = "Asia/Shanghai"


class PreviewOut(BaseModel):
    cron: str
    description: str
    next: list[UtcDateTime]


class ScheduleOut(BaseModel):
    id: str
    pipeline_id: str
    pipeline_name: str
    picker: dict[str, Any]
    cron: str
    description: str
    timezone: str
    enabled: bool
    catch_up: str
    next_fire_at: UtcDateTime | None
    next: list[UtcDateTime] = Field(default_factory=list)


class RunStepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    position: int
    kind: str
    name: str
    state: str
    attempts: int
    rows: int | None
    output: str | None
    log: str
    error: str | None
    progress_done: int | None = None
    progress_total: int | None = None
    progress_unit: str | None = None
    summary: dict[str, Any] | None = None
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    seconds: float | None


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    pipeline_id: str
    pipeline_name: str
    schedule_id: str | None
    fire_at: UtcDateTime | None
    trigger: str
    state: str
    executor: str
    step_count: int
    steps_done: int
    rows: int
    attempt: int
    cancel_requested: bool
    error: str | None
    run_by: str | None
    created_at: UtcDateTime
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    seconds: float | None


class RunDetail(RunOut):
    step_runs: list[RunStepOut] = Field(default_factory=list)


class CalendarEntry(BaseModel):
    at: UtcDateTime
    schedule_id: str
    pipeline_id: str
    pipeline_name: str


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    run_id: str
    kind: str
    message: str
    done: bool
    webhook_status: str | None
    created_at: UtcDateTime
