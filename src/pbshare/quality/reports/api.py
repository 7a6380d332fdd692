"""Routes for quality reports, their trends, a unit's quality page and the scoring settings
(``/api/v1/quality``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from pbshare.core import http
from pbshare.core.http import DbSession
from pbshare.core.pagination import Page, PageParams, page_params
from pbshare.quality.reports import export, service
from pbshare.quality.reports.schemas import (
    OverrideIn,
    ReportOut,
    ReportRow,
    ScoringIO,
    TrendOut,
    TrendPoint,
    UnitQualityOut,
)
from pbshare.security.audit import service as audit
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

ReportsReader = Annotated[Principal, Depends(require(Perm.reports_read))]
QualityManager = Annotated[Principal, Depends(require(Perm.quality_manage))]
Code = Annotated[str | None, Query(max_length=32)]

router = APIRouter(prefix="/quality", tags=["quality"])


@router.get("/reports", response_model=Page[ReportRow], summary="质量报告列表 / quality reports")
def list_reports(principal: ReportsReader, db: DbSession, params: PageParams = Depends(page_params),
                 resource_code: Code = None, unit_code: Code = None,
                 verdict: Annotated[str | None, Query(pattern="^(accepted|accepted_with_warnings|rejected)$")] = None,
                 subject_kind: Annotated[str | None, Query(pattern="^(import_run|delivery)$")] = None,
                 subject_id: Annotated[str | None, Query(max_length=64)] = None,
                 date_from: Annotated[date | None, Query(description="本地日期（含） / local date, inclusive")] = None,
                 date_to: Annotated[date | None, Query(description="本地日期（含） / local date, inclusive")] = None,
                 ) -> Page[ReportRow]:
    rows, total = service.list_reports(db, params=params, principal=principal, resource_code=resource_code,
                                       unit_code=unit_code, verdict=verdict, subject_kind=subject_kind,
                                       subject_id=subject_id, date_from=date_from, date_to=date_to)
    return Page(items=[ReportRow.of(r) for r in rows], total=total, page=params.page, size=params.size)


@router.get("/reports/{report_id}", response_model=ReportOut,
            summary="一份质量报告（样例已遮蔽） / one report, samples masked")
def get_report(report_id: str, principal: ReportsReader, db: DbSession) -> ReportOut:
    return ReportOut.of(service.get_report(db, report_id=report_id, principal=principal))


@router.post("/reports/{report_id}/override", response_model=ReportOut,
             summary="更改结论（须填理由，留痕） / override the verdict with a reason (audited)")
@http.takes_write_lock
def override(report_id: str, body: OverrideIn, principal: QualityManager, db: DbSession) -> ReportOut:
    report = service.override(db, report_id=report_id, verdict=body.verdict, reason=body.reason, principal=principal)
    return ReportOut.of(report)


def _export(db: DbSession, principal: Principal, report_id: str, fmt: str) -> Response:
    out = ReportOut.of(service.get_report(db, report_id=report_id, principal=principal))
    if fmt == "pdf":
        data, media = export.to_pdf(out), "application/pdf"
    else:
        data, media = export.to_excel(out), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit.record(db, action="quality.report.export", principal=principal, object_type="quality_report",
                 object_id=report_id, detail={"format": fmt, "masked": True})
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="quality-report-{report_id[:8]}.{fmt}"'})


@router.get("/reports/{report_id}/excel", summary="导出 Excel / the report as an Excel workbook",
            response_class=Response)
def export_excel(report_id: str, principal: ReportsReader, db: DbSession) -> Response:
    return _export(db, principal, report_id, "xlsx")


@router.get("/reports/{report_id}/pdf", summary="导出 PDF / the report as a PDF", response_class=Response,
            responses={503: {"description": "服务器缺少中文字体 / no Chinese font on the server"}})
def export_pdf(report_id: str, principal: ReportsReader, db: DbSession) -> Response:
    return _export(db, principal, report_id, "pdf")


@router.get("/trends", response_model=TrendOut, summary="质量趋势（按资源或单位） / score trend of a resource or unit")
def trend(principal: ReportsReader, db: DbSession, resource_code: Code = None, unit_code: Code = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> TrendOut:
    points = service.trend(db, principal=principal, resource_code=resource_code, unit_code=unit_code, limit=limit)
    return TrendOut(resource_code=resource_code, unit_code=unit_code, points=[TrendPoint.of(p) for p in points])


@router.get("/units/{unit_code}", response_model=UnitQualityOut, summary="单位数据质量 / a unit's quality page")
def unit_page(unit_code: str, principal: ReportsReader, db: DbSession) -> UnitQualityOut:
    page = service.unit_page(db, unit_code=unit_code, principal=principal)
    return UnitQualityOut(**{**page, "trend": [TrendPoint.of(p) for p in page["trend"]],
                             "latest": [ReportRow.of(r) for r in page["latest"]]})


@router.get("/scoring", response_model=ScoringIO, summary="评分权重与拒收比例 / score weights and reject share")
def get_scoring(principal: ReportsReader, db: DbSession) -> ScoringIO:
    row = service.scoring_settings(db)
    return ScoringIO(weights=row.weights, reject_share=row.reject_share)


@router.put("/scoring", response_model=ScoringIO, summary="修改评分权重 / change the weights (audited)")
@http.takes_write_lock
def set_scoring(body: ScoringIO, principal: QualityManager, db: DbSession) -> ScoringIO:
    row = service.set_scoring(db, weights=body.weights, reject_share=body.reject_share, principal=principal)
    return ScoringIO(weights=row.weights, reject_share=row.reject_share)
