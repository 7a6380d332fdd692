"""Pipelines, schedules, runs and alerts: plain functions, the session passed in.

A run's lifecycle (``TRANSITIONS``): queued → running → succeeded | failed | cancelled; a running run whose
worker stopped (killed, lost) goes back to queued to be taken up again, or to failed after ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from statistics import median
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pbshare.core.clock import as_utc, utcnow
from pbshare.core.errors import Conflict, Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.core.lookup import get_or_raise
from pbshare.jobs import schedules, steps
from pbshare.jobs.models import Alert, Pipeline, Run, RunStep, Schedule
from pbshare.jobs.schemas import CalendarEntry, PipelineIn, RunDetail, RunOut, RunStepOut, ScheduleIn, ScheduleOut
from pbshare.security.audit import service as audit
from pbshare.units.principal import Principal

MAX_ATTEMPTS = 2  # a run whose worker died is taken up once more, then marked failed
STALE_AFTER_S = 20.0  # a running run without a heartbeat this long has lost its worker
FINISHED = ("succeeded", "failed", "cancelled")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "queued": ("running", "cancelled", "failed"),
    "running": ("succeeded", "failed", "cancelled", "queued"),
    "succeeded": (),
    "failed": (),
    "cancelled": (),
}
STATE_LABELS = {"queued": "排队中", "running": "运行中", "succeeded": "成功", "failed": "失败", "cancelled": "已取消"}


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


# --------------------------------------------------------------------------- pipelines
def _check_steps(data: PipelineIn, principal: Principal | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, step in enumerate(data.steps, start=1):
        try:
            kind = steps.get_kind(step.kind)
            for p in kind.params:
                if p.required and step.params.get(p.name) in (None, ""):
                    raise Invalid(T("缺少参数“{p}”", "the parameter “{p}” is missing", p=p.label.zh),
                                  code="step_param_missing")
            if kind.check is not None:
                kind.check(step.params, principal)
        except (Invalid, NotFound) as exc:
            raise Invalid(T("第 {i} 步：{m}", "Step {i}: {e}", i=i, m=exc.message.render("zh-CN"),
                            e=exc.message.render("en")), code=exc.code, detail={"step": i}) from None
        doc = step.model_dump()
        doc["name"] = step.name or kind.label.zh
        out.append(doc)
    return out


def create_pipeline(db: Session, *, data: PipelineIn, principal: Principal | None = None) -> Pipeline:
    if find_pipeline(db, name=data.name) is not None:
        raise Conflict(T("已有名为“{n}”的流水线，请换个名称", "A pipeline named “{n}” exists already; pick another name",
                         n=data.name), code="pipeline_exists")
    p = Pipeline(name=data.name, description=data.description, steps=_check_steps(data, principal),
                 created_by=principal.username if principal else None)
    db.add(p)
    db.flush()
    audit.record(db, action="jobs.pipeline.create", principal=principal, object_type="pipeline", object_id=p.id,
                 detail={"name": p.name, "steps": [s["kind"] for s in p.steps]})
    return p


def update_pipeline(db: Session, *, pipeline_id: str, data: PipelineIn, principal: Principal | None = None) -> Pipeline:
    p = get_pipeline(db, pipeline_id=pipeline_id)
    other = find_pipeline(db, name=data.name)
    if other is not None and other.id != p.id:
        raise Conflict(T("已有名为“{n}”的流水线，请换个名称", "A pipeline named “{n}” exists already; pick another name",
                         n=data.name), code="pipeline_exists")
    p.name, p.description, p.steps = data.name, data.description, _check_steps(data, principal)
    p.updated_at = utcnow()
    db.flush()
    audit.record(db, action="jobs.pipeline.update", principal=principal, object_type="pipeline", object_id=p.id,
                 detail={"name": p.name, "steps": [s["kind"] for s in p.steps]})
    return p


def delete_pipeline(db: Session, *, pipeline_id: str, principal: Principal | None = None) -> None:
    p = get_pipeline(db, pipeline_id=pipeline_id)
    busy = db.scalar(select(func.count()).select_from(Run).where(Run.pipeline_id == p.id,
                                                                   Run.state.in_(("queued", "running"))))
    if busy:
        raise Conflict(T("流水线正在运行，请先取消运行再删除", "The pipeline is running; cancel its run before deleting it"),
                       code="pipeline_busy")
    for s in db.scalars(select(Schedule).where(Schedule.pipeline_id == p.id)):
        db.delete(s)
    for r in db.scalars(select(Run).where(Run.pipeline_id == p.id)):
        db.delete(r)
    db.flush()
    db.delete(p)
    db.flush()
    audit.record(db, action="jobs.pipeline.delete", principal=principal, object_type="pipeline", object_id=pipeline_id,
                 detail={"name": p.name})


def get_pipeline(db: Session, *, pipeline_id: str) -> Pipeline:
    return get_or_raise(db, Pipeline, pipeline_id, T("没有这个流水线", "No such pipeline"), code="pipeline_not_found")


def find_pipeline(db: Session, *, name: str) -> Pipeline | None:
    return db.scalar(select(Pipeline).where(Pipeline.name == name))


def list_pipelines(db: Session) -> list[Pipeline]:
    return list(db.scalars(select(Pipeline).order_by(Pipeline.name)))


# --------------------------------------------------------------------------- schedules
def preview(picker: dict, *, tz: str = schedules.OFFICE_TZ, now: datetime | None = None) -> tuple[str, T, list[datetime]]:
    cron = schedules.to_cron(picker)
    return cron, schedules.describe(picker), schedules.fire_times(cron, after=now or utcnow(), count=10, tz=tz)


def create_schedule(db: Session, *, data: ScheduleIn, principal: Principal | None = None,
                    now: datetime | None = None) -> Schedule:
    p = get_pipeline(db, pipeline_id=data.pipeline_id)
    schedules.zone(data.timezone)
    cron = schedules.to_cron(data.picker)
    s = Schedule(pipeline_id=p.id, picker=data.picker, cron=cron, timezone=data.timezone, enabled=data.enabled,
                 catch_up=data.catch_up, created_by=principal.username if principal else None,
                 next_fire_at=schedules.next_fire(cron, after=now or utcnow(), tz=data.timezone))
    db.add(s)
    db.flush()
    audit.record(db, action="jobs.schedule.create", principal=principal, object_type="schedule", object_id=s.id,
                 detail={"pipeline": p.name, "cron": cron, "catch_up": s.catch_up})
    return s


def update_schedule(db: Session, *, schedule_id: str, data: ScheduleIn, principal: Principal | None = None,
                    now: datetime | None = None) -> Schedule:
    s = get_schedule(db, schedule_id=schedule_id)
    get_pipeline(db, pipeline_id=data.pipeline_id)
    schedules.zone(data.timezone)
    s.cron = schedules.to_cron(data.picker)
    s.pipeline_id, s.picker, s.timezone, s.enabled, s.catch_up = (data.pipeline_id, data.picker, data.timezone,
                                                                  data.enabled, data.catch_up)
    s.next_fire_at = schedules.next_fire(s.cron, after=now or utcnow(), tz=s.timezone)
    db.flush()
    audit.record(db, action="jobs.schedule.update", principal=principal, object_type="schedule", object_id=s.id,
                 detail={"cron": s.cron, "enabled": s.enabled, "catch_up": s.catch_up})
    return s


def set_enabled(db: Session, *, schedule_id: str, enabled: bool, principal: Principal | None = None,
                now: datetime | None = None) -> Schedule:
    s = get_schedule(db, schedule_id=schedule_id)
    s.enabled = enabled
    if enabled:
        s.next_fire_at = schedules.next_fire(s.cron, after=now or utcnow(), tz=s.timezone)
    db.flush()
    audit.record(db, action="jobs.schedule.enable" if enabled else "jobs.schedule.disable", principal=principal,
                 object_type="schedule", object_id=s.id)
    return s


def delete_schedule(db: Session, *, schedule_id: str, principal: Principal | None = None) -> None:
    s = get_schedule(db, schedule_id=schedule_id)
    db.delete(s)
    db.flush()
    audit.record(db, action="jobs.schedule.delete", principal=principal, object_type="schedule", object_id=schedule_id)


def get_schedule(db: Session, *, schedule_id: str) -> Schedule:
    return get_or_raise(db, Schedule, schedule_id, T("没有这个调度", "No such schedule"), code="schedule_not_found")


def list_schedules(db: Session, *, pipeline_id: str | None = None) -> list[Schedule]:
    stmt = select(Schedule).order_by(Schedule.created_at)
    if pipeline_id:
        stmt = stmt.where(Schedule.pipeline_id == pipeline_id)
    return list(db.scalars(stmt))


def schedule_out(db: Session, s: Schedule, *, upcoming: int = 10) -> ScheduleOut:
    p = db.get(Pipeline, s.pipeline_id)
    nxt = schedules.fire_times(s.cron, after=utcnow(), count=upcoming, tz=s.timezone) if s.enabled and upcoming else []
    return ScheduleOut(id=s.id, pipeline_id=s.pipeline_id, pipeline_name=p.name if p else "", picker=s.picker,
                       cron=s.cron, description=str(schedules.describe(s.picker)), timezone=s.timezone,
                       enabled=s.enabled, catch_up=s.catch_up,
                       next_fire_at=as_utc(s.next_fire_at) if s.next_fire_at else None, next=nxt)


def due_schedules(db: Session, *, now: datetime) -> list[Schedule]:
    return list(db.scalars(select(Schedule).where(Schedule.enabled.is_(True), Schedule.next_fire_at <= now)))


def advance(db: Session, *, schedule_id: str, seen: datetime | None, now: datetime) -> None:
    """Move the schedule's next fire time past ``now``, unless another scheduler moved it already."""
    s = db.get(Schedule, schedule_id)
    if s is None:
        return
    nxt = schedules.next_fire(s.cron, after=now, tz=s.timezone)
    stmt = update(Schedule).where(Schedule.id == schedule_id)
    if seen is not None:
        stmt = stmt.where(Schedule.next_fire_at == seen)
    db.execute(stmt.values(next_fire_at=nxt))


