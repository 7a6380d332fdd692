"""Routes for login, the current user, users and bearer tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from pbshare.core import http
from pbshare.core.errors import AppError, Forbidden, Invalid
from pbshare.core.http import DataDir, DbSession, SettingsDep
from pbshare.core.i18n import T
from pbshare.security.audit import service as audit
from pbshare.security.crypto import algorithms as crypto
from pbshare.security.deps import SESSION_COOKIE, CurrentPrincipal, SecurityManager, UsersReader, require
from pbshare.security.enums import ROLE_LABELS, SEPARATED_ROLES
from pbshare.security.identity import service, totp
from pbshare.security.identity.policy import SecurityPolicy, get_policy, update_policy
from pbshare.security.identity.schemas import (
    LoginIn,
    MeOut,
    PasswordChangeIn,
    TokenCreatedOut,
    TokenCreateIn,
    TokenOut,
    TotpCodeIn,
    TotpCodesOut,
    TotpEnrolOut,
    TotpStatusOut,
    UserCreatedOut,
    UserCreateIn,
    UserOut,
    UserUpdateIn,
)
from pbshare.security.permissions import ROLE_PERMISSIONS, Perm
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

if TYPE_CHECKING:  # annotations only: routes reach tables through the service
    from pbshare.security.identity.models import User

public_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(tags=["auth"])

UsersWriter = Annotated[Principal, Depends(require(Perm.users_write))]


def user_out(user: User) -> UserOut:
    return UserOut.model_validate({**user.__dict__, "roles": sorted(user.role_names)})


def me_out(db: Session, principal: Principal) -> MeOut:
    user = service.get_user(db, user_id=principal.user_id)
    unit = unit_service.get_unit(db, unit_id=user.unit_id)
    policy = get_policy(db)
    return MeOut(
        **user_out(user).model_dump(exclude={"totp_enrolled"}),
        unit_code=unit.code,
        unit_name=unit.name,
        permissions=sorted(str(p) for p in principal.permissions),
        csrf_token=principal.csrf_token,
        totp_enrolled=totp.is_enrolled(db, user_id=user.id),
        totp_required=totp.is_required(policy, user),
        totp_enrolment_required=bool(principal.extra.get("totp_enrolment_required")),
    )


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@public_router.post("/login", response_model=MeOut, summary="登录 / log in with user name, password and TOTP code")
@http.takes_write_lock  # reads then writes while the listeners write: waits its turn on SQLite, never "busy"
def login(body: LoginIn, request: Request, response: Response, db: DbSession, settings: SettingsDep) -> MeOut:
    ip = _ip(request)
    try:
        service.check_login_throttle(db, ip=ip)
        user = service.authenticate(db, username=body.username, password=body.password, totp_code=body.totp,
                                    data_dir=settings.resolved_data_dir)
    except AppError as exc:
        # A correct password still waiting for its code is a challenge, not a failure. The answer is the
        # same for an unknown name, a wrong password and a locked account; the record says which it was.
        result = "challenge" if exc.code == "totp_required" else "denied"
        reason = getattr(exc, "reason", exc.code)
        if exc.code == "login_throttled":
            # A flood after the throttle: one record a minute per address, whatever names it tries.
            audit.record_refusal(db, action="auth.login", ip=ip, detail={"reason": reason})
        else:
            audit.record(db, action="auth.login", actor_name=body.username[:64], result=result, ip=ip,
                         detail={"reason": reason})
        db.commit()  # the failure count and its audit record must survive the error response
        raise
    earlier = request.cookies.get(SESSION_COOKIE)
    if earlier:
        service.close_session_by_token(db, token=earlier)
    scope = "totp_enrolment" if totp.enrolment_overdue(db, policy=get_policy(db), user=user) else "full"
    _session, token = service.open_session(
        db, user=user, max_hours=settings.session_max_hours,
        ip=ip, user_agent=request.headers.get("user-agent"), scope=scope,
    )
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=settings.behind_tls,
        max_age=settings.session_max_hours * 3600, path="/",
    )
    principal = service.principal_from_session(db, token=token, idle_minutes=settings.session_idle_minutes)
    audit.record(db, action="auth.login", principal=principal, ip=ip, object_type="user", object_id=user.id,
                 detail={"second_factor": bool(body.totp), "scope": scope})
    return me_out(db, principal)


def person(principal: CurrentPrincipal) -> Principal:
    """Sessions, logout and bearer tokens belong to people; a unit's system signs each request instead."""
    if principal.via == "signature":
        raise Forbidden(T("API 客户端不是用户：它用自己的密钥签名每个请求，没有会话或令牌",
                          "An API client is not a user: it signs each request with its own key and has no "
                          "session or token"), code="not_a_user")
    return principal


