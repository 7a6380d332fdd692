"""Routes under /api/v1/catalog/attributes: the admin's extra metadata fields."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from pbshare.catalog.attributes import service
from pbshare.catalog.attributes.schemas import AttributeIn, AttributeOut
from pbshare.catalog.deps import CatalogReader, CatalogWriter
from pbshare.core.errors import Invalid
from pbshare.core.http import DbSession
from pbshare.core.i18n import T

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.get("/attributes", response_model=list[AttributeOut], summary="自定义元数据字段 / custom attributes")
def attributes(principal: CatalogReader, db: DbSession):
    return [AttributeOut.of(d) for d in service.list_attributes(db)]


@router.put("/attributes/{code}", response_model=AttributeOut, summary="定义或修改字段 / define or change one")
def save_attribute(code: str, body: AttributeIn, principal: CatalogWriter, db: DbSession):
    if body.code != code:
        raise Invalid(T("字段代码与地址不一致", "The attribute code differs from the address"), code="code_mismatch")
    return AttributeOut.of(service.save_attribute(db, **body.model_dump(), principal=principal))


@router.delete("/attributes/{code}", status_code=204, summary="删除字段 / delete an attribute")
def delete_attribute(code: str, principal: CatalogWriter, db: DbSession) -> Response:
    service.delete_attribute(db, code=code, principal=principal)
    return Response(status_code=204)
