"""What the forms API takes and gives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime


class FieldIn(BaseModel):
    """One field: name (lower-case letters, digits, _), label, type and its settings (see docs/forms.md)."""

    model_config = {"extra": "allow"}

    name: str = Field(min_length=1, max_length=63)
    label: str = Field(min_length=1, max_length=200)
    type: str = Field(max_length=20)


class ModelIn(BaseModel):
    code: str = Field(min_length=1, max_length=40, description="代码（小写字母、数字、下划线） / code")
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    fields: list[FieldIn] = Field(default_factory=list, max_length=300)
    layout: dict[str, Any] | None = None
    access: dict[str, list[str]] | None = None


class DraftIn(BaseModel):
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    fields: list[FieldIn] = Field(max_length=300)
    layout: dict[str, Any] | None = None
    access: dict[str, list[str]] | None = None


class PublishIn(BaseModel):
    note: str | None = Field(default=None, max_length=200)


class TypeChangeIn(BaseModel):
    type: str = Field(max_length=20, description="新类型 / the new type")
    settings: dict[str, Any] | None = Field(default=None, description="新类型的设置（如选项） / settings of the new type")


class PurgeIn(BaseModel):
    column: str = Field(min_length=1, max_length=63)


class RecordIn(BaseModel):
    values: dict[str, Any] = Field(description="字段名 → 值 / field name → value")


class ModelOut(BaseModel):
    model_config = {"extra": "allow"}

    id: str
    code: str
    title: str
    table: str
    table_title: str | None = None
    published_version: int
    fields: list[dict[str, Any]]
    layout: dict[str, Any]


class RecordOut(BaseModel):
    id: str
    deleted: bool
    values: dict[str, Any]
    created_at: UtcDateTime | None  # with its offset on SQLite too (the model's OpenAPI says date-time)
    created_by: str | None
    updated_at: UtcDateTime | None
    updated_by: str | None


class RecordPage(BaseModel):
    items: list[RecordOut]
    total: int
    page: int
    size: int
    masked: bool
    refs: dict[str, dict[str, str]] = Field(default_factory=dict, description="关联字段：记录编号 → 名称 / reference "
                                            "field → record id → label")


class VersionOut(BaseModel):
    version: int
    note: str | None
    published_by: str | None
    published_at: datetime


class TypeCheckOut(BaseModel):
    total: int
    convertible: int
    bad: list[dict[str, Any]]
