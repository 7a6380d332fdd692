"""Routes for cases and debtors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from pbshare.core.http import DataDir, DbSession
from pbshare.core.pagination import Page, PageParams, page_params
from pbshare.exchange.cases import service
from pbshare.exchange.cases.schemas import CaseOut, UnmaskIn
from pbshare.exchange.deps import CaseReader, CaseUnmasker

router = APIRouter(prefix="/cases", tags=["cases"])


@router.get("", response_model=Page[CaseOut], summary="案件列表 / cases (identifiers masked)")
def list_cases(
    principal: CaseReader,
    db: DbSession,
    q: str | None = Query(None, max_length=100, description="案号或债务人姓名 / case no. or debtor name"),
    stage: str | None = Query(None, max_length=16),
    params: PageParams = Depends(page_params),
) -> Page[CaseOut]:
    cases, total = service.list_cases(db, params=params, q=q, stage=stage)
    return Page(items=[service.case_out(c) for c in cases], total=total, page=params.page, size=params.size)


@router.get("/stats/by-stage", summary="各阶段案件数 / cases by stage")
def by_stage(principal: CaseReader, db: DbSession) -> dict[str, Any]:  # Any: the published schema says "object"
    return service.cases_by_stage(db)


@router.get("/{case_id}", response_model=CaseOut, summary="案件详情 / one case (identifiers masked)")
def get_case(case_id: str, principal: CaseReader, db: DbSession) -> CaseOut:
    return service.case_out(service.get_case(db, case_id=case_id))


@router.post("/{case_id}/unmask", response_model=CaseOut,
             summary="查看完整证件号码 / show identifiers in clear, with a stated purpose")
def unmask_case(case_id: str, body: UnmaskIn, request: Request, principal: CaseUnmasker, db: DbSession,
                data_dir: DataDir) -> CaseOut:
    return service.unmask_case(db, case_id=case_id, purpose=body.purpose, principal=principal, data_dir=data_dir,
                               ip=request.client.host if request.client else None)
