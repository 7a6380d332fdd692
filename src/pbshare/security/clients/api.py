"""Routes for API clients (units' systems that sign their requests)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from pbshare.core.http import DataDir, DbSession
from pbshare.security.audit import service as audit
from pbshare.security.clients import service as api_clients
from pbshare.security.clients.schemas import (
    ApiClientCreateIn,
    ApiClientKeyOut,
    ApiClientOut,
    ApiClientUpdateIn,
    ApiKeyIssuedOut,
    ApiKeyRotateIn,
)
from pbshare.security.deps import SecurityManager, require
from pbshare.security.identity import service as identity_service
from pbshare.security.permissions import Perm
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

if TYPE_CHECKING:  # annotations only: routes reach tables through the service
    from pbshare.security.clients.models import ApiClient

router = APIRouter(prefix="/api-clients", tags=["api-clients"])

ClientsReader = Annotated[Principal, Depends(require(Perm.api_clients_read))]


def client_out(db: Session, client: ApiClient) -> ApiClientOut:
    unit = unit_service.get_unit(db, unit_id=client.unit_id)
    keys = [ApiClientKeyOut.model_validate(k).model_copy(update={"valid": api_clients.key_is_valid(k)})
            for k in client.keys]
    return ApiClientOut(id=client.id, unit_id=client.unit_id, unit_code=unit.code, name=client.name,
                        ip_allowlist=list(client.ip_allowlist or []), rate_limit_per_minute=client.rate_limit_per_minute,
                        is_active=client.is_active, created_at=client.created_at, last_used_at=client.last_used_at,
                        keys=keys)


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("", response_model=list[ApiClientOut], summary="API 客户端列表 / API clients (a unit sees its own)")
def list_clients(principal: ClientsReader, db: DbSession) -> list[ApiClientOut]:
    unit_id = None if principal.is_office else principal.unit_id
    return [client_out(db, c) for c in api_clients.list_clients(db, unit_id=unit_id)]


@router.get("/{client_id}", response_model=ApiClientOut, summary="API 客户端详情 / one API client")
def get_client(client_id: str, principal: ClientsReader, db: DbSession) -> ApiClientOut:
    return client_out(db, api_clients.visible_client(db, client_id=client_id, principal=principal))


@router.post("", response_model=ApiKeyIssuedOut, status_code=201,
             summary="登记 API 客户端 / register a unit's system (the HMAC secret is shown once)")
def create_client(body: ApiClientCreateIn, request: Request, principal: SecurityManager, db: DbSession,
                  data_dir: DataDir) -> ApiKeyIssuedOut:
    client, key, secret = api_clients.create_client(
        db, unit_code=body.unit_code, name=body.name, alg=body.alg, public_key_hex=body.public_key_hex,
        ip_allowlist=body.ip_allowlist, rate_limit_per_minute=body.rate_limit_per_minute, data_dir=data_dir,
    )
    audit.record(db, action="api_client.create", principal=principal, object_type="api_client", object_id=client.id,
                 ip=_ip(request), detail={"unit": body.unit_code, "alg": body.alg, "key_id": key.id})
    return ApiKeyIssuedOut(client=client_out(db, client), key_id=key.id, secret_hex=secret)


@router.patch("/{client_id}", response_model=ApiClientOut, summary="修改 API 客户端 / change allowlist, limit, state")
def update_client(client_id: str, body: ApiClientUpdateIn, request: Request, principal: SecurityManager,
                  db: DbSession) -> ApiClientOut:
    api_clients.visible_client(db, client_id=client_id, principal=principal)
    client = api_clients.update_client(db, client_id=client_id, **body.model_dump(exclude_unset=True))
    audit.record(db, action="api_client.update", principal=principal, object_type="api_client", object_id=client.id,
                 ip=_ip(request), detail=body.model_dump(exclude_unset=True))
    return client_out(db, client)


@router.post("/{client_id}/keys", response_model=ApiKeyIssuedOut, status_code=201,
             summary="轮换密钥 / rotate: a new key, the old one stays valid for the overlap")
def rotate_key(client_id: str, body: ApiKeyRotateIn, request: Request, principal: SecurityManager, db: DbSession,
               data_dir: DataDir) -> ApiKeyIssuedOut:
    api_clients.visible_client(db, client_id=client_id, principal=principal)
    key, secret = api_clients.rotate_key(db, client_id=client_id, alg=body.alg, public_key_hex=body.public_key_hex,
                                         overlap_hours=body.overlap_hours, data_dir=data_dir)
    audit.record(db, action="api_client.rotate_key", principal=principal, object_type="api_client",
                 object_id=client_id, ip=_ip(request), detail={"key_id": key.id, "overlap_hours": body.overlap_hours})
    return ApiKeyIssuedOut(client=client_out(db, api_clients.get_client(db, client_id=client_id)), key_id=key.id,
                           secret_hex=secret)


@router.delete("/{client_id}/keys/{key_id}", status_code=204, summary="吊销密钥 / revoke one key now")
def revoke_key(client_id: str, key_id: str, request: Request, principal: SecurityManager,
               db: DbSession) -> Response:
    api_clients.visible_client(db, client_id=client_id, principal=principal)
    api_clients.revoke_key(db, client_id=client_id, key_id=key_id)
    audit.record(db, action="api_client.revoke_key", principal=principal, object_type="api_client",
                 object_id=client_id, ip=_ip(request), detail={"key_id": key_id})
    return Response(status_code=204)


@router.delete("/{client_id}", status_code=204, summary="停用 API 客户端 / revoke the client and all its keys")
def revoke_client(client_id: str, request: Request, principal: SecurityManager, db: DbSession) -> Response:
    api_clients.visible_client(db, client_id=client_id, principal=principal)
    api_clients.revoke_client(db, client_id=client_id)
    audit.record(db, action="api_client.revoke", principal=principal, object_type="api_client",
                 object_id=client_id, ip=_ip(request))
    return Response(status_code=204)


todo_router = APIRouter(prefix="/security", tags=["api-clients"])


@todo_router.get("/todo", summary="安全管理员待办 / the security admin's to-do: locked accounts, expiring keys")
def security_todo(principal: SecurityManager, db: DbSession) -> dict:
    return {"locked_accounts": identity_service.locked_accounts(db), "expiring_keys": api_clients.expiring_keys(db)}
