"""Routes for pipelines, schedules, runs, the calendar and alerts (``/api/v1/jobs``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Query

from pbshare.core import http
from pbshare.core.clock import utcnow
from pbshare.core.http import DatabaseDep, DbSession
from pbshare.jobs import executors, service, steps
from pbshare.jobs.deps import ExecutorDep, JobsManager, JobsReader
from pbshare.jobs.schemas import (
    AlertOut,
    CalendarEntry,
    PipelineIn,
    PipelineOut,
    PreviewIn,
    PreviewOut,
    RunDetail,
    RunOut,
    ScheduleIn,
    ScheduleOut,
)

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/step-kinds", summary="步骤类型 / the step kinds a pipeline can use")
def step_kinds(principal: JobsReader) -> list[dict]:
    return steps.kinds_out()


# ---------------------------------------------------------------- pipelines
@router.get("/pipelines", response_model=list[PipelineOut], summary="流水线 / pipelines")
def list_pipelines(principal: JobsReader, db: DbSession) -> list[PipelineOut]:
    return [PipelineOut.model_validate(p) for p in service.list_pipelines(db)]


@router.post("/pipelines", response_model=PipelineOut, status_code=201, summary="新建流水线 / create a pipeline")
@http.takes_write_lock
def create_pipeline(body: PipelineIn, principal: JobsManager, db: DbSession) -> PipelineOut:
    return PipelineOut.model_validate(service.create_pipeline(db, data=body, principal=principal))


@router.get("/pipelines/{pipeline_id}", response_model=PipelineOut, summary="一条流水线 / one pipeline")
def get_pipeline(pipeline_id: str, principal: JobsReader, db: DbSession) -> PipelineOut:
    return PipelineOut.model_validate(service.get_pipeline(db, pipeline_id=pipeline_id))


@router.put("/pipelines/{pipeline_id}", response_model=PipelineOut, summary="修改流水线 / update a pipeline")
@http.takes_write_lock
def update_pipeline(pipeline_id: str, body: PipelineIn, principal: JobsManager, db: DbSession) -> PipelineOut:
    return PipelineOut.model_validate(service.update_pipeline(db, pipeline_id=pipeline_id, data=body,
                                                              principal=principal))


@router.delete("/pipelines/{pipeline_id}", status_code=204, summary="删除流水线 / delete a pipeline")
@http.takes_write_lock
def delete_pipeline(pipeline_id: str, principal: JobsManager, db: DbSession) -> None:
    service.delete_pipeline(db, pipeline_id=pipeline_id, principal=principal)


@router.post("/pipelines/{pipeline_id}/run", response_model=RunOut, status_code=201, summary="立即运行 / run now")
def run_pipeline(pipeline_id: str, principal: JobsManager, database: DatabaseDep, executor: ExecutorDep) -> RunOut:
    run_id = executors.run_now(database, executor, pipeline_id=pipeline_id, principal=principal)
    with database.session() as db:
        return RunOut.model_validate(service.get_run(db, run_id=run_id))


# ---------------------------------------------------------------- schedules
@router.post("/schedules/preview", response_model=PreviewOut,
             summary="预览：cron 与之后十次触发时间 / the cron and the next ten fire times")
def preview_schedule(body: PreviewIn, principal: JobsReader) -> PreviewOut:
    cron, words, nxt = service.preview(body.picker, tz=body.timezone)
    return PreviewOut(cron=cron, description=str(words), next=nxt)


@router.get("/schedules", response_model=list[ScheduleOut], summary="调度 / schedules")
def list_schedules(principal: JobsReader, db: DbSession, pipeline_id: str | None = None) -> list[ScheduleOut]:
    return [service.schedule_out(db, s, upcoming=3) for s in service.list_schedules(db, pipeline_id=pipeline_id)]


@router.post("/schedules", response_model=ScheduleOut, status_code=201, summary="新建调度 / create a schedule")
@http.takes_write_lock
def create_schedule(body: ScheduleIn, principal: JobsManager, db: DbSession) -> ScheduleOut:
    return service.schedule_out(db, service.create_schedule(db, data=body, principal=principal))


@router.get("/schedules/{schedule_id}", response_model=ScheduleOut, summary="一个调度 / one schedule")
def get_schedule(schedule_id: str, principal: JobsReader, db: DbSession) -> ScheduleOut:
    return service.schedule_out(db, service.get_schedule(db, schedule_id=schedule_id))


@router.put("/schedules/{schedule_id}", response_model=ScheduleOut, summary="修改调度 / update a schedule")
@http.takes_write_lock
def update_schedule(schedule_id: str, body: ScheduleIn, principal: JobsManager, db: DbSession) -> ScheduleOut:
    return service.schedule_out(db, service.update_schedule(db, schedule_id=schedule_id, data=body,
                                                            principal=principal))


@router.post("/schedules/{schedule_id}/enable", response_model=ScheduleOut, summary="启用 / enable")
@http.takes_write_lock
def enable_schedule(schedule_id: str, principal: JobsManager, db: DbSession) -> ScheduleOut:
    return service.schedule_out(db, service.set_enabled(db, schedule_id=schedule_id, enabled=True,
                                                        principal=principal))


@router.post("/schedules/{schedule_id}/disable", response_model=ScheduleOut, summary="停用 / disable")
@http.takes_write_lock
def disable_schedule(schedule_id: str, principal: JobsManager, db: DbSession) -> ScheduleOut:
    return service.schedule_out(db, service.set_enabled(db, schedule_id=schedule_id, enabled=False,
                                                        principal=principal))


@router.delete("/schedules/{schedule_id}", status_code=204, summary="删除调度 / delete a schedule")
@http.takes_write_lock
def delete_schedule(schedule_id: str, principal: JobsManager, db: DbSession) -> None:
    service.delete_schedule(db, schedule_id=schedule_id, principal=principal)


@router.get("/calendar", response_model=list[CalendarEntry], summary="将要运行的日历 / upcoming fire times")
def calendar(principal: JobsReader, db: DbSession, start: datetime | None = None,
             end: datetime | None = None) -> list[CalendarEntry]:
    start = start or utcnow()
    return service.calendar(db, start=start, end=end or start + timedelta(days=31))


# ---------------------------------------------------------------- runs
@router.get("/runs", summary="运行历史 / run history with filters")
def list_runs(principal: JobsReader, db: DbSession, pipeline_id: str | None = None,
              state: str | None = Query(None, pattern="^(queued|running|succeeded|failed|cancelled)$"),
              trigger: str | None = Query(None, pattern="^(schedule|manual|catch_up)$"),
              since: datetime | None = None, until: datetime | None = None,
              limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)) -> dict:
    rows, total = service.list_runs(db, pipeline_id=pipeline_id, state=state, trigger=trigger, since=since,
                                    until=until, limit=limit, offset=offset)
    return {"items": [RunOut.model_validate(r).model_dump(mode="json") for r in rows], "total": total}


@router.get("/runs/{run_id}", response_model=RunDetail, summary="一次运行：步骤、日志、进度 / one run with logs")
def get_run(run_id: str, principal: JobsReader, db: DbSession) -> RunDetail:
    return service.run_detail(db, run_id=run_id)


@router.post("/runs/{run_id}/cancel", response_model=RunOut, summary="取消运行 / cancel a run")
@http.takes_write_lock
def cancel_run(run_id: str, principal: JobsManager, db: DbSession) -> RunOut:
    return RunOut.model_validate(service.cancel_run(db, run_id=run_id, principal=principal))


# ---------------------------------------------------------------- alerts
@router.get("/alerts", response_model=list[AlertOut], summary="失败与过慢提醒 / failure and slowness alerts")
def list_alerts(principal: JobsReader, db: DbSession, open_only: bool = True) -> list[AlertOut]:
    return [AlertOut.model_validate(a) for a in service.list_alerts(db, open_only=open_only)]


@router.post("/alerts/{alert_id}/done", response_model=AlertOut, summary="标记已处理 / mark an alert done")
@http.takes_write_lock
def close_alert(alert_id: str, principal: JobsManager, db: DbSession) -> AlertOut:
    return AlertOut.model_validate(service.close_alert(db, alert_id=alert_id, principal=principal))