def calendar(db: Session, *, start: datetime, end: datetime, limit: int = 500) -> list[CalendarEntry]:
    start, end = as_utc(start), as_utc(end)
    if not (2000 <= start.year <= 2200 and 2000 <= end.year <= 2200) or end <= start or \
            end - start > timedelta(days=92):
        raise Invalid(T("日历范围须在 92 天以内，且结束晚于开始", "The calendar range must end after it starts, within 92 days"),
                      code="bad_range")
    out: list[CalendarEntry] = []
    names = {p.id: p.name for p in list_pipelines(db)}
    for s in db.scalars(select(Schedule).where(Schedule.enabled.is_(True))):
        for at in schedules.fire_times(s.cron, after=start - timedelta(seconds=1), count=limit, tz=s.timezone, until=end):
            out.append(CalendarEntry(at=at, schedule_id=s.id, pipeline_id=s.pipeline_id,
                                     pipeline_name=names.get(s.pipeline_id, "")))
    out.sort(key=lambda e: e.at)
    return out[:limit]


# --------------------------------------------------------------------------- runs
def create_run(db: Session, *, pipeline_id: str, trigger: str, executor: str, schedule_id: str | None = None,
               fire_at: datetime | None = None, run_by: str | None = None) -> Run | None:
    """A queued run with one row per step. For a schedule's fire time: None when it exists already (another
    scheduler made it), through the unique key on (schedule, fire time)."""
    p = get_pipeline(db, pipeline_id=pipeline_id)
    run = Run(pipeline_id=p.id, pipeline_name=p.name, schedule_id=schedule_id, fire_at=fire_at, trigger=trigger,
              executor=executor, steps=list(p.steps), step_count=len(p.steps), run_by=run_by, state="queued")
    try:
        with db.begin_nested():
            db.add(run)
            db.flush()
    except IntegrityError:
        return None
    for i, st in enumerate(p.steps):
        db.add(RunStep(run_id=run.id, position=i, kind=st["kind"], name=st.get("name") or st["kind"]))
    db.flush()
    return run


