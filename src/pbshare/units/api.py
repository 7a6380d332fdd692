"""Routes under /api/v1/units: the unit registry as every signed-in person may read it, to pick a unit by part of
its name or code (app/pickers.js). The full record (contacts, systems) stays under /catalog/units."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from pbshare.core.http import DbSession
from pbshare.units import service

router = APIRouter(prefix="/units", tags=["units"])


class UnitBrief(BaseModel):
    code: str
    name: str
    kind: str


@router.get("", response_model=list[UnitBrief], summary="选择单位（按名称或代码查找） / find units to pick")
def find_units(db: DbSession, q: Annotated[str | None, Query(max_length=100, description="名称或代码中包含 / "
                                                                   "part of the name or code")] = None):
    return [UnitBrief(code=u.code, name=u.name, kind=u.kind) for u in service.list_units(db, q=q)]
