"""Routes for cases and debtors."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from pbshare.core.http import UNIT_OF_WORK
from pbshare.core.pagination import Page, PageParams, page_params
from pbshare.exchange import service
from pbshare.exchange.schemas import CaseOut, UnmaskIn
from pbshare.security.audit import service as audit
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

router = APIRouter(prefix="/cases", tags=["cases"])


@router.get("", response_model=Page[CaseOut], summary="案件列表 / cases (identifiers masked)")
def list_cases(
    q: str | None = Query(None, max_length=100, description="案号或债务人姓名 / case no. or debtor name"),
    stage: str | None = Query(None, max_length=16),
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require(Perm.cases_read)),
    db: Session = UNIT_OF_WORK,
) -> Page[CaseOut]:
    cases, total = service.list_cases(db, params=params, q=q, stage=stage)
    return Page(items=[service.case_out(c) for c in cases], total=total, page=params.page, size=params.size)


@router.get("/stats/by-stage", summary="各阶段案件数 / cases by stage")
def by_stage(principal: Principal = Depends(require(Perm.cases_read)), db: Session = UNIT_OF_WORK) -> dict:
    return service.cases_by_stage(db)


@router.get("/{case_id}", response_model=CaseOut, summary="案件详情 / one case (identifiers masked)")
def get_case(case_id: str, principal: Principal = Depends(require(Perm.cases_read)),
             db: Session = UNIT_OF_WORK) -> CaseOut:
    return service.case_out(service.get_case(db, case_id=case_id))


@router.post("/{case_id}/unmask", response_model=CaseOut,
             summary="查看完整证件号码 / show identifiers in clear, with a stated purpose")
def unmask_case(case_id: str, body: UnmaskIn, request: Request,
                principal: Principal = Depends(require(Perm.cases_read, Perm.pii_unmask)),
                db: Session = UNIT_OF_WORK) -> CaseOut:
    case = service.get_case(db, case_id=case_id)
    audit.record(db, action="pii.unmask", principal=principal, object_type="debtor", object_id=case.debtor_id,
                 purpose=body.purpose, ip=request.client.host if request.client else None,
                 detail={"case_no": case.case_no})
    return service.case_out(case, data_dir=request.app.state.settings.resolved_data_dir, unmasked=True)
