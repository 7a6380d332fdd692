"""Routes under /api/v1/catalog for resources: the list and search, documents, the publishing
lifecycle, consents, versions and their differences, consultations and info items."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import Response

from pbshare.catalog.deps import CatalogReader, CatalogWriter, ConsentGiver
from pbshare.catalog.resources import documents, service
from pbshare.catalog.resources.schemas import (
    ConsentIn,
    PublishIn,
    ResourceOut,
    ResourceRow,
    VersionOut,
    VersionRow,
    WithdrawIn,
)
from pbshare.core.errors import Invalid
from pbshare.core.http import DbSession
from pbshare.core.i18n import T
from pbshare.core.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/catalog", tags=["catalog"])

# Resource bodies are read as plain JSON so every problem comes back at once, by field, in the
# user's language; OpenAPI still shows their shape.
_DOC_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/ResourceDoc"}}}}}


@router.get("/resources", response_model=Page[ResourceRow], summary="目录资源列表 / catalog resources")
def list_resources(
    *,
    q: str | None = Query(None, max_length=100, description="代码、名称或摘要 / code, name or abstract"),
    provider: str | None = Query(None, max_length=32, description="提供单位代码 / provider unit code"),
    direction: str | None = Query(None, pattern="^(inbound|outbound)$"),
    frequency: str | None = Query(None, max_length=16),
    share_type: str | None = Query(None, max_length=16),
    state: str | None = Query(None, max_length=16),
    params: PageParams = Depends(page_params),
    principal: CatalogReader,
    db: DbSession,
) -> Page[ResourceRow]:
    rows, total = service.search_resources(db, params=params, q=q, provider=provider, direction=direction,
                                           frequency=frequency, share_type=share_type, state=state)
    return Page(items=[ResourceRow.of(r) for r in rows], total=total, page=params.page, size=params.size)


@router.get("/resources/stats", summary="按状态统计 / resources by state")
def resource_stats(principal: CatalogReader, db: DbSession) -> dict:
    return service.count_by_state(db)


@router.post("/resources/validate", summary="检查资源内容（不保存） / check a resource without saving",
             openapi_extra=_DOC_BODY)
def validate_resource(*, body: dict[str, Any] = Body(...), strict: bool = Query(False), principal: CatalogReader,
                      db: DbSession) -> dict:
    try:
        documents.validate_document(db, body, strict=strict)
    except Invalid as exc:
        return {"ok": False, "problems": exc.detail or [{"field": "", "reason": exc.message.render()}]}
    return {"ok": True, "problems": []}


@router.post("/resources", response_model=ResourceOut, status_code=201, summary="新建资源（草稿） / new draft",
             openapi_extra=_DOC_BODY)
def create_resource(*, body: dict[str, Any] = Body(...), principal: CatalogWriter, db: DbSession):
    return service.resource_out(db, service.create_resource(db, doc=body, principal=principal))


@router.get("/resources/{code}", response_model=ResourceOut, summary="资源详情 / one resource")
def get_resource(code: str, principal: CatalogReader, db: DbSession):
    return service.resource_out(db, service.get_resource_row(db, code=code))


@router.put("/resources/{code}", response_model=ResourceOut, summary="修改资源 / edit the working copy",
            openapi_extra=_DOC_BODY)
def update_resource(code: str, *, body: dict[str, Any] = Body(...), principal: CatalogWriter, db: DbSession):
    return service.resource_out(db, service.update_resource(db, code=code, doc=body, principal=principal))


@router.delete("/resources/{code}", status_code=204, summary="删除未发布的资源 / delete a never-published resource")
def delete_resource(code: str, principal: CatalogWriter, db: DbSession) -> Response:
    service.delete_resource(db, code=code, principal=principal)
    return Response(status_code=204)


@router.post("/resources/{code}/consultation", response_model=ResourceOut,
             summary="提交征求意见 / send to consultation")
def consult(code: str, principal: CatalogWriter, db: DbSession):
    return service.resource_out(db, service.start_consultation(db, code=code, principal=principal))


@router.post("/resources/{code}/consents", response_model=ResourceOut,
             summary="登记单位意见 / record a party's consent (unit operators: own unit only)")
def consent(code: str, body: ConsentIn, principal: ConsentGiver, db: DbSession):
    try:
        evidence_file = base64.b64decode(body.evidence_base64, validate=True) if body.evidence_base64 else None
    except binascii.Error:
        raise Invalid(T("附件内容无法读取，请重新选择文件", "The attachment could not be read; choose the file again"),
                      code="bad_evidence") from None
    service.record_consent(db, code=code, unit_code=body.unit_code, agreed=body.agreed, decided_on=body.decided_on,
                           comment=body.comment, principal=principal, evidence=body.evidence,
                           evidence_name=body.evidence_name, evidence_file=evidence_file)
    return service.resource_out(db, service.get_resource_row(db, code=code))


@router.get("/resources/{code}/consents/{round_no}/{unit_code}/evidence",
            summary="代为登记意见的依据文件 / the evidence of an opinion recorded on a unit's behalf")
def consent_evidence(code: str, round_no: int, unit_code: str, principal: CatalogReader, db: DbSession) -> Response:
    name, data = service.consent_evidence(db, code=code, round_no=round_no, unit_code=unit_code)
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.post("/resources/{code}/publish", response_model=ResourceOut, summary="发布 / publish")
def publish(code: str, *, body: PublishIn | None = None, principal: CatalogWriter, db: DbSession):
    service.publish(db, code=code, note=body.note if body else None, principal=principal)
    return service.resource_out(db, service.get_resource_row(db, code=code))


@router.post("/resources/{code}/withdraw", response_model=ResourceOut, summary="撤销 / withdraw")
def withdraw(code: str, body: WithdrawIn, principal: CatalogWriter, db: DbSession):
    return service.resource_out(db, service.withdraw(db, code=code, reason=body.reason, principal=principal))


@router.post("/resources/{code}/reinstate", response_model=ResourceOut, summary="恢复已撤销资源 / reinstate")
def reinstate(code: str, principal: CatalogWriter, db: DbSession):
    return service.resource_out(db, service.reinstate(db, code=code, principal=principal))


@router.get("/resources/{code}/versions", response_model=list[VersionRow], summary="版本历史 / versions")
def versions(code: str, principal: CatalogReader, db: DbSession):
    return [VersionRow.of(v) for v in service.list_versions(db, code=code)]


@router.get("/resources/{code}/versions/{version}", response_model=VersionOut, summary="某一版本 / one version")
def version(code: str, version: int, principal: CatalogReader, db: DbSession):
    return VersionOut.of(service.get_version(db, code=code, version=version))


@router.get("/resources/{code}/diff", summary="两个版本的差异 / differences between two versions ('draft' = working copy)")
def diff(code: str, *, from_version: str = Query(..., alias="from", max_length=8),
         to_version: str = Query("draft", alias="to", max_length=8), principal: CatalogReader, db: DbSession) -> dict:
    return service.diff_versions(db, code=code, from_version=from_version, to_version=to_version)


@router.get("/consultations", summary="征求意见中的资源 / resources in consultation (a unit sees its own)")
def consultations(principal: CatalogReader, db: DbSession) -> list:
    return service.open_consultations(db, principal=principal)


@router.get("/items", summary="按名称查找信息项 / find info items")
def items(*, q: str = Query(..., min_length=1, max_length=100), principal: CatalogReader, db: DbSession) -> list[dict]:
    return service.search_items(db, q=q)
