"""API shapes for channels and connections (with the keys shown once, and traffic counts)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime


class ChannelOut(BaseModel):
    name: str
    label: str


class ConnectionIn(BaseModel):
    unit_code: str = Field(min_length=1, max_length=32)
    channel: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    settings: dict[str, Any] = Field(default_factory=dict, description="url / wsdl / host+port, per channel")
    sig_alg: str = Field("HMAC-SM3", pattern="^(HMAC-SM3|SM2-SM3)$")
    unit_public_key: str | None = Field(None, max_length=200)
    encrypt: bool = False


class StateIn(BaseModel):
    to: str = Field(pattern="^(draft|testing|live|suspended|terminated)$")
    reason: str | None = Field(None, max_length=200)
    override_reason: str | None = Field(None, max_length=500, description="上线未通过联调测试时管理员的理由 / "
                                        "an administrator's reason to go live without a passed joint test")


class TestMessageIn(BaseModel):
    payload: dict[str, Any] = Field(default_factory=lambda: {"ping": "联调测试"})


class CredentialsOut(BaseModel):
    """Shown once; hand these to the unit's engineer over a safe path."""

    key_id: str
    sig_alg: str
    secret_hex: str
    enc_key_hex: str
    platform_public_key: str


class TrafficOut(BaseModel):
    inbound: int = 0
    outbound: int = 0
    delivered: int = 0
    rejected: int = 0
    dead: int = 0


class ConnectionOut(BaseModel):
    id: str
    unit_id: str
    unit_code: str
    unit_name: str
    channel: str
    channel_label: str
    name: str
    state: str
    state_label: str
    settings: dict[str, Any]
    sig_alg: str
    key_id: str
    keys_revoked: bool
    encrypt: bool
    health: str
    health_detail: str | None
    health_checked_at: UtcDateTime | None
    last_seen_at: UtcDateTime | None
    created_at: UtcDateTime
    traffic: TrafficOut


class ConnectionCreated(BaseModel):
    connection: ConnectionOut
    credentials: CredentialsOut
