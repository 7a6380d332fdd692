"""Routes for the preview, import runs and their quarantine (``/api/v1/collect``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from pbshare.collect.deps import CollectRunner, QuarantineExporter
from pbshare.collect.runs import service, tasks
from pbshare.collect.runs.schemas import (
    PreviewOut,
    QuarantineChecked,
    QuarantineDiscard,
    QuarantineFix,
    QuarantineLoaded,
    RunIn,
)
from pbshare.collect.schemas import ImportSpec, RunOut
from pbshare.collect.sqlcheck import REFUSALS
from pbshare.core.http import DatabaseDep, DataDir, DbSession
from pbshare.core.pagination import MAX_PAGE, MAX_SIZE
from pbshare.security.audit import service as audit
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

# Refusals of a database source worth an audit record: the platform's own database, a bare URL, a
# query that is not one read-only SELECT.
DATABASE_REFUSALS = REFUSALS | {"source_is_platform", "url_not_allowed"}

# The session commits before the answer is sent (FastAPI runs yield dependencies' exit after it by
# default), so the page that reads right after a change sees it.
router = APIRouter(prefix="/collect", tags=["collect"])


@router.post("/preview", response_model=PreviewOut, summary="映射后预览并标出问题 / preview after mapping")
def preview(spec: ImportSpec, principal: CollectRunner, db: DbSession, database: DatabaseDep) -> PreviewOut:
    if spec.source_kind != "database":
        return service.preview(db, database, spec)
    # Rows read from a unit's database (personal data, maybe): the reading and each refusal are audited.
    source = str(spec.source.get("source_id") or "url")[:128]
    what = {"table": spec.source.get("table"), "query": str(spec.source.get("query") or "")[:1000]}
    with audit.refusals_recorded(db, action="collect.preview", codes=DATABASE_REFUSALS, principal=principal,
                                 object_type="data_source", object_id=source, detail=what):
        out = service.preview(db, database, spec)
    audit.record(db, action="collect.preview", principal=principal, object_type="data_source", object_id=source,
                 detail={**what, "rows": out.rows_checked})
    return out


@router.post("/runs", response_model=RunOut, status_code=202,
             summary="开始导入（后台运行，轮询进度） / start an import in the background; poll its progress")
def start_run(body: RunIn, principal: CollectRunner, db: DbSession, database: DatabaseDep) -> RunOut:
    run = tasks.start_requested(db, database, request=body, principal=principal)
    return RunOut.model_validate(run, from_attributes=True)


@router.get("/runs", response_model=list[RunOut], summary="导入记录 / run history")
def list_runs(principal: CollectRunner, db: DbSession, profile_id: str | None = Query(None, max_length=64),
              limit: int = Query(50, ge=1, le=500)) -> list[RunOut]:
    return [RunOut.model_validate(r, from_attributes=True)
            for r in service.list_runs(db, profile_id=profile_id, limit=limit)]


@router.get("/runs/{run_id}", response_model=RunOut, summary="一次导入的状态和进度 / one run's state and progress")
def get_run(run_id: str, principal: CollectRunner, db: DbSession) -> RunOut:
    return RunOut.model_validate(service.get_run(db, run_id=run_id), from_attributes=True)


# Fixing quarantined rows writes the target table: quality management's right as well as running imports.
QuarantineFixer = Annotated[Principal, Depends(require(Perm.collect_run, Perm.quality_manage))]
UNMASK = Query(False, description="identifiers in clear: needs pii:unmask and a purpose; audited")
PURPOSE = Query(None, max_length=200, description="why the identifiers are needed in clear (at least 4 characters)")


@router.get("/runs/{run_id}/quarantine",
            summary="隔离数据（证件号码已遮蔽，说明用途可显示完整值） / quarantined rows, identifiers masked unless "
                    "unmasked with a purpose")
def quarantine(run_id: str, principal: CollectRunner, db: DbSession, data_dir: DataDir,
               page: int = Query(1, ge=1, le=MAX_PAGE), size: int = Query(50, ge=1, le=MAX_SIZE),
               unmask: bool = UNMASK, purpose: str | None = PURPOSE) -> dict:
    return service.quarantine_rows(db, data_dir=data_dir, run_id=run_id, page=page, size=size, principal=principal,
                                   unmask=unmask, purpose=purpose)


@router.get("/runs/{run_id}/quarantine.xlsx",
            summary="下载隔离数据 Excel（含原因列；证件号码遮蔽，说明用途可下载完整值） / quarantine as Excel with "
                    "reasons, identifiers masked unless unmasked with a purpose")
def quarantine_excel(run_id: str, principal: QuarantineExporter, db: DbSession, data_dir: DataDir,
                     unmask: bool = UNMASK, purpose: str | None = PURPOSE) -> Response:
    data = service.quarantine_workbook(db, data_dir=data_dir, run_id=run_id, principal=principal, unmask=unmask,
                                       purpose=purpose)
    name = f"quarantine-{run_id[:8]}" + ("" if unmask else "-masked")
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@router.post("/runs/{run_id}/quarantine/check", response_model=QuarantineChecked,
             summary="重新检查修改过的隔离行（不写入） / re-check edited quarantined rows (nothing is written)")
def quarantine_check(run_id: str, body: QuarantineFix, principal: QuarantineFixer, db: DbSession,
                     data_dir: DataDir) -> QuarantineChecked:
    return service.check_quarantine(db, data_dir=data_dir, run_id=run_id, rows=body.rows)


@router.post("/runs/{run_id}/quarantine/load", response_model=QuarantineLoaded,
             summary="装载已修正的行到目标表 / load the fixed rows into the run's target table")
def quarantine_load(run_id: str, body: QuarantineFix, principal: QuarantineFixer, db: DbSession,
                    database: DatabaseDep) -> QuarantineLoaded:
    return service.load_quarantine(db, database, run_id=run_id, rows=body.rows, principal=principal)


@router.post("/runs/{run_id}/quarantine/discard",
             summary="放弃隔离行（不装载，留有记录） / discard quarantined rows (not loaded; recorded)")
def quarantine_discard(run_id: str, body: QuarantineDiscard, principal: QuarantineFixer, db: DbSession) -> dict:
    return {"discarded": service.discard_quarantine(db, run_id=run_id, ids=body.ids, principal=principal)}
