"""Routes for the flexible query (``POST /api/v1/query``), saved reports, dashboards and the built-in dashboards."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from pbshare.core.http import DatabaseDep, DbSession
from pbshare.reports import builtin, export, service
from pbshare.reports.deps import ReportReader, ReportWriter
from pbshare.reports.schemas import (
    DashboardIn,
    DashboardOut,
    GlobalValues,
    QueryResult,
    QuerySpec,
    ReportIn,
    ReportOut,
    RunIn,
    SourceOut,
    SourceRef,
    UploadOut,
)
from pbshare.security.audit import service as audit

router = APIRouter(tags=["reports"])

Fmt = Literal["xlsx", "csv", "pdf"]
MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv; charset=utf-8",
         "pdf": "application/pdf"}
EXPORT_ROWS = 100_000


class ExportIn(BaseModel):
    globals: GlobalValues | None = None
    images: dict[str, str] = Field(default_factory=dict, description="tile index → the chart as a PNG data URL")
    key: str | None = Field(None, max_length=32, description="built-in dashboard: which one (cases, requests, …)")


def _file(data: bytes, fmt: str, name: str) -> Response:
    return Response(data, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _tile(title: str, result: QueryResult) -> dict[str, Any]:
    return {"title": title, "columns": [c.model_dump() for c in result.columns], "rows": result.rows,
            "totals": result.totals}


# --------------------------------------------------------------------------- query
@router.post("/query", response_model=QueryResult, summary="灵活查询（JSON 查询规格，无需 SQL） / flexible query")
def query(spec: QuerySpec, principal: ReportReader, db: DbSession, database: DatabaseDep) -> QueryResult:
    return service.run_query(db, database, spec=spec, principal=principal, audit_apart=True)


@router.post("/query/export", summary="导出查询结果（Excel / CSV，全部行） / export a query's rows")
def query_export(spec: QuerySpec, principal: ReportReader, db: DbSession, database: DatabaseDep,
                 format: Annotated[Literal["xlsx", "csv"], Query()] = "xlsx") -> Response:
    rows: list[dict] = []
    page = 1
    while True:
        res = service.run_query(db, database, spec=spec.model_copy(update={"page": page, "size": 500}),
                                principal=principal, audit_apart=True)
        rows += res.rows
        if len(rows) >= res.total or not res.rows or len(rows) >= EXPORT_ROWS:
            break
        page += 1
    tile = {"title": "query", "columns": [c.model_dump() for c in res.columns], "rows": rows, "totals": res.totals}
    data = export.to_excel("查询结果", [tile]) if format == "xlsx" else export.to_csv(tile)
    return _file(data, format, "query")


# --------------------------------------------------------------------------- sources
@router.get("/reports/sources", response_model=list[SourceOut], summary="可用的数据源 / sources you may query")
def list_sources(principal: ReportReader, db: DbSession, database: DatabaseDep) -> list[SourceOut]:
    return [SourceOut(kind=s["kind"], key=s["key"], title=s["title"], fields=s.get("fields") or [])
            for s in service.sources(db, database, principal=principal)]


@router.post("/reports/sources/fields", summary="数据源的字段 / a source's fields")
def source_fields(ref: SourceRef, principal: ReportReader, db: DbSession, database: DatabaseDep) -> list[dict]:
    return service.source_fields(db, database, ref=ref.model_dump(), principal=principal)


@router.post("/reports/uploads", response_model=UploadOut, status_code=201,
             summary="上传 Excel/CSV 作为数据源 / upload an Excel or CSV file as a source")
async def upload(principal: ReportWriter, db: DbSession, database: DatabaseDep, file: UploadFile = File(...),
                 title: str | None = Form(None, max_length=200)) -> UploadOut:
    data = await file.read()
    up = service.upload(db, database, data=data, filename=file.filename or "upload.csv", title=title,
                        principal=principal)
    return UploadOut.model_validate(up, from_attributes=True)


# --------------------------------------------------------------------------- built-in dashboards
@router.get("/reports/builtin", summary="内置仪表板（实时数字） / the office's built-in dashboards, live")
def builtin_dashboards(principal: ReportReader, db: DbSession, date_from: dt.date | None = None,
                       date_to: dt.date | None = None,
                       unit: Annotated[str | None, Query(max_length=200)] = None) -> list[dict]:
    return builtin.dashboards(db, principal=principal, date_from=date_from, date_to=date_to, unit=unit)


@router.post("/reports/builtin/export", summary="导出内置仪表板 / export a built-in dashboard (PDF, Excel)")
def builtin_export(body: ExportIn, principal: ReportReader, db: DbSession,
                   format: Annotated[Literal["xlsx", "pdf"], Query()] = "pdf") -> Response:
    g = body.globals or GlobalValues()
    boards = builtin.dashboards(db, principal=principal, date_from=g.date_from, date_to=g.date_to, unit=g.unit)
    chosen = [b for b in boards if not body.key or b["key"] == body.key] or boards
    tiles = [t for b in chosen for t in b["tiles"]]
    title = " / ".join(b["title"] for b in chosen)
    data = export.to_pdf(title, tiles, body.images) if format == "pdf" else export.to_excel(title, tiles)
    return _file(data, format, f"dashboard-{body.key or 'builtin'}")


# --------------------------------------------------------------------------- saved reports
@router.get("/reports", response_model=list[ReportOut], summary="报表（本人的和分享给我的） / reports")
def list_reports(principal: ReportReader, db: DbSession) -> list[ReportOut]:
    return [ReportOut.model_validate(r, from_attributes=True) for r in service.list_reports(db, principal=principal)]


@router.post("/reports", response_model=ReportOut, status_code=201, summary="保存报表 / save a report")
def create_report(body: ReportIn, principal: ReportWriter, db: DbSession, database: DatabaseDep) -> ReportOut:
    r = service.save_report(db, database, data=body, principal=principal)
    return ReportOut.model_validate(r, from_attributes=True)


@router.get("/reports/dashboards", response_model=list[DashboardOut], summary="仪表板 / dashboards")
def list_dashboards(principal: ReportReader, db: DbSession) -> list[DashboardOut]:
    return [DashboardOut.model_validate(d, from_attributes=True)
            for d in service.list_dashboards(db, principal=principal)]


@router.post("/reports/dashboards", response_model=DashboardOut, status_code=201, summary="保存仪表板 / save a dashboard")
def create_dashboard(body: DashboardIn, principal: ReportWriter, db: DbSession) -> DashboardOut:
    return DashboardOut.model_validate(service.save_dashboard(db, data=body, principal=principal), from_attributes=True)


@router.get("/reports/dashboards/{dashboard_id}", response_model=DashboardOut, summary="一个仪表板 / one dashboard")
def get_dashboard(dashboard_id: str, principal: ReportReader, db: DbSession) -> DashboardOut:
    d = service.get_dashboard(db, dashboard_id=dashboard_id, principal=principal)
    return DashboardOut.model_validate(d, from_attributes=True)


@router.put("/reports/dashboards/{dashboard_id}", response_model=DashboardOut, summary="修改仪表板 / change a dashboard")
def update_dashboard(dashboard_id: str, body: DashboardIn, principal: ReportWriter, db: DbSession) -> DashboardOut:
    d = service.save_dashboard(db, data=body, principal=principal, dashboard_id=dashboard_id)
    return DashboardOut.model_validate(d, from_attributes=True)


@router.delete("/reports/dashboards/{dashboard_id}", status_code=204, summary="删除仪表板 / delete a dashboard")
def delete_dashboard(dashboard_id: str, principal: ReportWriter, db: DbSession) -> Response:
    service.delete_dashboard(db, dashboard_id=dashboard_id, principal=principal)
    return Response(status_code=204)


def _dashboard_tiles(db: DbSession, database: DatabaseDep, dashboard_id: str, g: GlobalValues | None,
                     principal: ReportReader) -> list[dict[str, Any]]:
    tiles = []
    for item in service.dashboard_data(db, database, dashboard_id=dashboard_id, globals_=g, principal=principal):
        r = item["report"]
        tile: dict[str, Any] = {**item["tile"], "title": item["tile"].get("title") or (r.title if r else "")}
        if r is not None:
            tile |= {"chart": r.chart, "options": r.options, "spec": r.spec}
        if "result" in item:
            tile |= _tile(tile["title"], item["result"]) | {"total": item["result"].total}
        else:
            tile |= {"error": item["error"], "columns": [], "rows": []}
        tiles.append(tile)
    return tiles


@router.post("/reports/dashboards/{dashboard_id}/data",
             summary="仪表板各图块的数据（按全局筛选） / every tile's figures under the global filters")
def dashboard_data(dashboard_id: str, body: GlobalValues, principal: ReportReader, db: DbSession,
                   database: DatabaseDep) -> list[dict[str, Any]]:
    return _dashboard_tiles(db, database, dashboard_id, body, principal)


@router.post("/reports/dashboards/{dashboard_id}/export", summary="导出仪表板 / export a dashboard (PDF, Excel)")
def dashboard_export(dashboard_id: str, body: ExportIn, principal: ReportReader, db: DbSession, database: DatabaseDep,
                     format: Annotated[Literal["xlsx", "pdf"], Query()] = "pdf") -> Response:
    d = service.get_dashboard(db, dashboard_id=dashboard_id, principal=principal)
    tiles = _dashboard_tiles(db, database, dashboard_id, body.globals, principal)
    data = export.to_pdf(d.title, tiles, body.images) if format == "pdf" else export.to_excel(d.title, tiles)
    audit.record(db, action="reports.dashboard.export", principal=principal, object_type="dashboard",
                 object_id=dashboard_id, detail={"format": format})
    return _file(data, format, f"dashboard-{dashboard_id[:8]}")


@router.get("/reports/{report_id}", response_model=ReportOut, summary="一个报表 / one report")
def get_report(report_id: str, principal: ReportReader, db: DbSession) -> ReportOut:
    return ReportOut.model_validate(service.get_report(db, report_id=report_id, principal=principal),
                                    from_attributes=True)


@router.put("/reports/{report_id}", response_model=ReportOut, summary="修改报表 / change a report")
def update_report(report_id: str, body: ReportIn, principal: ReportWriter, db: DbSession,
                  database: DatabaseDep) -> ReportOut:
    r = service.save_report(db, database, data=body, principal=principal, report_id=report_id)
    return ReportOut.model_validate(r, from_attributes=True)


@router.delete("/reports/{report_id}", status_code=204, summary="删除报表 / delete a report")
def delete_report(report_id: str, principal: ReportWriter, db: DbSession) -> Response:
    service.delete_report(db, report_id=report_id, principal=principal)
    return Response(status_code=204)


@router.post("/reports/{report_id}/run", response_model=QueryResult,
             summary="运行报表（分页、全局筛选、下钻） / run a report: page, global filters, drill to rows")
def run_report(report_id: str, body: RunIn, principal: ReportReader, db: DbSession,
               database: DatabaseDep) -> QueryResult:
    return service.run_report(db, database, report_id=report_id, body=body, principal=principal)
