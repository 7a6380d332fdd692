"""Routes of corrections: the office raises, follows and closes them; a unit's operator answers in the portal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from pbshare.core.http import DataDir, DbSession, takes_write_lock
from pbshare.exchange.corrections import service
from pbshare.exchange.corrections.schemas import (
    CloseIn,
    CorrectionIn,
    CorrectionOut,
    FromReportIn,
    PortalAnswerIn,
    ReasonIn,
)
from pbshare.exchange.deps import UnitAnswerer
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

# Data admins and case handlers both read cases; the service checks that they may raise one.
CorrectionUser = Annotated[Principal, Depends(require(Perm.cases_read))]

router = APIRouter(tags=["corrections"])


@router.get("/exchange/corrections", response_model=list[CorrectionOut], summary="纠错单 / corrections, newest first")
@takes_write_lock
def list_corrections(principal: CorrectionUser, db: DbSession, state: str | None = Query(None, max_length=16),
                     unit: str | None = Query(None, max_length=32), resource: str | None = Query(None, max_length=32),
                     report: str | None = Query(None, max_length=36)) -> list[CorrectionOut]:
    rows = service.list_corrections(db, principal=principal, state=state, unit_code=unit, resource_code=resource,
                                    report_id=report)
    return service.corrections_out(db, rows)


@router.post("/exchange/corrections", response_model=CorrectionOut, status_code=201,
             summary="发起纠错（交付、答复或问题行）/ ask a unit to correct a delivery, an answer or rows")
@takes_write_lock
def raise_correction(body: CorrectionIn, principal: CorrectionUser, db: DbSession, data_dir: DataDir) -> CorrectionOut:
    return service.correction_out(db, service.raise_correction(db, body=body, principal=principal, data_dir=data_dir))


@router.post("/exchange/corrections/from-report/{report_id}", response_model=CorrectionOut, status_code=201,
             summary="由拒收的质量报告一键发起纠错 / raise a correction from a rejected quality report")
@takes_write_lock
def raise_from_report(report_id: str, body: FromReportIn, principal: CorrectionUser, db: DbSession,
                      data_dir: DataDir) -> CorrectionOut:
    c = service.raise_from_report(db, report_id=report_id, principal=principal, data_dir=data_dir, what=body.what)
    return service.correction_out(db, c)


@router.get("/exchange/corrections/{correction_id}", response_model=CorrectionOut, summary="一个纠错单 / one correction")
@takes_write_lock
def get_correction(correction_id: str, principal: CorrectionUser, db: DbSession) -> CorrectionOut:
    return service.correction_out(db, service.get_correction(db, correction_id=correction_id))


@router.post("/exchange/corrections/{correction_id}/close", response_model=CorrectionOut,
             summary="核对无误，关闭 / checked: close it")
def close(correction_id: str, body: CloseIn, principal: CorrectionUser, db: DbSession) -> CorrectionOut:
    return service.correction_out(db, service.close(db, correction_id=correction_id, principal=principal,
                                                    note=body.note))


@router.post("/exchange/corrections/{correction_id}/withdraw", response_model=CorrectionOut,
             summary="撤回 / withdraw it")
def withdraw(correction_id: str, body: ReasonIn, principal: CorrectionUser, db: DbSession) -> CorrectionOut:
    return service.correction_out(db, service.withdraw(db, correction_id=correction_id, principal=principal,
                                                       reason=body.reason))


# the unit portal -----------------------------------------------------------------------------------
@router.get("/portal/corrections", response_model=list[CorrectionOut], summary="本单位的纠错单 / my unit's corrections")
@takes_write_lock
def portal_list(principal: UnitAnswerer, db: DbSession) -> list[CorrectionOut]:
    return service.corrections_out(db, service.list_corrections(db, principal=principal))


@router.get("/portal/corrections/{correction_id}", response_model=CorrectionOut, summary="一个纠错单 / one correction")
@takes_write_lock
def portal_get(correction_id: str, principal: UnitAnswerer, db: DbSession) -> CorrectionOut:
    return service.correction_out(db, service.read_for_unit(db, correction_id=correction_id, principal=principal))


@router.post("/portal/corrections/{correction_id}/answer", response_model=CorrectionOut,
             summary="提交更正后的数据 / answer with the corrected rows")
@takes_write_lock
def portal_answer(correction_id: str, body: PortalAnswerIn, principal: UnitAnswerer, db: DbSession,
                  data_dir: DataDir) -> CorrectionOut:
    c = service.portal_answer(db, correction_id=correction_id, body=body, principal=principal, data_dir=data_dir)
    return service.correction_out(db, c)
