"""Routes for login, the current user, users and bearer tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from pbshare.catalog import service as catalog_service
from pbshare.core.errors import AppError
from pbshare.core.http import get_db
from pbshare.security import audit, crypto, service
from pbshare.security.deps import SESSION_COOKIE, current_principal, require
from pbshare.security.models import ROLE_LABELS, User
from pbshare.security.permissions import Perm
from pbshare.security.schemas import (
    LoginIn,
    MeOut,
    PasswordChangeIn,
    TokenCreatedOut,
    TokenCreateIn,
    TokenOut,
    UserCreatedOut,
    UserCreateIn,
    UserOut,
    UserUpdateIn,
)
from pbshare.security.service import Principal

public_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(tags=["auth"])


def user_out(user: User) -> UserOut:
    return UserOut.model_validate({**user.__dict__, "roles": sorted(user.role_names)})


def me_out(db: Session, principal: Principal) -> MeOut:
    user = service.get_user(db, user_id=principal.user_id)
    unit = catalog_service.get_unit(db, unit_id=user.unit_id)
    return MeOut(
        **user_out(user).model_dump(),
        unit_code=unit.code,
        unit_name=unit.name,
        permissions=sorted(p.value for p in principal.permissions),
        csrf_token=principal.csrf_token,
    )


@public_router.post("/login", response_model=MeOut, summary="登录 / log in with user name and password")
def login(body: LoginIn, request: Request, response: Response, db: Session = Depends(get_db)) -> MeOut:
    settings = request.app.state.settings
    ip = request.client.host if request.client else None
    try:
        user = service.authenticate(db, username=body.username, password=body.password)
    except AppError as exc:
        audit.record(db, action="auth.login", actor_name=body.username[:64], result="denied", ip=ip,
                     detail={"reason": exc.code})
        db.commit()  # the failure count and its audit record must survive the error response
        raise
    _session, token = service.open_session(
        db, user=user, max_hours=settings.session_max_hours,
        ip=ip, user_agent=request.headers.get("user-agent"),
    )
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=settings.behind_tls,
        max_age=settings.session_max_hours * 3600, path="/",
    )
    principal = service.principal_from_session(db, token=token, idle_minutes=settings.session_idle_minutes)
    audit.record(db, action="auth.login", principal=principal, ip=ip, object_type="user", object_id=user.id)
    return me_out(db, principal)


@router.post("/auth/logout", status_code=204, summary="退出登录 / log out")
def logout(response: Response, principal: Principal = Depends(current_principal),
           db: Session = Depends(get_db)) -> Response:
    if principal.session_id:
        service.close_session(db, session_id=principal.session_id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/auth/me", response_model=MeOut, summary="当前用户 / who am I")
def me(principal: Principal = Depends(current_principal), db: Session = Depends(get_db)) -> MeOut:
    return me_out(db, principal)


@router.api_route("/auth/whoami", methods=["GET", "POST"], summary="我是谁 / who is calling (any way of "
                  "authenticating; POST echoes the body's SM3 for joint testing of signed requests)")
async def whoami(request: Request, principal: Principal = Depends(current_principal)) -> dict:
    body = await request.body() if request.method == "POST" else b""
    return {"via": principal.via, "username": principal.username, "unit_code": principal.unit_code,
            "roles": sorted(principal.roles), "permissions": sorted(p.value for p in principal.permissions),
            "body_sm3": crypto.sm3_hex(body) if request.method == "POST" else None}


@router.post("/auth/password", response_model=MeOut, summary="修改密码 / change my password")
def change_password(body: PasswordChangeIn, principal: Principal = Depends(current_principal),
                    db: Session = Depends(get_db)) -> MeOut:
    service.change_own_password(db, user_id=principal.user_id, old_password=body.old_password,
                                new_password=body.new_password)
    return me_out(db, Principal(**{**principal.__dict__, "must_change_password": False}))


@router.get("/auth/roles", summary="角色列表 / roles and their labels")
def roles(principal: Principal = Depends(current_principal)) -> list[dict]:
    return [{"code": r.value, "zh": zh, "en": en} for r, (zh, en) in ROLE_LABELS.items()]


@router.get("/auth/tokens", response_model=list[TokenOut], summary="我的 API 令牌 / my bearer tokens")
def my_tokens(principal: Principal = Depends(current_principal), db: Session = Depends(get_db)) -> list:
    return service.list_tokens(db, user_id=principal.user_id)


@router.post("/auth/tokens", response_model=TokenCreatedOut, status_code=201,
             summary="新建 API 令牌 / create a bearer token for scripts")
def create_token(body: TokenCreateIn, principal: Principal = Depends(current_principal),
                 db: Session = Depends(get_db)) -> TokenCreatedOut:
    token, secret = service.create_token(db, user_id=principal.user_id, name=body.name, days=body.days)
    return TokenCreatedOut(token=TokenOut.model_validate(token), secret=secret)


@router.delete("/auth/tokens/{token_id}", status_code=204, summary="吊销令牌 / revoke a token")
def revoke_token(token_id: str, principal: Principal = Depends(current_principal),
                 db: Session = Depends(get_db)) -> Response:
    service.revoke_token(db, user_id=principal.user_id, token_id=token_id)
    return Response(status_code=204)


@router.get("/users", response_model=list[UserOut], summary="用户列表 / users")
def list_users(principal: Principal = Depends(require(Perm.users_read)),
               db: Session = Depends(get_db)) -> list[UserOut]:
    return [user_out(u) for u in service.list_users(db)]


@router.post("/users", response_model=UserCreatedOut, status_code=201, summary="新建用户 / create a user")
def create_user(body: UserCreateIn, principal: Principal = Depends(require(Perm.users_write)),
                db: Session = Depends(get_db)) -> UserCreatedOut:
    user, one_time = service.create_user(
        db, username=body.username, display_name=body.display_name, unit_code=body.unit_code,
        roles=body.roles, password=body.password, must_change_password=True,
    )
    return UserCreatedOut(user=user_out(user), one_time_password=one_time)


@router.get("/users/{user_id}", response_model=UserOut, summary="用户详情 / one user")
def get_user(user_id: str, principal: Principal = Depends(require(Perm.users_read)),
             db: Session = Depends(get_db)) -> UserOut:
    return user_out(service.get_user(db, user_id=user_id))


@router.patch("/users/{user_id}", response_model=UserOut, summary="修改用户 / change a user")
def update_user(user_id: str, body: UserUpdateIn, principal: Principal = Depends(require(Perm.users_write)),
                db: Session = Depends(get_db)) -> UserOut:
    user = service.update_user(db, user_id=user_id, display_name=body.display_name, roles=body.roles,
                               is_active=body.is_active)
    return user_out(user)


@router.post("/users/{user_id}/reset-password", response_model=UserCreatedOut,
             summary="重置密码 / reset a user's password to a one-time one")
def reset_password(user_id: str, principal: Principal = Depends(require(Perm.users_write)),
                   db: Session = Depends(get_db)) -> UserCreatedOut:
    from pbshare.security.passwords import generate_password

    one_time = generate_password()
    user = service.set_password(db, user_id=user_id, password=one_time, must_change=True)
    service.revoke_sessions(db, user_id=user_id)
    return UserCreatedOut(user=user_out(user), one_time_password=one_time)


# The security domain's other routers ride on this one, so pbshare/api.py needs no extra line.
from pbshare.security import clients_api  # noqa: E402

router.include_router(clients_api.router)
