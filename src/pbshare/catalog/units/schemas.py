"""Unit shapes: the registry's fields plus contacts and connected systems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime

if TYPE_CHECKING:
    from pbshare.units.models import Unit


class Contact(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    role: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=100)


class ConnectedSystem(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: str | None = Field(None, max_length=32, description="api / soap / mq / file / portal …")
    address: str | None = Field(None, max_length=300)


class UnitIn(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{2,32}$")
    name: str = Field(min_length=1, max_length=200)
    kind: str = "other"
    credit_code: str | None = Field(None, max_length=18)
    state: str | None = None
    description: str | None = Field(None, max_length=2000)
    contacts: list[Contact] = Field(default_factory=list)
    systems: list[ConnectedSystem] = Field(default_factory=list)


class UnitOut(BaseModel):
    id: str
    code: str
    name: str
    kind: str
    credit_code: str | None
    state: str
    description: str | None
    contacts: list[dict]
    systems: list[dict]
    resources: int = 0
    updated_at: UtcDateTime

    @classmethod
    def of(cls, unit: Unit, *, resources: int = 0) -> UnitOut:
        return cls(id=unit.id, code=unit.code, name=unit.name, kind=unit.kind, credit_code=unit.credit_code,
                   state=unit.state, description=unit.description, contacts=unit.contacts or [],
                   systems=unit.systems or [], resources=resources, updated_at=unit.updated_at)
