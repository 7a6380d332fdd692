"""Every domain's router, mounted under ``/api/v1``.

Public routes (login) go on ``public``; everything else on ``protected``, which carries the
authentication dependency once for all, so no route can forget it. A domain adds one line below.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from pbshare.catalog.attributes import api as catalog_attributes_api
from pbshare.catalog.editions import api as catalog_editions_api
from pbshare.catalog.resources import api as catalog_resources_api
from pbshare.catalog.transfer import api as catalog_transfer_api
from pbshare.catalog.units import api as catalog_units_api
from pbshare.collect.deliveries import api as collect_deliveries_api
from pbshare.collect.derived import api as collect_derived_api
from pbshare.collect.profiles import api as collect_profiles_api
from pbshare.collect.runs import api as collect_runs_api
from pbshare.collect.uploads import api as collect_uploads_api
from pbshare.compare import api as compare_api
from pbshare.core.http import ErrorBody
from pbshare.exchange.cases import api as exchange_cases_api
from pbshare.exchange.connections import api as exchange_connections_api
from pbshare.exchange.corrections import api as exchange_corrections_api
from pbshare.exchange.debtors import api as exchange_debtors_api
from pbshare.exchange.govhub import api as exchange_govhub_api
from pbshare.exchange.jointtest import api as exchange_jointtest_api
from pbshare.exchange.leaving import api as exchange_leaving_api
from pbshare.exchange.messaging import api as exchange_messaging_api
from pbshare.exchange.requests import api as exchange_requests_api
from pbshare.exchange.subscriptions import api as exchange_subscriptions_api
from pbshare.forms import api as forms_api
from pbshare.jobs import api as jobs_api
from pbshare.metadata import api as metadata_api
from pbshare.ops import api as ops_api
from pbshare.quality.reports import api as quality_reports_api
from pbshare.quality.rules import api as quality_rules_api
from pbshare.reports import api as reports_api
from pbshare.security import export_api as list_export_api
from pbshare.security.audit import api as audit_api
from pbshare.security.clients import api as clients_api
from pbshare.security.clients.service import SIGNED_HEADERS
from pbshare.security.deps import CSRF_HEADER, SESSION_COOKIE, current_principal
from pbshare.security.identity import api as security_api
from pbshare.units import api as units_api
from pbshare.warehouse import api as warehouse_api

PREFIX = "/api/v1"

# The error answers every route may give, documented once here with the one error body.
_ERRORS: dict[int, str] = {
    400: "请求有误 / bad request",
    401: "未登录或凭据无效 / not logged in, or the credentials are not valid",
    403: "无权限或 CSRF 校验失败 / no permission, or the CSRF check failed",
    404: "对象不存在 / no such object",
    409: "与现有数据冲突 / conflicts with existing data",
    413: "请求内容超过上限 / the request body is over its limit",
    422: "输入有误 / the input is not valid",
    429: "请求过于频繁 / too many requests",
    503: "数据库正忙，稍后重试 / the database is busy; try again",
}


def _error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody, "description": _ERRORS[status]} for status in statuses}


public = APIRouter(prefix=PREFIX, responses=_error_responses(400, 401, 403, 413, 422, 429, 503))
public.include_router(security_api.public_router)

protected = APIRouter(prefix=PREFIX, dependencies=[Depends(current_principal)],
                      responses=_error_responses(*_ERRORS))
protected.include_router(security_api.router)
protected.include_router(clients_api.router)
protected.include_router(clients_api.todo_router)
protected.include_router(audit_api.router)
protected.include_router(list_export_api.router)
protected.include_router(ops_api.router)
protected.include_router(ops_api.audit_router)
protected.include_router(exchange_cases_api.router)
protected.include_router(exchange_debtors_api.router)
protected.include_router(exchange_messaging_api.router)
protected.include_router(exchange_connections_api.router)
protected.include_router(exchange_messaging_api.mailbox_router)
protected.include_router(exchange_requests_api.router)
protected.include_router(exchange_subscriptions_api.router)
protected.include_router(exchange_subscriptions_api.decisions_router)
protected.include_router(exchange_govhub_api.router)
protected.include_router(exchange_jointtest_api.router)
protected.include_router(exchange_leaving_api.router)
protected.include_router(exchange_corrections_api.router)
protected.include_router(catalog_units_api.router)
protected.include_router(units_api.router)
protected.include_router(catalog_resources_api.router)
protected.include_router(catalog_editions_api.router)
protected.include_router(catalog_attributes_api.router)
protected.include_router(catalog_transfer_api.router)
protected.include_router(metadata_api.router)
protected.include_router(collect_uploads_api.router)
protected.include_router(collect_runs_api.router)
protected.include_router(collect_profiles_api.router)
protected.include_router(collect_derived_api.router)
protected.include_router(collect_deliveries_api.router)
protected.include_router(collect_deliveries_api.todo_router)
protected.include_router(warehouse_api.router)
protected.include_router(quality_reports_api.router)
protected.include_router(quality_rules_api.router)
protected.include_router(compare_api.router)
protected.include_router(jobs_api.router)
protected.include_router(forms_api.router)
protected.include_router(reports_api.router)

# Paths reachable without a session; tests check that every other route answers 401.
PUBLIC_PATHS = {f"{PREFIX}/auth/login"}

# The three ways in, as OpenAPI security schemes (docs/security.md): a browser session (its cookie, and on
# writes the CSRF header), a bearer token, or a unit's system signing each request with six headers.
_SIGNED = {f"signed{name.removeprefix('X-PB-')}": name for name in SIGNED_HEADERS}
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                "description": "登录后的会话 / the session cookie set by POST /api/v1/auth/login"},
    "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER,
             "description": "会话写操作必带 / required with the session cookie on every write: the csrf_token "
                            "from /auth/login or /auth/me"},
    "bearer": {"type": "http", "scheme": "bearer", "description": "个人访问令牌 / a personal access token"},
    **{scheme: {"type": "apiKey", "in": "header", "name": header,
                "description": "签名请求 / signed request (all six X-PB-* headers): signature = HMAC-SM3 or "
                               "SM2-SM3 over METHOD \\n path-with-query \\n timestamp \\n nonce \\n "
                               "sm3_hex(body)"}
       for scheme, header in _SIGNED.items()},
}
_READS = {"get", "head", "options"}


def document_security(schema: dict[str, Any]) -> dict[str, Any]:
    """Name the ways in on the OpenAPI document: every protected operation takes any one of the three."""
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    signed: dict[str, list[str]] = {scheme: [] for scheme in _SIGNED}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if path in PUBLIC_PATHS:
                operation["security"] = []
                continue
            session: dict[str, list[str]] = {"session": []} if method in _READS else {"session": [], "csrf": []}
            operation["security"] = [session, {"bearer": []}, signed]
    return schema
