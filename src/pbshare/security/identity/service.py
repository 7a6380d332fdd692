"""Identity: users, roles, login sessions and bearer tokens. Knows nothing of HTTP."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.core.clock import as_utc, utcnow
from pbshare.core.errors import Conflict, Forbidden, Invalid, TooManyRequests, Unauthorized
from pbshare.core.i18n import T
from pbshare.core.lookup import get_or_raise, matching, one_or_raise
from pbshare.security.audit import service as audit
from pbshare.security.crypto import algorithms as crypto
from pbshare.security.enums import SEPARATED_ROLES, Role
from pbshare.security.identity import totp
from pbshare.security.identity.models import ApiToken, LoginSession, PasswordHistory, User, UserRole
from pbshare.security.identity.passwords import check_policy, generate_password, hash_password, verify_password
from pbshare.security.identity.policy import get_policy
from pbshare.security.permissions import permissions_for
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 30
TOKEN_PREFIX = "pbs_"  # noqa: S105 - a public prefix, not a secret


def _digest(token: str) -> str:
    return crypto.sm3_hex(token.encode())


def _validate_roles(roles: list[str]) -> set[str]:
    chosen: set[str] = set()
    for role in roles:
        try:
            chosen.add(Role(role).value)
        except ValueError:
            raise Invalid(T("未知角色：{r}", "Unknown role: {r}", r=role), code="unknown_role") from None
    if len(chosen & {r.value for r in SEPARATED_ROLES}) > 1:
        raise Conflict(
            T(
                "系统管理员、安全管理员、安全审计员须由不同人员担任（三员分立），一个用户只能拥有其中一个角色",
                "System admin, security admin and auditor must be different people (separation of duties): "
                "a user may hold only one of them",
            ),
            code="separation_of_duties",
        )
    return chosen


# users ----------------------------------------------------------------------------------------
def get_user(db: Session, *, user_id: str) -> User:
    return get_or_raise(db, User, user_id, T("用户不存在", "The user does not exist"))


def get_user_by_username(db: Session, *, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def list_users(db: Session, *, q: str | None = None) -> list[User]:
    stmt = select(User).order_by(User.username)
    if (match := matching(q, User.username, User.display_name)) is not None:
        stmt = stmt.where(match)
    return list(db.scalars(stmt))


def create_user(
    db: Session,
    *,
    username: str,
    display_name: str,
    unit_code: str,
    roles: list[str],
    password: str | None = None,
    must_change_password: bool = True,
) -> tuple[User, str | None]:
    """Create a user; without a password a one-time one is generated and returned once."""
    if get_user_by_username(db, username=username):
        raise Conflict(T("用户名 {u} 已被使用", "The user name {u} is taken", u=username), code="username_taken")
    unit = unit_service.get_unit_by_code(db, code=unit_code)
    chosen = _validate_roles(roles)
    one_time = None
    if password is None:
        password = one_time = generate_password()
    else:
        _check_password_rules(db, password, username=username)
    user = User(
        username=username,
        display_name=display_name,
        unit_id=unit.id,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    user.roles = [UserRole(role=r) for r in sorted(chosen)]
    db.add(user)
    db.flush()
    db.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    db.flush()
    return user, one_time


def update_user(
    db: Session, *, user_id: str, display_name: str | None = None, roles: list[str] | None = None,
    is_active: bool | None = None,
) -> User:
    user = get_user(db, user_id=user_id)
    if display_name is not None:
        user.display_name = display_name
    if roles is not None:
        chosen = _validate_roles(roles)
        user.roles = [r for r in user.roles if r.role in chosen] + [
            UserRole(role=r) for r in sorted(chosen - user.role_names)
        ]
    if is_active is not None:
        user.is_active = is_active
        if not is_active:
            revoke_sessions(db, user_id=user.id)
    db.flush()
    return user


def _check_password_rules(db: Session, password: str, *, username: str) -> None:
    policy = get_policy(db)
    check_policy(password, username=username, min_length=policy.password_min_length,
                 min_classes=policy.password_min_classes)


def _check_history(db: Session, user: User, password: str) -> None:
    """Refuse any of the last N passwords (the current one included)."""
    n = get_policy(db).password_history
    if n <= 0:
        return
    recent = list(db.scalars(select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
                             .order_by(PasswordHistory.id.desc()).limit(n)))
    # the current hash is normally the newest history row too: de-duplicate before counting N
    candidates = list(dict.fromkeys([user.password_hash, *recent]))[:n]
    if any(verify_password(h, password) for h in candidates):
        raise Invalid(T("不能使用最近 {n} 次用过的密码", "You cannot reuse any of your last {n} passwords", n=n),
                      code="password_reused")


def new_one_time_password(db: Session) -> str:
    return generate_password(max(16, get_policy(db).password_min_length))


def set_password(db: Session, *, user_id: str, password: str, must_change: bool = False) -> User:
    user = get_user(db, user_id=user_id)
    _check_password_rules(db, password, username=user.username)
    _check_history(db, user, password)
    user.password_hash = hash_password(password)
    db.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    user.must_change_password = must_change
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_until = None
    db.flush()
    return user


def change_own_password(db: Session, *, user_id: str, old_password: str, new_password: str) -> User:
    user = get_user(db, user_id=user_id)
    if not verify_password(user.password_hash, old_password):
        raise Invalid(T("原密码不正确", "The current password is wrong"), code="wrong_password")
    if old_password == new_password:
        raise Invalid(T("新密码不能与原密码相同", "The new password must differ from the old one"),
                      code="password_reused")
    return set_password(db, user_id=user_id, password=new_password)


# login ----------------------------------------------------------------------------------------
_BAD_LOGIN = T("用户名或密码不正确（连续多次失败后账户会被锁定一段时间，可请安全管理员解锁）",
               "Wrong user name or password (after repeated failures the account is locked for a while; the "
               "security administrator can unlock it)")


class LoginRefused(Unauthorized):
    """One answer for a wrong user name, a wrong password and a locked account, so a caller cannot tell
    which accounts exist or are locked; ``reason`` says which it was, for the audit log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(_BAD_LOGIN, code="bad_credentials")
        self.reason = reason


