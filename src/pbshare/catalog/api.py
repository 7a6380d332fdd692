"""Routes under /api/v1/catalog: units, resources and their lifecycle, versions, editions,
custom attributes, import and export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.catalog import service, transfer
from pbshare.catalog.models import Resource, ResourceState
from pbshare.catalog.schemas import (
    AttributeIn,
    AttributeOut,
    ConsentIn,
    ConsentOut,
    EditionIn,
    EditionOut,
    ImportReport,
    PublishIn,
    ResourceDoc,
    ResourceOut,
    ResourceRow,
    UnitIn,
    UnitOut,
    VersionOut,
    VersionRow,
    WithdrawIn,
)
from pbshare.core.errors import Invalid, TooLarge
from pbshare.core.http import UNIT_OF_WORK
from pbshare.core.i18n import T
from pbshare.core.pagination import Page, PageParams, page_params
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

router = APIRouter(prefix="/catalog", tags=["catalog"])

# Resource bodies are read as plain JSON so every problem comes back at once, by field, in the
# user's language; OpenAPI still shows their shape.
_DOC_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/ResourceDoc"}}}}}


# ---------------------------------------------------------------- units


def _unit_out(unit, counts: dict[str, int] | None = None) -> UnitOut:
    return UnitOut(id=unit.id, code=unit.code, name=unit.name, kind=unit.kind, credit_code=unit.credit_code,
                   state=unit.state, description=unit.description, contacts=unit.contacts or [],
                   systems=unit.systems or [], resources=(counts or {}).get(unit.id, 0), updated_at=unit.updated_at)


@router.get("/units", response_model=list[UnitOut], summary="单位列表 / units")
def list_units(principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK):
    counts = service.count_resources_by_unit(db)
    return [_unit_out(u, counts) for u in unit_service.list_units(db)]


@router.get("/units/{code}", response_model=UnitOut, summary="单位详情 / one unit")
def get_unit(code: str, principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK):
    return _unit_out(unit_service.get_unit_by_code(db, code=code), service.count_resources_by_unit(db))


@router.put("/units/{code}", response_model=UnitOut, summary="新建或修改单位 / create or update a unit")
def save_unit(code: str, body: UnitIn, principal: Principal = Depends(require(Perm.units_write)),
              db: Session = UNIT_OF_WORK):
    if body.code != code:
        raise Invalid(T("单位代码与地址不一致", "The unit code differs from the address"), code="code_mismatch")
    unit = service.save_unit(db, code=code, name=body.name, kind=body.kind, credit_code=body.credit_code or "",
                             state=body.state, description=body.description,
                             contacts=[c.model_dump(exclude_none=True) for c in body.contacts],
                             systems=[s.model_dump(exclude_none=True) for s in body.systems], principal=principal)
    return _unit_out(unit, service.count_resources_by_unit(db))


# ---------------------------------------------------------------- resources


def _row(res: Resource) -> ResourceRow:
    return ResourceRow(id=res.id, code=res.code, name=res.name, classification=res.classification,
                       provider=res.provider.code, provider_name=res.provider.name, direction=res.direction,
                       share_type=res.share_type, frequency=res.frequency, open_scope=res.open_scope,
                       method=res.methods or [], state=res.state, version=res.version, publish_date=res.publish_date,
                       items=len(res.items), updated_at=res.updated_at)


def _out(db: Session, res: Resource) -> ResourceOut:
    published = service.document_at(db, code=res.code, version=res.version) if res.version else None
    return ResourceOut(
        id=res.id, state=res.state, version=res.version, consultation_round=res.consultation_round,
        publish_date=res.publish_date, provider_name=res.provider.name,
        document=ResourceDoc(**service.document_of(res)), published=ResourceDoc(**published) if published else None,
        consents=[ConsentOut(**c) for c in service.consents(db, res)] if res.consultation_round else [],
        can_publish=service.can_publish(db, res), updated_at=res.updated_at,
    )


@router.get("/resources", response_model=Page[ResourceRow], summary="目录资源列表 / catalog resources")
def list_resources(
    q: str | None = Query(None, max_length=100, description="代码、名称或摘要 / code, name or abstract"),
    provider: str | None = Query(None, max_length=32, description="提供单位代码 / provider unit code"),
    direction: str | None = Query(None, pattern="^(inbound|outbound)$"),
    frequency: str | None = Query(None, max_length=16),
    share_type: str | None = Query(None, max_length=16),
    state: str | None = Query(None, max_length=16),
    params: PageParams = Depends(page_params),
    principal: Principal = Depends(require(Perm.catalog_read)),
    db: Session = UNIT_OF_WORK,
) -> Page[ResourceRow]:
    rows, total = service.search_resources(db, params=params, q=q, provider=provider, direction=direction,
                                           frequency=frequency, share_type=share_type, state=state)
    return Page(items=[_row(r) for r in rows], total=total, page=params.page, size=params.size)


@router.get("/resources/stats", summary="按状态统计 / resources by state")
def resource_stats(principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK) -> dict:
    out: dict[str, int] = {s.value: 0 for s in ResourceState}
    for (state,) in db.execute(select(Resource.state)):
        out[state] = out.get(state, 0) + 1
    return out


@router.post("/resources/validate", summary="检查资源内容（不保存） / check a resource without saving",
             openapi_extra=_DOC_BODY)
def validate_resource(body: dict[str, Any] = Body(...), strict: bool = Query(False),
                      principal: Principal = Depends(require(Perm.catalog_read)),
                      db: Session = UNIT_OF_WORK) -> dict:
    try:
        service.validate_document(db, body, strict=strict)
    except Invalid as exc:
        return {"ok": False, "problems": exc.detail or [{"field": "", "reason": exc.message.render()}]}
    return {"ok": True, "problems": []}


@router.post("/resources", response_model=ResourceOut, status_code=201, summary="新建资源（草稿） / new draft",
             openapi_extra=_DOC_BODY)
def create_resource(body: dict[str, Any] = Body(...), principal: Principal = Depends(require(Perm.catalog_write)),
                    db: Session = UNIT_OF_WORK):
    return _out(db, service.create_resource(db, doc=body, principal=principal))


@router.get("/resources/{code}", response_model=ResourceOut, summary="资源详情 / one resource")
def get_resource(code: str, principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK):
    return _out(db, service.get_resource_row(db, code=code))


@router.put("/resources/{code}", response_model=ResourceOut, summary="修改资源 / edit the working copy",
            openapi_extra=_DOC_BODY)
def update_resource(code: str, body: dict[str, Any] = Body(...),
                    principal: Principal = Depends(require(Perm.catalog_write)), db: Session = UNIT_OF_WORK):
    return _out(db, service.update_resource(db, code=code, doc=body, principal=principal))


@router.delete("/resources/{code}", status_code=204, summary="删除未发布的资源 / delete a never-published resource")
def delete_resource(code: str, principal: Principal = Depends(require(Perm.catalog_write)),
                    db: Session = UNIT_OF_WORK) -> Response:
    service.delete_resource(db, code=code, principal=principal)
    return Response(status_code=204)


@router.post("/resources/{code}/consultation", response_model=ResourceOut,
             summary="提交征求意见 / send to consultation")
def consult(code: str, principal: Principal = Depends(require(Perm.catalog_write)), db: Session = UNIT_OF_WORK):
    return _out(db, service.start_consultation(db, code=code, principal=principal))


@router.post("/resources/{code}/consents", response_model=ResourceOut,
             summary="登记单位意见 / record a party's consent (unit operators: own unit only)")
def consent(code: str, body: ConsentIn, principal: Principal = Depends(require(Perm.catalog_consent)),
            db: Session = UNIT_OF_WORK):
    service.record_consent(db, code=code, unit_code=body.unit_code, agreed=body.agreed, decided_on=body.decided_on,
                           comment=body.comment, principal=principal)
    return _out(db, service.get_resource_row(db, code=code))


@router.post("/resources/{code}/publish", response_model=ResourceOut, summary="发布 / publish")
def publish(code: str, body: PublishIn | None = None, principal: Principal = Depends(require(Perm.catalog_write)),
            db: Session = UNIT_OF_WORK):
    service.publish(db, code=code, note=body.note if body else None, principal=principal)
    return _out(db, service.get_resource_row(db, code=code))


@router.post("/resources/{code}/withdraw", response_model=ResourceOut, summary="撤销 / withdraw")
def withdraw(code: str, body: WithdrawIn, principal: Principal = Depends(require(Perm.catalog_write)),
             db: Session = UNIT_OF_WORK):
    return _out(db, service.withdraw(db, code=code, reason=body.reason, principal=principal))


@router.post("/resources/{code}/reinstate", response_model=ResourceOut, summary="恢复已撤销资源 / reinstate")
def reinstate(code: str, principal: Principal = Depends(require(Perm.catalog_write)), db: Session = UNIT_OF_WORK):
    return _out(db, service.reinstate(db, code=code, principal=principal))


@router.get("/resources/{code}/versions", response_model=list[VersionRow], summary="版本历史 / versions")
def versions(code: str, principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK):
    return [VersionRow(version=v.version, published_at=v.published_at, published_by=v.published_by, note=v.note)
            for v in service.list_versions(db, code=code)]


@router.get("/resources/{code}/versions/{version}", response_model=VersionOut, summary="某一版本 / one version")
def version(code: str, version: int, principal: Principal = Depends(require(Perm.catalog_read)),
            db: Session = UNIT_OF_WORK):
    v = service.get_version(db, code=code, version=version)
    return VersionOut(version=v.version, published_at=v.published_at, published_by=v.published_by, note=v.note,
                      consents=v.consents or [], document=ResourceDoc(**v.document))


@router.get("/resources/{code}/diff", summary="两个版本的差异 / differences between two versions ('draft' = working copy)")
def diff(code: str, from_version: str = Query(..., alias="from", max_length=8),
         to_version: str = Query("draft", alias="to", max_length=8),
         principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK) -> dict:
    return service.diff_versions(db, code=code, from_version=from_version, to_version=to_version)


@router.get("/consultations", summary="征求意见中的资源 / resources in consultation (a unit sees its own)")
def consultations(principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK) -> list:
    out = []
    for res in db.scalars(select(Resource).where(Resource.state == ResourceState.consultation.value)
                          .order_by(Resource.code)):
        parties = service.consents(db, res)
        if not principal.is_office and all(p["unit_code"] != principal.unit_code for p in parties):
            continue
        out.append({"code": res.code, "name": res.name, "round": res.consultation_round, "consents": parties})
    return out


@router.get("/items", summary="按名称查找信息项 / find info items")
def items(q: str = Query(..., min_length=1, max_length=100), principal: Principal = Depends(require(Perm.catalog_read)),
          db: Session = UNIT_OF_WORK) -> list[dict]:
    return service.search_items(db, q=q)


# ---------------------------------------------------------------- editions


def _edition_out(db: Session, e) -> EditionOut:
    docs = service.edition_documents(db, e)
    return EditionOut(id=e.id, name=e.name, edition_date=e.edition_date, description=e.description,
                      created_at=e.created_at, created_by=e.created_by,
                      resources=[{"code": d["code"], "name": d["document"]["name"], "version": d["version"]}
                                 for d in docs])


@router.get("/editions", response_model=list[EditionOut], summary="目录版本 / catalog editions")
def editions(principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK):
    return [_edition_out(db, e) for e in service.list_editions(db)]


@router.post("/editions", response_model=EditionOut, status_code=201,
             summary="以当前已发布版本形成目录版本 / freeze the published versions as an edition")
def create_edition(body: EditionIn, principal: Principal = Depends(require(Perm.catalog_write)),
                   db: Session = UNIT_OF_WORK):
    e = service.create_edition(db, name=body.name, edition_date=body.edition_date, description=body.description,
                               principal=principal)
    return _edition_out(db, e)


@router.get("/editions/{edition_id}", summary="目录版本内容 / an edition's resources (full documents)")
def edition(edition_id: str, principal: Principal = Depends(require(Perm.catalog_read)),
            db: Session = UNIT_OF_WORK) -> dict:
    e = service.get_edition(db, edition_id=edition_id)
    return {**_edition_out(db, e).model_dump(), "documents": service.edition_documents(db, e)}


# ---------------------------------------------------------------- custom attributes


def _attr_out(d) -> AttributeOut:
    return AttributeOut(id=d.id, code=d.code, label_zh=d.label_zh, label_en=d.label_en, type=d.type,
                        required=d.required, options=d.options or [], position=d.position)


@router.get("/attributes", response_model=list[AttributeOut], summary="自定义元数据字段 / custom attributes")
def attributes(principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK):
    return [_attr_out(d) for d in service.list_attributes(db)]


@router.put("/attributes/{code}", response_model=AttributeOut, summary="定义或修改字段 / define or change one")
def save_attribute(code: str, body: AttributeIn, principal: Principal = Depends(require(Perm.catalog_write)),
                   db: Session = UNIT_OF_WORK):
    if body.code != code:
        raise Invalid(T("字段代码与地址不一致", "The attribute code differs from the address"), code="code_mismatch")
    return _attr_out(service.save_attribute(db, **body.model_dump(), principal=principal))


@router.delete("/attributes/{code}", status_code=204, summary="删除字段 / delete an attribute")
def delete_attribute(code: str, principal: Principal = Depends(require(Perm.catalog_write)),
                     db: Session = UNIT_OF_WORK) -> Response:
    service.delete_attribute(db, code=code, principal=principal)
    return Response(status_code=204)


# ---------------------------------------------------------------- import and export


@router.post("/import", response_model=ImportReport,
             summary="导入目录文件（yaml/json/xlsx；出错则全部不导入） / import a catalog file (all or nothing)")
async def import_catalog(request: Request, file: UploadFile = File(...), publish: bool = Form(False),
                         principal: Principal = Depends(require(Perm.catalog_write)), db: Session = UNIT_OF_WORK):
    content = await file.read(transfer.MAX_IMPORT_BYTES + 1)
    if len(content) > transfer.MAX_IMPORT_BYTES:
        raise TooLarge(T("文件超过 {n} MB", "The file is larger than {n} MB", n=transfer.MAX_IMPORT_BYTES // 2**20))
    return transfer.import_file(db, content=content, filename=file.filename or "", publish=publish,
                                principal=principal)


@router.get("/export", summary="导出目录 / export the catalog (yaml, json, excel, dcat)")
def export_catalog(fmt: str = Query("yaml", alias="format", pattern="^(yaml|json|excel|dcat)$"),
                   published: bool = Query(False, description="只导出生效版本 / versions in effect only"),
                   principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK):
    body, media = transfer.export_catalog(db, fmt=fmt, published_only=published, principal=principal)
    name = f"catalog.{transfer.EXTENSIONS[fmt]}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/dcat", summary="已发布目录（DCAT-AP JSON-LD） / the published catalog for harvesters")
def dcat(principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK) -> Response:
    body, media = transfer.export_catalog(db, fmt="dcat", principal=principal)
    return Response(body, media_type=media)


@router.get("/resources/{code}/spec", summary="当前生效版本（供其他模块使用） / the version in effect, as other "
                                               "domains see it")
def spec(code: str, principal: Principal = Depends(require(Perm.catalog_read)), db: Session = UNIT_OF_WORK) -> dict:
    return service.get_resource(db, code=code).model_dump(mode="json")
