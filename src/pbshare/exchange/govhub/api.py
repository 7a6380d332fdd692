"""Routes of the government sharing hub: what we registered there and what we subscribe to through it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from pbshare.core.http import DataDir, DbSession, takes_write_lock
from pbshare.exchange.govhub import service
from pbshare.exchange.govhub.schemas import RegisterIn, RegistrationOut, RemoteIn, RemoteSubscriptionOut
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

router = APIRouter(prefix="/hub", tags=["government sharing hub"])
HubReader = Annotated[Principal, Depends(require(Perm.catalog_read))]
HubManager = Annotated[Principal, Depends(require(Perm.catalog_write))]


@router.get("/registrations", response_model=list[RegistrationOut],
            summary="登记到共享平台目录的资源 / our resources in the hub's catalog")
def registrations(principal: HubReader, db: DbSession) -> list[dict]:
    return service.registrations(db)


@router.post("/registrations", response_model=list[RegistrationOut],
             summary="向共享平台登记资源 / register our published open resources with the hub")
@takes_write_lock
def register(body: RegisterIn, principal: HubManager, db: DbSession, data_dir: DataDir) -> list[dict]:
    service.register_resources(db, codes=body.codes or None, principal=principal, data_dir=data_dir)
    return service.registrations(db)


@router.get("/subscriptions", response_model=list[RemoteSubscriptionOut],
            summary="通过共享平台订阅的资源 / what we subscribe to through the hub")
def remote_subscriptions(principal: HubReader, db: DbSession) -> list[dict]:
    return service.remote_subscriptions(db)


@router.post("/subscriptions", response_model=list[RemoteSubscriptionOut], status_code=201,
             summary="通过共享平台订阅其他单位的资源 / subscribe to another unit's resource through the hub")
@takes_write_lock
def subscribe(body: RemoteIn, principal: HubManager, db: DbSession, data_dir: DataDir) -> list[dict]:
    service.subscribe_remote(db, resource_code=body.resource_code, principal=principal, data_dir=data_dir)
    return service.remote_subscriptions(db)