def start_run(db: Session, *, pipeline_id: str, executor: str, principal: Principal | None = None) -> Run:
    """Run now, by hand."""
    run = create_run(db, pipeline_id=pipeline_id, trigger="manual", executor=executor,
                     run_by=principal.username if principal else None)
    assert run is not None
    audit.record(db, action="jobs.run.start", principal=principal, object_type="run", object_id=run.id,
                 detail={"pipeline": run.pipeline_name})
    return run


def mark_submitted(db: Session, *, run_id: str) -> None:
    db.execute(update(Run).where(Run.id == run_id).values(submitted_at=utcnow()))


def unsubmitted(db: Session, *, older_than: float = 30.0) -> list[str]:
    """Queued runs nobody handed to an executor (the scheduler stopped between the two): hand them again."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    return list(db.scalars(select(Run.id).where(Run.state == "queued", Run.cancel_requested.is_(False),
                                                (Run.submitted_at.is_(None)) | (Run.submitted_at < cutoff),
                                                Run.created_at < cutoff)))


def get_run(db: Session, *, run_id: str) -> Run:
    return get_or_raise(db, Run, run_id, T("没有这次运行", "No such run"), code="run_not_found")


def run_steps(db: Session, *, run_id: str) -> list[RunStep]:
    return list(db.scalars(select(RunStep).where(RunStep.run_id == run_id).order_by(RunStep.position)))


def run_detail(db: Session, *, run_id: str) -> RunDetail:
    run = get_run(db, run_id=run_id)
    out = RunDetail.model_validate(RunOut.model_validate(run).model_dump())
    out.step_runs = [RunStepOut.model_validate(s) for s in run_steps(db, run_id=run_id)]
    return out


def list_runs(db: Session, *, pipeline_id: str | None = None, state: str | None = None, trigger: str | None = None,
              since: datetime | None = None, until: datetime | None = None, limit: int = 50,
              offset: int = 0) -> tuple[list[Run], int]:
    stmt = select(Run)
    if pipeline_id:
        stmt = stmt.where(Run.pipeline_id == pipeline_id)
    if state:
        stmt = stmt.where(Run.state == state)
    if trigger:
        stmt = stmt.where(Run.trigger == trigger)
    if since:
        stmt = stmt.where(Run.created_at >= since)
    if until:
        stmt = stmt.where(Run.created_at < until)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(db.scalars(stmt.order_by(Run.created_at.desc()).limit(limit).offset(offset)))
    return rows, total


def cancel_run(db: Session, *, run_id: str, principal: Principal | None = None) -> Run:
    run = get_run(db, run_id=run_id)
    if run.state in FINISHED:
        raise Conflict(T("这次运行已结束（{s}），无法取消", "The run has finished ({s}); there is nothing to cancel",
                         s=STATE_LABELS.get(run.state, run.state)), code="run_finished")
    if run.state == "queued":
        _finish(run, "cancelled", error=T("运行前已取消", "cancelled before it started"))
    run.cancel_requested = True
    db.flush()
    audit.record(db, action="jobs.run.cancel", principal=principal, object_type="run", object_id=run.id,
                 detail={"pipeline": run.pipeline_name})
    return run


def _finish(run: Run, state: str, *, error: T | str | None = None) -> None:
    if state not in TRANSITIONS[run.state]:
        raise Conflict(T("运行状态不能从 {a} 变为 {b}", "A run cannot go from {a} to {b}", a=run.state, b=state))
    run.state = state
    run.finished_at = utcnow()
    if run.started_at is not None:
        run.seconds = (run.finished_at - as_utc(run.started_at)).total_seconds()
    if error is not None:
        run.error = error.render("zh-CN") + " / " + error.render("en") if isinstance(error, T) else error


def claim(db: Session, *, run_id: str, worker: str, now: datetime | None = None,
          stale_after: float = STALE_AFTER_S) -> str:
    """Take a run up for this worker, in one conditional UPDATE (so two workers never both run it):
    ``go`` (ours now), ``busy`` (a live worker has it), ``finished``, or ``failed`` (its worker was lost too often)."""
    now = now or utcnow()
    stale = now - timedelta(seconds=stale_after)
    taken = cast(CursorResult[Any], db.execute(
        update(Run)
        .where(Run.id == run_id, Run.cancel_requested.is_(False), Run.attempt < MAX_ATTEMPTS,
               (Run.state == "queued") | ((Run.state == "running") & (Run.heartbeat_at < stale)))
        .values(state="running", worker=worker, heartbeat_at=now, attempt=Run.attempt + 1,
                started_at=func.coalesce(Run.started_at, now))
        .execution_options(synchronize_session=False)
    )).rowcount
    db.expire_all()
    run = db.get(Run, run_id)
    if run is None:
        return "finished"
    if taken:
        return "go"
    if run.state in FINISHED:
        return "finished"
    if run.cancel_requested:
        if run.state == "queued" or as_utc(run.heartbeat_at or now) < stale:
            _finish(run, "cancelled", error=T("已取消", "cancelled"))
            return "finished"
        return "busy"
    if run.attempt >= MAX_ATTEMPTS and (run.state == "queued" or as_utc(run.heartbeat_at or now) < stale):
        lose(db, run=run)
        return "failed"
    return "busy"


def lose(db: Session, *, run: Run) -> None:
    _finish(run, "failed", error=T("执行它的工作进程停止了（被终止或失联），已重试 {n} 次仍未完成",
                                   "The worker running it stopped (killed or lost); tried {n} times without finishing",
                                   n=run.attempt))
    for st in run_steps(db, run_id=run.id):
        if st.state == "running":
            st.state, st.error = "failed", "worker lost"
    raise_alert(db, run=run, kind="failed")


def recover_stale(db: Session, *, now: datetime | None = None, stale_after: float = STALE_AFTER_S) -> list[str]:
    """Runs whose worker stopped: back to queued to be taken up again (returns their ids), or failed after
    ``MAX_ATTEMPTS``."""
    now = now or utcnow()
    stale = now - timedelta(seconds=stale_after)
    again: list[str] = []
    for run in db.scalars(select(Run).where(Run.state == "running", Run.heartbeat_at < stale)):
        if run.attempt >= MAX_ATTEMPTS or run.cancel_requested:
            if run.cancel_requested:
                _finish(run, "cancelled", error=T("已取消", "cancelled"))
            else:
                lose(db, run=run)
            continue
        moved = cast(CursorResult[Any], db.execute(
            update(Run).where(Run.id == run.id, Run.state == "running", Run.heartbeat_at < stale)
            .values(state="queued", submitted_at=None).execution_options(synchronize_session=False))).rowcount
        if moved:
            again.append(run.id)
    db.flush()
    return again


def beat(db: Session, *, run_id: str, worker: str) -> tuple[bool, bool]:
    """The worker's sign of life; returns (still ours, cancel requested)."""
    ours = cast(CursorResult[Any], db.execute(
        update(Run).where(Run.id == run_id, Run.worker == worker, Run.state == "running")
        .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False))).rowcount
    cancel = bool(db.scalar(select(Run.cancel_requested).where(Run.id == run_id)))
    return bool(ours), cancel


