"""The auditor's routes: search the audit log, export it to Excel, verify the chain, see destruction records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from pbshare.core.http import DataDir, DbSession
from pbshare.core.pagination import Page, PageParams, page_params
from pbshare.security.audit import log as audit_log
from pbshare.security.audit import service as audit
from pbshare.security.audit.schemas import AuditRecordOut, ChainReportOut
from pbshare.security.deps import AuditReader

router = APIRouter(prefix="/audit", tags=["audit"])



def audit_filter(
    user: str | None = Query(None, max_length=64, description="用户名 / user name (exact)"),
    action: str | None = Query(None, max_length=64, description="操作，如 auth 或 auth.login / action or its prefix"),
    object_type: str | None = Query(None, max_length=64, description="对象类型 / object type"),
    object_id: str | None = Query(None, max_length=128, description="对象编号 / object id"),
    result: str | None = Query(None, max_length=16, description="ok | denied | challenge | error"),
    since: datetime | None = Query(None, description="起始时间 / from (ISO 8601)"),
    until: datetime | None = Query(None, description="截止时间 / until (ISO 8601, exclusive)"),
) -> audit_log.AuditFilter:
    return audit_log.AuditFilter(user=user, action=action, object_type=object_type, object_id=object_id,
                                 result=result, since=since, until=until)


@router.get("/records", response_model=Page[AuditRecordOut], summary="检索审计日志 / search the audit log (auditor)")
def search(f: Annotated[audit_log.AuditFilter, Depends(audit_filter)],
           params: Annotated[PageParams, Depends(page_params)], principal: AuditReader, db: DbSession) -> Page:
    rows, total = audit_log.search(db, f=f, params=params)
    repeats = audit.repeat_counts(db, seqs=[r.seq for r in rows])
    names = audit.object_names(db, objects=[(r.object_type, r.object_id) for r in rows])
    items = []
    for r in rows:
        name, link = names.get((r.object_type or "", r.object_id or ""), (None, None))
        items.append(AuditRecordOut.model_validate(r).model_copy(
            update={"repeats": repeats.get(r.seq, 1), "object_name": name, "object_link": link}))
    return Page(items=items, total=total, page=params.page, size=params.size)


@router.get("/records/export", summary="导出审计日志为 Excel / export the matching records to Excel (audited)",
            response_class=Response, responses={200: {"content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def export(request: Request, f: Annotated[audit_log.AuditFilter, Depends(audit_filter)], principal: AuditReader,
           db: DbSession) -> Response:
    body, count = audit_log.export_xlsx(db, f=f)
    audit.record(db, action="audit.export", principal=principal, object_type="audit_record",
                 ip=request.client.host if request.client else None, detail={"filter": f.as_detail(), "rows": count})
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.xlsx"'})


@router.get("/verify", response_model=ChainReportOut, summary="校验审计链 / verify the SM3 chain and the archives")
def verify(request: Request, principal: AuditReader, db: DbSession, data_dir: DataDir) -> ChainReportOut:
    report = audit.verify(db, data_dir=data_dir)
    archives = audit_log.verify_archives(db, data_dir=data_dir)
    audit.record(db, action="audit.verify", principal=principal, result="ok" if report.ok else "error",
                 ip=request.client.host if request.client else None,
                 detail={"checked": report.checked, "first_bad_seq": report.first_bad_seq})
    return ChainReportOut(**report.__dict__, archives=archives)
