"""Warehouse API shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime


class TopicIn(BaseModel):
    name: str = Field(pattern="^[a-z][a-z0-9_]{0,62}$", description="identifier, e.g. case")
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)


class TopicOut(TopicIn):
    id: str
    tables: int = 0
    created_by: str | None
    created_at: UtcDateTime


class TableOut(BaseModel):
    id: str
    topic: str
    name: str
    title: str
    columns: list[dict]
    key: list[str]
    origin: str
    origin_id: str | None
    resource_code: str | None
    row_count: int | None
    updated_at: UtcDateTime


class FieldIn(BaseModel):
    name: str = Field(pattern="^[a-z][a-z0-9_]{0,62}$")
    title: str | None = Field(None, max_length=200)
    type: str = "string"
    length: int | None = Field(None, ge=1, le=65535)
    pii: bool = False
    id_kind: str | None = None


class TableIn(BaseModel):
    name: str = Field(pattern="^[a-z][a-z0-9_]{0,62}$")
    title: str = Field(min_length=1, max_length=200)
    fields: list[FieldIn] = Field(default_factory=list, description="or give resource_code")
    key: list[str] = Field(default_factory=list)
    resource_code: str | None = Field(None, max_length=32, description="create from a catalog resource's info items")
