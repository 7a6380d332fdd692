"""Pipelines, their schedules and runs. A run per (schedule, fire time) at most: the unique key makes a fire time
run once however many schedulers see it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class Pipeline(Base):
    __tablename__ = "jobs_pipeline"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    # [{"kind": "transform", "name": "…", "params": {…}, "on_error": "stop"|"continue", "retries": 0,
    #   "retry_delay_s": 5, "timeout_s": 3600}]
    steps: Mapped[list] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Schedule(Base):
    __tablename__ = "jobs_schedule"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    pipeline_id: Mapped[str] = mapped_column(ForeignKey("jobs_pipeline.id", ondelete="CASCADE"), index=True)
    # the picker's choice ({"kind": "monthly", "day": "last", "time": "02:00"} …) and the cron it makes
    picker: Mapped[dict] = mapped_column(JSON)
    cron: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    catch_up: Mapped[str] = mapped_column(String(8), default="skip")  # skip | once
    next_fire_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Run(Base):
    __tablename__ = "jobs_run"
    __table_args__ = (UniqueConstraint("schedule_id", "fire_at", name="uq_jobs_run_schedule_fire"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    pipeline_id: Mapped[str] = mapped_column(ForeignKey("jobs_pipeline.id", ondelete="CASCADE"), index=True)
    pipeline_name: Mapped[str] = mapped_column(String(120))
    schedule_id: Mapped[str | None] = mapped_column(String(36), index=True)
    fire_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # null: started by hand
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual | catch_up
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    executor: Mapped[str] = mapped_column(String(16), default="local")
    steps: Mapped[list] = mapped_column(JSON)  # the pipeline's steps as they were when the run was made
    step_count: Mapped[int] = mapped_column(Integer, default=0)
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    attempt: Mapped[int] = mapped_column(Integer, default=0)  # times a worker took the run up
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker: Mapped[str | None] = mapped_column(String(80))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    run_by: Mapped[str | None] = mapped_column(String(64))
    slow_alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seconds: Mapped[float | None] = mapped_column(Float)


class RunStep(Base):
    __tablename__ = "jobs_run_step"
    __table_args__ = (UniqueConstraint("run_id", "position", name="uq_jobs_run_step_position"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("jobs_run.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending running succeeded failed skipped …
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int | None] = mapped_column(BigInteger)
    output: Mapped[str | None] = mapped_column(String(200))  # "topic.table" handed to the next step
    log: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    # progress inside the step while it runs, as the step reports it (rows done of total; total unknown: null)
    progress_done: Mapped[int | None] = mapped_column(BigInteger)
    progress_total: Mapped[int | None] = mapped_column(BigInteger)
    progress_unit: Mapped[str | None] = mapped_column(String(16))  # rows | seconds
    # what the step found, for the run page: {"comparison_id": …, "added": 3, …}; never personal values
    summary: Mapped[dict | None] = mapped_column(JSON)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seconds: Mapped[float | None] = mapped_column(Float)


class Alert(Base):
    """A failed or unusually slow run, on the data admins' to-do list until someone reads it."""

    __tablename__ = "jobs_alert"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("jobs_run.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # failed | slow
    message: Mapped[str] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    webhook_status: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
