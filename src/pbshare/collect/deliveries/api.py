"""Routes for received deliveries (``/api/v1/collect/deliveries``): what arrived, where it landed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pbshare.collect.deliveries import service
from pbshare.collect.deliveries.schemas import DeliveryPage
from pbshare.collect.deps import CollectManager, CollectRunner
from pbshare.core.http import DbSession
from pbshare.security.audit import service as audit

router = APIRouter(prefix="/collect/deliveries", tags=["collect"])


@router.get("", response_model=DeliveryPage, summary="接收的交付数据 / deliveries received from units")
def list_deliveries(principal: CollectRunner, db: DbSession,
                    state: Annotated[str | None, Query(pattern="^(received|processed|failed)$")] = None,
                    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                    size: Annotated[int, Query(ge=1, le=200)] = 50) -> dict:
    return service.deliveries(db, state=state, page=page, size=size)


@router.post("/{envelope_id}/land", status_code=202, summary="重新入库 / land a delivery again")
def land_again(envelope_id: str, principal: CollectManager, db: DbSession) -> dict:
    service.land_again(db, envelope_id=envelope_id)
    audit.record(db, action="collect.delivery.land_again", principal=principal, object_type="envelope",
                 object_id=envelope_id)
    db.commit()
    return {"envelope_id": envelope_id, "state": "received"}


todo_router = APIRouter(prefix="/collect", tags=["collect"])


@todo_router.get("/todo", summary="数据管理员待办 / the data admin's to-do: deliveries, quarantines, rejected reports")
def data_admin_todo(principal: CollectRunner, db: DbSession) -> dict:
    return service.todo(db, principal=principal)