def _count_failure(db: Session, user: User) -> None:
    policy = get_policy(db)
    user.failed_logins += 1
    if user.failed_logins >= policy.lockout_threshold:
        user.locked_until = utcnow() + timedelta(minutes=policy.lockout_minutes)
        user.failed_logins = 0
    db.flush()


def unlock(db: Session, *, user_id: str) -> User:
    user = get_user(db, user_id=user_id)
    user.locked_until = None
    user.failed_logins = 0
    db.flush()
    return user


def check_login_throttle(db: Session, *, ip: str | None) -> None:
    """Too many failed logins from one address in the window: refuse before even checking the password."""
    if not ip:
        return
    policy = get_policy(db)
    since = utcnow() - timedelta(minutes=policy.login_ip_window_minutes)
    if audit.denied_logins(db, ip=ip, since=since) >= policy.login_ip_max_failures:
        raise TooManyRequests(T("该地址登录失败次数过多，请 {m} 分钟后再试", "Too many failed logins from this address; "
                                "try again in {m} minutes", m=policy.login_ip_window_minutes),
                              code="login_throttled", retry_after=policy.login_ip_window_minutes * 60)


def authenticate(db: Session, *, username: str, password: str, data_dir: Path,
                 totp_code: str | None = None) -> User:
    """Check a password and, when the user has one, the second factor; lock after too many failures.

    The failure count is reset only when the whole login succeeds, so knowing the password does not
    open an unlimited number of guesses at the TOTP code.
    """
    user = get_user_by_username(db, username=username)
    now = utcnow()
    if user is None:
        verify_password(hash_password("timing"), password)  # same cost as a real check
        raise LoginRefused("unknown_user")
    if user.locked_until and as_utc(user.locked_until) > now:
        verify_password(user.password_hash, password)  # same cost; the lock holds whatever the password
        raise LoginRefused("account_locked")
    if not verify_password(user.password_hash, password):
        _count_failure(db, user)
        raise LoginRefused("wrong_password")
    if not user.is_active:
        raise Forbidden(T("账户已停用，请联系管理员", "The account is disabled; ask an administrator"),
                        code="account_disabled")
    if totp.is_enrolled(db, user_id=user.id):
        if not totp_code:
            raise Unauthorized(T("请输入身份验证器应用中的 6 位验证码（或一个恢复码）",
                                 "Enter the 6-digit code from your authenticator app (or a recovery code)"),
                               code="totp_required")
        if totp.verify(db, user=user, code=totp_code, data_dir=data_dir) is None:
            _count_failure(db, user)
            raise Unauthorized(T("验证码不正确或已使用过，请输入应用中当前显示的验证码",
                                 "The code is wrong or was already used; enter the code the app shows now"),
                               code="totp_invalid")
    policy = get_policy(db)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if policy.password_max_age_days and \
            as_utc(user.password_changed_at) + timedelta(days=policy.password_max_age_days) <= now:
        user.must_change_password = True  # expired: the first-login change flow takes over
    db.flush()
    return user


