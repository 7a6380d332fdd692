"""Identity API shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pbshare.core.clock import UtcDateTime


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, title="用户名 / User name")
    password: str = Field(min_length=1, max_length=256, title="密码 / Password")
    totp: str | None = Field(default=None, max_length=16, title="动态验证码 / Authenticator code")


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
    locked_until: UtcDateTime | None = None
    last_login_at: UtcDateTime | None = None
    created_at: UtcDateTime
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
    created_at: UtcDateTime
    expires_at: UtcDateTime | None
    last_used_at: UtcDateTime | None
    revoked: bool


class TokenCreatedOut(BaseModel):
    token: TokenOut
    secret: str = Field(description="shown once; store it safely")


# API clients ---------------------------------------------------------------------------------
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
