"""Hub API shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime


class RegisterIn(BaseModel):
    codes: list[str] = Field(default_factory=list, max_length=100, description="空：全部已发布的开放资源")


class RemoteIn(BaseModel):
    resource_code: str = Field(min_length=1, max_length=32)


class RegistrationOut(BaseModel):
    resource_code: str
    name: str | None
    state: str = Field(description="not_registered | sent | registered | refused")
    registered_at: UtcDateTime | None
    note: str | None


class RemoteSubscriptionOut(BaseModel):
    id: str
    resource_code: str
    publisher: str | None
    state: str = Field(description="requested | active | refused | ended")
    hub_subscription_id: str | None
    note: str | None
    requested_by: str
    created_at: UtcDateTime
    confirmed_at: UtcDateTime | None