def open_session(
    db: Session, *, user: User, max_hours: int, ip: str | None = None, user_agent: str | None = None,
    scope: str = "full",
) -> tuple[LoginSession, str]:
    token = secrets.token_urlsafe(32)
    session = LoginSession(
        scope=scope,
        token_hash=_digest(token),
        csrf_token=secrets.token_urlsafe(24),
        user_id=user.id,
        expires_at=utcnow() + timedelta(hours=max_hours),
        ip=ip,
        user_agent=(user_agent or "")[:255],
    )
    db.add(session)
    db.flush()
    return session, token


def close_session_by_token(db: Session, *, token: str) -> None:
    """Revoke the session a browser still holds when it logs in again (as anyone), so it is not left valid."""
    session = db.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
    if session and not session.revoked:
        session.revoked = True
        db.flush()


def close_session(db: Session, *, session_id: str) -> None:
    session = db.get(LoginSession, session_id)
    if session:
        session.revoked = True
        db.flush()


def widen_session(db: Session, *, session_id: str) -> None:
    """After enrolling the second factor the restricted session becomes a normal one."""
    session = db.get(LoginSession, session_id)
    if session:
        session.scope = "full"
        db.flush()


def revoke_sessions(db: Session, *, user_id: str) -> int:
    sessions = db.scalars(select(LoginSession).where(LoginSession.user_id == user_id, ~LoginSession.revoked))
    count = 0
    for s in sessions:
        s.revoked = True
        count += 1
    db.flush()
    return count


def _principal(db: Session, user: User, *, via: str, session: LoginSession | None = None) -> Principal:
    unit = unit_service.get_unit(db, unit_id=user.unit_id)
    roles = frozenset(user.role_names)
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        unit_id=user.unit_id,
        unit_code=unit.code,
        roles=roles,
        permissions=permissions_for(roles),
        via=via,
        session_id=session.id if session else None,
        csrf_token=session.csrf_token if session else None,
        must_change_password=user.must_change_password,
        extra={"totp_enrolment_required": True} if session is not None and session.scope == "totp_enrolment" else {},
    )


def principal_from_session(db: Session, *, token: str, idle_minutes: int) -> Principal:
    session = db.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
    now = utcnow()
    if session is None or session.revoked or as_utc(session.expires_at) <= now:
        raise Unauthorized(code="session_expired")
    idle_minutes = min(idle_minutes, get_policy(db).session_idle_minutes)
    if as_utc(session.last_seen_at) + timedelta(minutes=idle_minutes) <= now:
        session.revoked = True
        db.flush()
        raise Unauthorized(
            T("长时间未操作，会话已超时，请重新登录", "The session timed out after inactivity; please log in again"),
            code="session_idle_timeout",
        )
    user = db.get(User, session.user_id)
    if user is None or not user.is_active:
        raise Unauthorized(code="session_expired")
    # Touch at most once a minute to keep writes down.
    if (now - as_utc(session.last_seen_at)).total_seconds() > 60:
        session.last_seen_at = now
        db.flush()
    return _principal(db, user, via="session", session=session)


# bearer tokens --------------------------------------------------------------------------------
def create_token(db: Session, *, user_id: str, name: str, days: int | None = 90) -> tuple[ApiToken, str]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[:10],
        token_hash=_digest(secret),
        user_id=user_id,
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    db.add(token)
    db.flush()
    return token, secret


def list_tokens(db: Session, *, user_id: str) -> list[ApiToken]:
    return list(db.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at)))


def revoke_token(db: Session, *, user_id: str, token_id: str) -> None:
    """Only the token's owner revokes it; someone else's token answers as if it did not exist."""
    token = one_or_raise(db, select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id),
                         T("令牌不存在", "The token does not exist"))
    token.revoked = True
    db.flush()


def principal_from_token(db: Session, *, secret: str) -> Principal:
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    now = utcnow()
    if token is None or token.revoked or (token.expires_at and as_utc(token.expires_at) <= now):
        raise Unauthorized(T("令牌无效或已过期", "The token is invalid or expired"), code="bad_token")
    user = db.get(User, token.user_id)
    if user is None or not user.is_active:
        raise Unauthorized(T("令牌无效或已过期", "The token is invalid or expired"), code="bad_token")
    token.last_used_at = now
    db.flush()
    return _principal(db, user, via="token")


def locked_accounts(db: Session, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Accounts a security admin may need to look at: locked after failed logins, until when."""
    now = now or utcnow()
    rows = db.scalars(select(User).where(User.locked_until.is_not(None), User.locked_until > now)
                      .order_by(User.locked_until.desc()).limit(100))
    return [{"username": u.username, "display_name": u.display_name, "locked_until": u.locked_until,
             "failed_logins": u.failed_logins} for u in rows]


def _audit_names(db: Session, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """People an audit record points at (by id) by their display names, linked to the user list."""
    rows = db.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {uid: (name, "/users") for uid, name in rows}


audit.register_namer("user", _audit_names)
