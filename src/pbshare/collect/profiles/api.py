"""Routes for saved import profiles and re-running them (``/api/v1/collect/profiles``)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from pbshare.collect.deps import CollectManager, CollectRunner
from pbshare.collect.profiles import service
from pbshare.collect.profiles.schemas import ProfileIn, ProfileOut
from pbshare.collect.runs import service as runs
from pbshare.collect.runs import tasks
from pbshare.collect.runs.schemas import RunIn
from pbshare.collect.schemas import RunOut
from pbshare.core.http import DatabaseDep, DbSession
from pbshare.warehouse import service as warehouse

router = APIRouter(prefix="/collect", tags=["collect"])


@router.get("/profiles", response_model=list[ProfileOut], summary="导入配置 / saved import profiles")
def list_profiles(principal: CollectRunner, db: DbSession) -> list[ProfileOut]:
    return [service.profile_out(p, last_run=runs.last_run(db, profile_id=p.id)).model_copy(update={
        "target_label": warehouse.table_label(db, topic=p.target_topic, name=p.target_table)})
        for p in service.list_profiles(db)]


@router.post("/profiles", response_model=ProfileOut, status_code=201, summary="保存导入配置 / save a profile")
def create_profile(body: ProfileIn, principal: CollectManager, db: DbSession) -> ProfileOut:
    profile = service.create_profile(db, data=body, principal=principal)
    return service.profile_out(profile, last_run=runs.last_run(db, profile_id=profile.id))


@router.get("/profiles/{profile_id}", response_model=ProfileOut, summary="一个导入配置 / one profile")
def get_profile(profile_id: str, principal: CollectRunner, db: DbSession) -> ProfileOut:
    profile = service.get_profile(db, profile_id=profile_id)
    return service.profile_out(profile, last_run=runs.last_run(db, profile_id=profile.id))


@router.put("/profiles/{profile_id}", response_model=ProfileOut, summary="修改导入配置 / update a profile")
def update_profile(profile_id: str, body: ProfileIn, principal: CollectManager, db: DbSession) -> ProfileOut:
    profile = service.update_profile(db, profile_id=profile_id, data=body, principal=principal)
    return service.profile_out(profile, last_run=runs.last_run(db, profile_id=profile.id))


@router.delete("/profiles/{profile_id}", status_code=204, summary="删除导入配置 / delete a profile")
def delete_profile(profile_id: str, principal: CollectManager, db: DbSession) -> Response:
    service.delete_profile(db, profile_id=profile_id, principal=principal)
    return Response(status_code=204)


@router.post("/profiles/{profile_id}/run", response_model=RunOut, status_code=202,
             summary="一键重新导入（可换新文件） / re-run a profile, optionally with a new file")
def run_profile(profile_id: str, principal: CollectRunner, db: DbSession, database: DatabaseDep,
                upload_id: str | None = Query(None, max_length=64), confirm: bool = Query(False)) -> RunOut:
    run = tasks.start_requested(db, database, request=RunIn(profile_id=profile_id, upload_id=upload_id,
                                                            confirm=confirm), principal=principal)
    return RunOut.model_validate(run, from_attributes=True)
