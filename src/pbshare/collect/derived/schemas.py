"""SQL dataset and transform shapes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime


class DatasetIn(BaseModel):
    name: str = Field(pattern="^[a-z][a-z0-9_]{0,62}$")
    title: str = Field(min_length=1, max_length=200)
    sql: str = Field(min_length=1, max_length=20000)
    sql_dialect: str = Field("postgres", pattern="^(postgres|sqlite|mysql)$")
    target_topic: str
    target_table: str | None = None


class DatasetOut(DatasetIn):
    id: str
    target_label: str | None = Field(None, description="目标表的标题 / the target table's title")
    row_count: int | None
    refreshed_at: UtcDateTime | None
    created_by: str | None


class SqlCheckIn(BaseModel):
    sql: str = Field(min_length=1, max_length=20000)
    sql_dialect: str = Field("postgres", pattern="^(postgres|sqlite|mysql)$")


class TransformIn(BaseModel):
    name: str = Field(pattern="^[a-z][a-z0-9_]{0,62}$")
    title: str = Field(min_length=1, max_length=200)
    spec: dict[str, Any]
    target_topic: str
    target_table: str | None = None


class TransformOut(TransformIn):
    id: str
    target_label: str | None = Field(None, description="目标表的标题 / the target table's title")
    row_count: int | None
    refreshed_at: UtcDateTime | None
    created_by: str | None
