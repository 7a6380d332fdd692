"""Routes under /api/v1/catalog/editions: freeze the published versions under a name, and read them back."""

from __future__ import annotations

from fastapi import APIRouter

from pbshare.catalog.deps import CatalogReader, CatalogWriter
from pbshare.catalog.editions import service
from pbshare.catalog.editions.schemas import EditionIn, EditionOut
from pbshare.core.http import DbSession

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.get("/editions", response_model=list[EditionOut], summary="目录版本 / catalog editions")
def editions(principal: CatalogReader, db: DbSession):
    return [EditionOut.of(e, service.edition_documents(db, e)) for e in service.list_editions(db)]


@router.post("/editions", response_model=EditionOut, status_code=201,
             summary="以当前已发布版本形成目录版本 / freeze the published versions as an edition")
def create_edition(body: EditionIn, principal: CatalogWriter, db: DbSession):
    e = service.create_edition(db, name=body.name, edition_date=body.edition_date, description=body.description,
                               principal=principal)
    return EditionOut.of(e, service.edition_documents(db, e))


@router.get("/editions/{edition_id}", summary="目录版本内容 / an edition's resources (full documents)")
def edition(edition_id: str, principal: CatalogReader, db: DbSession) -> dict:
    e = service.get_edition(db, edition_id=edition_id)
    documents = service.edition_documents(db, e)
    return {**EditionOut.of(e, documents).model_dump(), "documents": documents}