Person = Annotated[Principal, Depends(person)]


@router.post("/auth/logout", status_code=204, summary="退出登录 / log out")
def logout(response: Response, principal: Person, db: DbSession) -> Response:
    if principal.session_id:
        service.close_session(db, session_id=principal.session_id)
    audit.record(db, action="auth.logout", principal=principal, object_type="user", object_id=principal.user_id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/auth/me", response_model=MeOut, summary="当前用户 / who am I")
def me(principal: CurrentPrincipal, db: DbSession) -> MeOut:
    if principal.via == "signature":
        raise Invalid(T("API 客户端不是用户，请调用 /api/v1/auth/whoami", "An API client is not a user; call "
                        "/api/v1/auth/whoami"), code="not_a_user")
    return me_out(db, principal)


def _whoami(principal: Principal, body: bytes | None) -> dict:
    return {"via": principal.via, "username": principal.username, "unit_code": principal.unit_code,
            "roles": sorted(principal.roles), "permissions": sorted(str(p) for p in principal.permissions),
            "body_sm3": crypto.sm3_hex(body) if body is not None else None}


@router.get("/auth/whoami", summary="我是谁 / who is calling (session, bearer token or signed request)")
def whoami(principal: CurrentPrincipal) -> dict:
    return _whoami(principal, None)


@router.post("/auth/whoami", summary="联调回声 / who is calling, with the SM3 of the body received "
             "(joint testing of signed requests)")
async def whoami_echo(request: Request, principal: CurrentPrincipal) -> dict:
    return _whoami(principal, await request.body())


@router.post("/auth/password", response_model=MeOut, summary="修改密码 / change my password")
def change_password(body: PasswordChangeIn, principal: CurrentPrincipal, db: DbSession) -> MeOut:
    service.change_own_password(db, user_id=principal.user_id, old_password=body.old_password,
                                new_password=body.new_password)
    audit.record(db, action="auth.password_change", principal=principal, object_type="user",
                 object_id=principal.user_id)
    return me_out(db, Principal(**{**principal.__dict__, "must_change_password": False}))


@router.get("/auth/roles", summary="角色列表 / roles and their labels")
def roles(principal: CurrentPrincipal) -> list[dict]:
    return [{"code": r.value, "zh": zh, "en": en} for r, (zh, en) in ROLE_LABELS.items()]


@router.get("/auth/tokens", response_model=list[TokenOut], summary="我的 API 令牌 / my bearer tokens")
def my_tokens(principal: Person, db: DbSession) -> list:
    return service.list_tokens(db, user_id=principal.user_id)


@router.post("/auth/tokens", response_model=TokenCreatedOut, status_code=201,
             summary="新建 API 令牌 / create a bearer token for scripts")
def create_token(body: TokenCreateIn, principal: Person, db: DbSession) -> TokenCreatedOut:
    if principal.via == "token":
        # A leaked token must not be able to outlive its own revocation by minting others.
        raise Forbidden(T("API 令牌不能用来新建令牌，请登录后在“我的账户”中新建",
                          "A bearer token cannot create tokens; log in and create one under \"My account\""),
                        code="token_cannot_mint")
    token, secret = service.create_token(db, user_id=principal.user_id, name=body.name, days=body.days)
    audit.record(db, action="auth.token_create", principal=principal, object_type="api_token", object_id=token.id,
                 detail={"name": body.name, "days": body.days})
    return TokenCreatedOut(token=TokenOut.model_validate(token), secret=secret)


@router.delete("/auth/tokens/{token_id}", status_code=204, summary="吊销令牌 / revoke a token")
def revoke_token(token_id: str, principal: Person, db: DbSession) -> Response:
    service.revoke_token(db, user_id=principal.user_id, token_id=token_id)
    audit.record(db, action="auth.token_revoke", principal=principal, object_type="api_token", object_id=token_id)
    return Response(status_code=204)


def user_row(db: Session, user: User) -> UserOut:
    return user_out(user).model_copy(update={"totp_enrolled": totp.is_enrolled(db, user_id=user.id)})


@router.get("/users", response_model=list[UserOut], summary="用户列表 / users")
def list_users(principal: UsersReader, db: DbSession,
               q: Annotated[str | None, Query(max_length=100, description="名称或代码中包含 / part of the name or code")] = None) -> list[UserOut]:
    return [user_row(db, u) for u in service.list_users(db, q=q)]


@router.post("/users", response_model=UserCreatedOut, status_code=201, summary="新建用户 / create a user")
def create_user(body: UserCreateIn, request: Request, principal: UsersWriter, db: DbSession) -> UserCreatedOut:
    user, one_time = service.create_user(
        db, username=body.username, display_name=body.display_name, unit_code=body.unit_code,
        roles=body.roles, password=body.password, must_change_password=True,
    )
    audit.record(db, action="user.create", principal=principal, object_type="user", object_id=user.id, ip=_ip(request),
                 detail={"username": user.username, "unit": body.unit_code, "roles": sorted(user.role_names)})
    return UserCreatedOut(user=user_out(user), one_time_password=one_time)


@router.get("/users/{user_id}", response_model=UserOut, summary="用户详情 / one user")
def get_user(user_id: str, principal: UsersReader, db: DbSession) -> UserOut:
    return user_row(db, service.get_user(db, user_id=user_id))


@router.patch("/users/{user_id}", response_model=UserOut, summary="修改用户 / change a user (roles, state)")
def update_user(user_id: str, body: UserUpdateIn, request: Request,
                principal: UsersWriter, db: DbSession) -> UserOut:
    before = sorted(service.get_user(db, user_id=user_id).role_names)
    user = service.update_user(db, user_id=user_id, display_name=body.display_name, roles=body.roles,
                               is_active=body.is_active)
    after = sorted(user.role_names)
    if before != after:
        # a permission change: its own action so the auditor can search for it
        audit.record(db, action="user.roles", principal=principal, object_type="user", object_id=user.id,
                     ip=_ip(request), detail={"username": user.username, "before": before, "after": after})
    if body.is_active is not None or body.display_name is not None:
        audit.record(db, action="user.update", principal=principal, object_type="user", object_id=user.id,
                     ip=_ip(request), detail={"username": user.username,
                                              **body.model_dump(exclude_unset=True, exclude={"roles"})})
    return user_row(db, user)


@router.post("/users/{user_id}/reset-password", response_model=UserCreatedOut,
             summary="重置密码 / reset a user's password to a one-time one")
def reset_password(user_id: str, request: Request, principal: UsersWriter, db: DbSession) -> UserCreatedOut:
    one_time = service.new_one_time_password(db)
    user = service.set_password(db, user_id=user_id, password=one_time, must_change=True)
    service.revoke_sessions(db, user_id=user_id)
    audit.record(db, action="user.reset_password", principal=principal, object_type="user", object_id=user.id,
                 ip=_ip(request), detail={"username": user.username})
    return UserCreatedOut(user=user_out(user), one_time_password=one_time)


@router.post("/users/{user_id}/unlock", response_model=UserOut, summary="解锁账户 / unlock after failed logins")
def unlock_user(user_id: str, request: Request, principal: SecurityManager, db: DbSession) -> UserOut:
    user = service.unlock(db, user_id=user_id)
    audit.record(db, action="user.unlock", principal=principal, object_type="user", object_id=user.id,
                 ip=_ip(request), detail={"username": user.username})
    return user_row(db, user)


@router.post("/users/{user_id}/logout", summary="强制下线 / end all of a user's sessions now")
def force_logout(user_id: str, request: Request, principal: SecurityManager, db: DbSession) -> dict:
    user = service.get_user(db, user_id=user_id)
    count = service.revoke_sessions(db, user_id=user.id)
    audit.record(db, action="user.force_logout", principal=principal, object_type="user", object_id=user.id,
                 ip=_ip(request), detail={"username": user.username, "sessions": count})
    return {"sessions_ended": count}


@router.post("/users/{user_id}/totp/reset", response_model=UserOut,
             summary="重置双因素认证 / remove a user's TOTP (lost phone); they enrol again at next login")
def reset_totp(user_id: str, request: Request, principal: SecurityManager, db: DbSession) -> UserOut:
    user = service.get_user(db, user_id=user_id)
    totp.disable(db, user_id=user.id)
    service.revoke_sessions(db, user_id=user.id)
    audit.record(db, action="user.totp_reset", principal=principal, object_type="user", object_id=user.id,
                 ip=_ip(request), detail={"username": user.username})
    return user_row(db, user)


# my second factor --------------------------------------------------------------------------------
@router.get("/auth/totp", response_model=TotpStatusOut, summary="我的双因素认证状态 / my TOTP state")
def totp_status(principal: CurrentPrincipal, db: DbSession) -> TotpStatusOut:
    user = service.get_user(db, user_id=principal.user_id)
    return TotpStatusOut(enrolled=totp.is_enrolled(db, user_id=user.id), required=totp.is_required(get_policy(db), user),
                         recovery_codes_left=totp.recovery_codes_left(db, user_id=user.id))


@router.post("/auth/totp/enrol", response_model=TotpEnrolOut,
             summary="开始绑定身份验证器 / start TOTP enrolment: secret and QR code")
def totp_enrol(principal: CurrentPrincipal, db: DbSession, data_dir: DataDir) -> TotpEnrolOut:
    user = service.get_user(db, user_id=principal.user_id)
    return TotpEnrolOut(**totp.start_enrolment(db, user=user, data_dir=data_dir))


@router.post("/auth/totp/confirm", response_model=TotpCodesOut,
             summary="确认绑定 / confirm with a code: TOTP is on; recovery codes shown once")
def totp_confirm(body: TotpCodeIn, request: Request, principal: CurrentPrincipal, db: DbSession,
                 data_dir: DataDir) -> TotpCodesOut:
    user = service.get_user(db, user_id=principal.user_id)
    codes = totp.confirm(db, user=user, code=body.code, data_dir=data_dir)
    if principal.session_id:
        service.widen_session(db, session_id=principal.session_id)
    audit.record(db, action="auth.totp_enrol", principal=principal, object_type="user", object_id=user.id,
                 ip=_ip(request))
    return TotpCodesOut(recovery_codes=codes)


@router.post("/auth/totp/recovery-codes", response_model=TotpCodesOut,
             summary="重新生成恢复码 / new recovery codes (the old ones stop working)")
def totp_recovery_codes(body: TotpCodeIn, request: Request, principal: CurrentPrincipal, db: DbSession,
                        data_dir: DataDir) -> TotpCodesOut:
    user = service.get_user(db, user_id=principal.user_id)
    if totp.verify(db, user=user, code=body.code, data_dir=data_dir) != "totp":
        raise Invalid(T("验证码不正确", "The code is wrong"), code="totp_invalid")
    audit.record(db, action="auth.totp_recovery_codes", principal=principal, object_type="user", object_id=user.id,
                 ip=_ip(request))
    return TotpCodesOut(recovery_codes=totp.regenerate_recovery_codes(db, user=user))


@router.post("/auth/totp/disable", status_code=204,
             summary="停用双因素认证 / turn TOTP off (not allowed when your role requires it)")
def totp_disable(body: TotpCodeIn, request: Request, principal: CurrentPrincipal, db: DbSession,
                 data_dir: DataDir) -> Response:
    user = service.get_user(db, user_id=principal.user_id)
    if totp.is_required(get_policy(db), user):
        raise Forbidden(T("您的角色须启用双因素认证，不能停用；更换手机请联系安全管理员重置",
                          "Your role requires two-factor authentication; to move to a new phone ask the security "
                          "administrator to reset it"), code="totp_required_by_policy")
    if totp.verify(db, user=user, code=body.code, data_dir=data_dir) is None:
        raise Invalid(T("验证码不正确", "The code is wrong"), code="totp_invalid")
    totp.disable(db, user_id=user.id)
    audit.record(db, action="auth.totp_disable", principal=principal, object_type="user", object_id=user.id,
                 ip=_ip(request))
    return Response(status_code=204)


# policy and roles ---------------------------------------------------------------------------------
@router.get("/security/policy", response_model=SecurityPolicy, summary="安全策略 / the security policy")
def read_policy(principal: UsersReader, db: DbSession):
    return get_policy(db)


@router.put("/security/policy", response_model=SecurityPolicy,
            summary="修改安全策略 / change the security policy (security admin; audited)")
def write_policy(body: dict, request: Request, principal: SecurityManager, db: DbSession):
    known = set(SecurityPolicy.model_fields)
    unknown = sorted(set(body) - known)
    if unknown:
        raise Invalid(T("未知的策略项：{f}", "Unknown policy settings: {f}", f=", ".join(unknown)[:200]),
                      code="bad_policy")
    policy, diff = update_policy(db, changes=body, actor=principal.username)
    audit.record(db, action="security.policy", principal=principal, object_type="security_policy", object_id="1",
                 ip=_ip(request), detail={k: {"old": v[0], "new": v[1]} for k, v in diff.items()})
    return policy


@router.get("/security/roles", summary="角色与权限矩阵 / roles and what each may do")
def role_matrix(principal: UsersReader) -> dict:
    return {
        "permissions": [p.value for p in Perm],
        "roles": [{"code": r.value, "zh": ROLE_LABELS[r][0], "en": ROLE_LABELS[r][1],
                   "separated": r in SEPARATED_ROLES,
                   "permissions": sorted(p.value for p in ROLE_PERMISSIONS.get(r, frozenset()))} for r in ROLE_LABELS],
    }
