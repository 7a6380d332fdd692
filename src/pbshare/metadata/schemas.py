"""Metadata API shapes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime


class SourceIn(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_\-\u4e00-\u9fff]{1,64}$", description="数据源名称 / name")
    url: str = Field(min_length=8, max_length=1000, description="SQLAlchemy URL，密码加密保存 / stored encrypted")
    schema_name: str | None = Field(None, max_length=64, description="PostgreSQL schema（默认 public）")
    description: str | None = Field(None, max_length=2000)


class SourceUpdate(BaseModel):
    url: str | None = Field(None, min_length=8, max_length=1000, description="留空则不改 / empty: unchanged")
    schema_name: str | None = Field(None, max_length=64)
    description: str | None = Field(None, max_length=2000)


class SourceOut(BaseModel):
    id: str
    name: str
    dialect: str
    url: str = Field(description="密码已隐藏 / password hidden")
    schema_name: str | None
    description: str | None
    last_tested_at: UtcDateTime | None
    last_test_ok: bool | None
    last_test_message: str | None
    last_harvest_at: UtcDateTime | None
    tables: int = 0


class TestResult(BaseModel):
    ok: bool
    message: str
    ms: int


class HarvestOut(BaseModel):
    id: str
    source_id: str
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    ok: bool
    tables: int
    columns: int
    changes: list[dict]
    error: str | None


class ObjectOut(BaseModel):
    id: str
    type_code: str
    name: str
    qualified_name: str
    comment: str | None
    harvested: dict
    attributes: dict
    removed: bool
    first_seen_at: UtcDateTime
    last_seen_at: UtcDateTime


class TypeAttribute(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    label_zh: str | None = Field(None, max_length=100)
    label_en: str | None = Field(None, max_length=100)
    type: str = Field("string", pattern="^(string|text|number|date|boolean|enum)$")
    required: bool = False
    options: list[str] = Field(default_factory=list)


class TypeIn(BaseModel):
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    attributes: list[TypeAttribute] = Field(default_factory=list)


class TypeOut(BaseModel):
    id: str
    code: str
    name_zh: str
    name_en: str
    builtin: bool
    attributes: list[dict]


class LineageIn(BaseModel):
    target: str = Field(min_length=1, max_length=300, description="如 topic.table、source:<名称>.<表>、file:<名称>")
    sources: list[str] = Field(min_length=1, max_length=100)
    via_kind: str = Field(min_length=1, max_length=32, description="job / import / transform / sql …")
    via_id: str | None = Field(None, max_length=64)
    detail: dict[str, Any] | None = None
