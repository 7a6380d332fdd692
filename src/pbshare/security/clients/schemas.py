"""Identity API shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pbshare.core.clock import UtcDateTime


class ApiClientKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    alg: str
    public_key_hex: str | None = None
    created_at: UtcDateTime
    expires_at: UtcDateTime | None = None
    revoked_at: UtcDateTime | None = None
    last_used_at: UtcDateTime | None = None
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
    created_at: UtcDateTime
    last_used_at: UtcDateTime | None = None
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
