"""Routes under /api/v1/catalog for import and export (YAML, JSON, Excel, DCAT-AP), and one resource's
version in effect as other domains read it (the document shape; kept last so the routes' order is unchanged)."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from pbshare.catalog.deps import CatalogReader, CatalogWriter
from pbshare.catalog.resources import service as resource_service
from pbshare.catalog.transfer import service
from pbshare.catalog.transfer.schemas import ImportReport
from pbshare.core.errors import TooLarge
from pbshare.core.http import DbSession
from pbshare.core.i18n import T

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.post("/import", response_model=ImportReport,
             summary="导入目录文件（yaml/json/xlsx；出错则全部不导入） / import a catalog file (all or nothing)")
async def import_catalog(request: Request, *, file: UploadFile = File(...), publish: bool = Form(False),
                         principal: CatalogWriter, db: DbSession):
    content = await file.read(service.MAX_IMPORT_BYTES + 1)
    if len(content) > service.MAX_IMPORT_BYTES:
        raise TooLarge(T("文件超过 {n} MB", "The file is larger than {n} MB", n=service.MAX_IMPORT_BYTES // 2**20))
    return service.import_file(db, content=content, filename=file.filename or "", publish=publish,
                               principal=principal)


@router.get("/export", summary="导出目录 / export the catalog (yaml, json, excel, dcat)")
def export_catalog(*, fmt: str = Query("yaml", alias="format", pattern="^(yaml|json|excel|dcat)$"),
                   published: bool = Query(False, description="只导出生效版本 / versions in effect only"),
                   principal: CatalogReader, db: DbSession):
    body, media = service.export_catalog(db, fmt=fmt, published_only=published, principal=principal)
    name = f"catalog.{service.EXTENSIONS[fmt]}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/dcat", summary="已发布目录（DCAT-AP JSON-LD） / the published catalog for harvesters")
def dcat(principal: CatalogReader, db: DbSession) -> Response:
    body, media = service.export_catalog(db, fmt="dcat", principal=principal)
    return Response(body, media_type=media)


@router.get("/resources/{code}/spec", summary="当前生效版本（供其他模块使用） / the version in effect, as other "
                                               "domains see it")
def spec(code: str, principal: CatalogReader, db: DbSession) -> dict:
    return resource_service.get_resource(db, code=code).model_dump(mode="json")
