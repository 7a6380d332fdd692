"""Identity API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    totp: str | None = Field(default=None, max_length=16)


class PasswordChangeIn(BaseModel):
    old_password: str = Field(max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    display_name: str
    unit_id: str
    roles: list[str]
    is_active: bool
    must_change_password: bool
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    created_at: datetime
    totp_enrolled: bool = False


class MeOut(UserOut):
    unit_code: str
    unit_name: str
    permissions: list[str]
    csrf_token: str | None = None
    totp_enrolled: bool = False
    totp_required: bool = False
    totp_enrolment_required: bool = False


class UserCreateIn(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: str = Field(min_length=1, max_length=100)
    unit_code: str = Field(min_length=1, max_length=32)
    roles: list[str] = Field(default_factory=list)
    password: str | None = Field(default=None, max_length=256, description="empty: generate a one-time one")


class UserUpdateIn(BaseModel):
    display_name: str | None = Field(default=None, max_length=100)
    roles: list[str] | None = None
    is_active: bool | None = None


class UserCreatedOut(BaseModel):
    user: UserOut
    one_time_password: str | None = None


class TokenCreateIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    days: int | None = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool


class TokenCreatedOut(BaseModel):
    token: TokenOut
    secret: str = Field(description="shown once; store it safely")


# API clients ---------------------------------------------------------------------------------
class ApiClientKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    alg: str
    public_key_hex: str | None = None
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    valid: bool = False


class ApiClientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    unit_id: str
    unit_code: str
    name: str
    ip_allowlist: list[str]
    rate_limit_per_minute: int
    is_active: bool
    created_at: datetime
    last_used_at: datetime | None = None
    keys: list[ApiClientKeyOut]


class ApiClientCreateIn(BaseModel):
    unit_code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    alg: str = Field(default="HMAC-SM3", pattern=r"^(HMAC-SM3|SM2-SM3)$")
    public_key_hex: str | None = Field(default=None, max_length=140, description="SM2-SM3 only: x||y in hex")
    ip_allowlist: list[str] = Field(default_factory=list, max_length=50)
    rate_limit_per_minute: int = Field(default=600, ge=1, le=100000)


class ApiClientUpdateIn(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    ip_allowlist: list[str] | None = Field(default=None, max_length=50)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=100000)
    is_active: bool | None = None


class ApiKeyRotateIn(BaseModel):
    alg: str | None = Field(default=None, pattern=r"^(HMAC-SM3|SM2-SM3)$")
    public_key_hex: str | None = Field(default=None, max_length=140)
    overlap_hours: int = Field(default=24, ge=0, le=24 * 30)


class ApiKeyIssuedOut(BaseModel):
    client: ApiClientOut
    key_id: str
    secret_hex: str | None = Field(default=None, description="HMAC-SM3 shared secret: shown once, store it safely")


# second factor -------------------------------------------------------------------------------
class TotpStatusOut(BaseModel):
    enrolled: bool
    required: bool
    recovery_codes_left: int


class TotpEnrolOut(BaseModel):
    secret: str = Field(description="base32, for typing into the app when the QR code cannot be scanned")
    otpauth_uri: str
    qr_data_url: str = Field(description="SVG QR code as a data: URL")


class TotpCodeIn(BaseModel):
    code: str = Field(min_length=6, max_length=16)


class TotpCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="shown once; each works once instead of a TOTP code")


# audit -------------------------------------------------------------------------------------------
class AuditRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor_id: str | None
    actor_name: str | None
    unit_code: str | None
    ip: str | None
    action: str
    object_type: str | None
    object_id: str | None
    result: str
    purpose: str | None
    detail: dict
    hash: str


class ChainReportOut(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    archived_up_to: int | None = None
    archives: list[dict] = Field(default_factory=list)
