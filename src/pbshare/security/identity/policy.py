"""The security policy: password rules, lockout, session timeout, second factor, login throttling.

Stored in one database row so the security admin edits it in the UI and every node sees the same
rules. Read on every login and request, so it is cached for a few seconds per database.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pbshare.core.clock import utcnow
from pbshare.core.errors import Invalid
from pbshare.core.i18n import T
from pbshare.security.enums import Role
from pbshare.security.identity.models import SecurityPolicySetting

_CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, SecurityPolicy]] = {}


class SecurityPolicy(BaseModel):
    password_min_length: int = Field(10, ge=8, le=64, description="最短密码长度 / minimum length")
    password_min_classes: int = Field(3, ge=1, le=4, description="至少几类字符 / character classes needed (of 4)")
    password_history: int = Field(5, ge=0, le=24, description="不得重复最近几次密码 / recent passwords not reusable")
    password_max_age_days: int = Field(0, ge=0, le=3650, description="密码有效天数，0 为不过期 / 0: never expires")
    lockout_threshold: int = Field(5, ge=3, le=100, description="连续失败几次锁定 / failures before locking")
    lockout_minutes: int = Field(30, ge=1, le=1440, description="锁定分钟数 / lock duration")
    session_idle_minutes: int = Field(30, ge=5, le=480, description="会话空闲超时 / idle session timeout")
    totp_required_roles: list[str] = Field(
        default_factory=lambda: [Role.sys_admin.value, Role.security_admin.value, Role.auditor.value],
        description="须启用双因素认证的角色 / roles that must use TOTP")
    totp_required_for_all: bool = Field(False, description="所有用户须启用双因素认证 / everyone must use TOTP")
    totp_grace_days: int = Field(7, ge=0, le=90, description="新用户启用双因素认证的宽限天数 / days to enrol")
    login_ip_max_failures: int = Field(20, ge=3, le=100000, description="单个 IP 在时间窗内最多失败次数")
    login_ip_window_minutes: int = Field(15, ge=1, le=1440, description="IP 限流时间窗 / throttling window")
    audit_online_days: int = Field(180, ge=180, le=36500, description="审计日志在线保存天数（至少 180）")

    @field_validator("totp_required_roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        known = {r.value for r in Role}
        unknown = [r for r in value if r not in known]
        if unknown:
            raise ValueError(f"unknown roles: {', '.join(unknown)}")
        return sorted(set(value))


def _key(db: Session) -> str:
    return str(db.get_bind().engine.url)


def get_policy(db: Session) -> SecurityPolicy:
    key = _key(db)
    hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < _CACHE_SECONDS:
        return hit[1]
    row = db.get(SecurityPolicySetting, 1)
    policy = SecurityPolicy.model_validate(row.data if row else {})
    _cache[key] = (time.monotonic(), policy)
    return policy


def update_policy(db: Session, *, changes: dict[str, Any], actor: str | None) -> tuple[SecurityPolicy, dict]:
    """Apply changes; returns the new policy and ``{field: [old, new]}`` for the audit record."""
    current = get_policy(db)
    try:
        new = SecurityPolicy.model_validate({**current.model_dump(), **changes})
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise Invalid(T("安全策略取值不合理：{f}", "These policy values are not allowed: {f}", f=fields),
                      code="bad_policy", detail=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]) \
            from None
    diff = {k: [getattr(current, k), v] for k, v in new.model_dump().items() if getattr(current, k) != v}
    row = db.get(SecurityPolicySetting, 1)
    if row is None:
        try:
            with db.begin_nested():
                db.add(SecurityPolicySetting(id=1, data=new.model_dump()))
        except IntegrityError:
            pass  # another request inserted it first: change that one
        row = db.get_one(SecurityPolicySetting, 1)
    row.data = new.model_dump()
    row.updated_at = utcnow()
    row.updated_by = actor
    db.flush()
    _cache.pop(_key(db), None)
    return new, diff