# --------------------------------------------------------------------------- alerts
def usual_seconds(db: Session, *, pipeline_id: str, before: str) -> float | None:
    """Median duration of the pipeline's last ten successful runs."""
    rows = [x for x in db.scalars(select(Run.seconds).where(Run.pipeline_id == pipeline_id, Run.state == "succeeded",
                                                     Run.id != before, Run.seconds.is_not(None))
                           .order_by(Run.created_at.desc()).limit(10)) if x is not None]
    return median(rows) if len(rows) >= 3 else None


def raise_alert(db: Session, *, run: Run, kind: str, message: str | None = None) -> Alert:
    text_ = message or (f"流水线“{run.pipeline_name}”运行失败 / pipeline “{run.pipeline_name}” failed: "
                        f"{(run.error or '')[:300]}")
    alert = Alert(run_id=run.id, kind=kind, message=text_)
    db.add(alert)
    db.flush()
    return alert


def list_alerts(db: Session, *, open_only: bool = True, limit: int = 50) -> list[Alert]:
    stmt = select(Alert).order_by(Alert.created_at.desc()).limit(limit)
    if open_only:
        stmt = stmt.where(Alert.done.is_(False))
    return list(db.scalars(stmt))


def close_alert(db: Session, *, alert_id: str, principal: Principal | None = None) -> Alert:
    alert = get_or_raise(db, Alert, alert_id, T("没有这条提醒", "No such alert"), code="alert_not_found")
    alert.done = True
    db.flush()
    audit.record(db, action="jobs.alert.done", principal=principal, object_type="alert", object_id=alert.id)
    return alert
