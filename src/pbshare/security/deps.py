"""FastAPI dependencies for authentication and permissions.

``current_principal`` is applied where the protected router is mounted (``pbshare.api``), so no
route can forget it; routes add ``require(Perm.x)`` for what they do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from pbshare.core.errors import Forbidden, Invalid, TooLarge, Unauthorized
from pbshare.core.http import DbSession, SettingsDep
from pbshare.core.i18n import T
from pbshare.security.audit import service as audit
from pbshare.security.clients import service as api_clients
from pbshare.security.identity import service
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

SESSION_COOKIE = "pbshare_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# While a first-login password change is pending, only these paths work.
_PASSWORD_CHANGE_PATHS = {"/api/v1/auth/me", "/api/v1/auth/password", "/api/v1/auth/logout"}
# While a required second factor is not enrolled yet, only these (and the paths above) work.
_TOTP_PATHS = "/api/v1/auth/totp"


MAX_SIGNED_BODY = 50 * 1024 * 1024


async def signed_body(request: Request) -> bytes | None:
    """The raw body of a signed request (read once here; Starlette caches it for the route)."""
    if not api_clients.is_signed(request.headers):
        return None
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_SIGNED_BODY:
        raise TooLarge()
    try:
        body = await request.body()
    except RuntimeError:  # a form route: FastAPI parsed (and consumed) the multipart stream first
        raise Invalid(T("签名请求不能上传表单（multipart）：被签名的原始内容已无法核对；请用 JSON 请求或登录后上传",
                        "A signed request cannot upload a form (multipart): the signed bytes can no longer be "
                        "checked; send JSON, or upload from a logged-in session"), code="signed_form_unsupported") from None
    if len(body) > MAX_SIGNED_BODY:
        raise TooLarge()
    return body


def _path_as_sent(request: Request) -> str:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    return raw.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _route_name(request: Request) -> str:
    """The route as declared (``POST /api/v1/users/{user_id}``): no object id or identifier from the URL."""
    parts = request.url.path.split("/")
    names = {str(v): k for k, v in request.path_params.items()}
    return f"{request.method} {'/'.join('{' + names[p] + '}' if p in names else p for p in parts)}"[:128]


def _refused(request: Request, db: DbSession, principal: Principal, *, action: str, detail: dict | None = None) -> None:
    """Audit a refusal and keep the record although the request's work is rolled back."""
    audit.record_refusal(db, action=action, principal=principal, ip=_client_ip(request), object_type="route",
                         object_id=_route_name(request), detail=detail)
    db.commit()


def current_principal(request: Request, db: DbSession, settings: SettingsDep,
                      body: Annotated[bytes | None, Depends(signed_body)]) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    auth = request.headers.get("authorization", "")
    if body is not None:
        # A unit's system: signed with its own key; no cookie, so no CSRF check is needed.
        principal = api_clients.verify_request(
            db, method=request.method, path=_path_as_sent(request), headers=request.headers, body=body,
            ip=request.client.host if request.client else None, data_dir=settings.resolved_data_dir,
        )
    elif auth.lower().startswith("bearer "):
        principal = service.principal_from_token(db, secret=auth[7:].strip())
    else:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise Unauthorized()
        principal = service.principal_from_session(db, token=token, idle_minutes=settings.session_idle_minutes)
        # Cookies ride along on cross-site requests; a header the attacker's page cannot read stops that.
        if request.method not in _SAFE_METHODS and request.headers.get(CSRF_HEADER) != principal.csrf_token:
            _refused(request, db, principal, action="auth.csrf")
            raise Forbidden(
                T("页面已过期（CSRF 校验失败），请刷新页面后重试", "The page is stale (CSRF check failed); "
                  "reload the page and try again"),
                code="csrf_failed",
            )
    if principal.extra.get("totp_enrolment_required") and request.url.path not in _PASSWORD_CHANGE_PATHS \
            and not request.url.path.startswith(_TOTP_PATHS):
        raise Forbidden(
            T("您的角色须启用双因素认证：请先在“我的账户”中用身份验证器应用扫码绑定",
              "Your role requires two-factor authentication: enrol an authenticator app under "
              "\"My account\" first"),
            code="totp_enrolment_required",
        )
    if principal.must_change_password and request.url.path not in _PASSWORD_CHANGE_PATHS:
        raise Forbidden(
            T("首次登录须先修改密码", "Change your password before anything else (first login)"),
            code="password_change_required",
        )
    db.commit()  # keep last-seen / last-used stamps even if the route fails
    request.state.principal = principal
    return principal


# Annotated form for routes: ``principal: CurrentPrincipal``; a domain names its own permission
# checks the same way, e.g. ``CatalogReader = Annotated[Principal, Depends(require(Perm.catalog_read))]``.
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*perms: Perm) -> Callable[..., Principal]:
    """A dependency that lets the call through only if the principal holds every permission."""

    def check(principal: CurrentPrincipal, request: Request, db: DbSession) -> Principal:
        missing = [p for p in perms if not principal.has(p)]
        if missing:
            denied = {"missing": [m.value for m in missing]}
            _refused(request, db, principal, action="auth.forbidden", detail=denied)
            raise Forbidden(detail=denied)
        return principal

    return check


# The security permissions more than one router checks, named once (``principal: SecurityManager``).
UsersReader = Annotated[Principal, Depends(require(Perm.users_read))]
SecurityManager = Annotated[Principal, Depends(require(Perm.security_manage))]
AuditReader = Annotated[Principal, Depends(require(Perm.audit_read))]
