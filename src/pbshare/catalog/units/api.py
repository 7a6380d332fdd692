"""Routes under /api/v1/catalog/units: the unit registry as the catalog shows and edits it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pbshare.catalog.deps import CatalogReader, UnitRegistrar
from pbshare.catalog.units import service
from pbshare.catalog.units.schemas import UnitIn, UnitOut
from pbshare.core.errors import Invalid
from pbshare.core.http import DbSession
from pbshare.core.i18n import T
from pbshare.units import service as unit_service

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.get("/units", response_model=list[UnitOut], summary="单位列表 / units")
def list_units(principal: CatalogReader, db: DbSession,
               q: Annotated[str | None, Query(max_length=100, description="名称或代码中包含 / part of the name or code")] = None):
    counts = service.count_resources_by_unit(db)
    return [UnitOut.of(u, resources=counts.get(u.id, 0)) for u in unit_service.list_units(db, q=q)]


@router.get("/units/{code}", response_model=UnitOut, summary="单位详情 / one unit")
def get_unit(code: str, principal: CatalogReader, db: DbSession):
    unit = unit_service.get_unit_by_code(db, code=code)
    return UnitOut.of(unit, resources=service.count_resources_by_unit(db).get(unit.id, 0))


@router.put("/units/{code}", response_model=UnitOut, summary="新建或修改单位 / create or update a unit")
def save_unit(code: str, body: UnitIn, principal: UnitRegistrar, db: DbSession):
    if body.code != code:
        raise Invalid(T("单位代码与地址不一致", "The unit code differs from the address"), code="code_mismatch")
    unit = service.save_unit(db, code=code, name=body.name, kind=body.kind, credit_code=body.credit_code or "",
                             state=body.state, description=body.description,
                             contacts=[c.model_dump(exclude_none=True) for c in body.contacts],
                             systems=[s.model_dump(exclude_none=True) for s in body.systems], principal=principal)
    return UnitOut.of(unit, resources=service.count_resources_by_unit(db).get(unit.id, 0))
