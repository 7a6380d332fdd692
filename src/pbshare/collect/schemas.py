"""Collect API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pbshare.collect.mapping import FieldMap


class ImportSpec(BaseModel):
    """Everything an import needs; a profile stores one of these."""

    source_kind: str = Field(pattern="^(csv|excel|database|api)$")
    source: dict[str, Any] = Field(default_factory=dict, description=(
        "csv: upload_id, encoding, delimiter, header_row; excel: upload_id, sheet, header_row; "
        "database: source_id or url, table or query, cursor_column; api: url, records_path, page_param, "
        "size_param, page_size"))
    mapping: list[FieldMap] = Field(default_factory=list, description="empty: match by name")
    target_topic: str = Field(max_length=63)
    target_table: str = Field(max_length=63)
    target_title: str | None = Field(None, max_length=200)
    mode: str = Field("append", pattern="^(append|replace|upsert)$")
    key: list[str] = Field(default_factory=list, description="business key for upsert")
    resource_code: str | None = Field(None, max_length=32, description="create the table from this catalog resource")


class ProfileIn(ImportSpec):
    name: str = Field(pattern="^[a-z][a-z0-9_]{0,62}$")
    title: str = Field(min_length=1, max_length=200)


class ProfileOut(ProfileIn):
    id: str
    watermark: dict | None = None
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime
    last_run: RunOut | None = None


class RunOut(BaseModel):
    id: str
    profile_id: str | None
    source_kind: str
    source_label: str
    target: str
    mode: str
    status: str
    progress: float
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    seconds: float | None
    error_code: str | None
    error: str | None
    run_by: str | None
    started_at: datetime
    finished_at: datetime | None


class RunIn(BaseModel):
    spec: ImportSpec | None = None
    profile_id: str | None = None
    upload_id: str | None = Field(None, description="a new delivery file for the profile")
    save_as: ProfileIn | None = Field(None, description="also save the spec as a profile")


class UploadOut(BaseModel):
    upload_id: str
    file_name: str
    size: int
    kind: str
    sheets: list[str] = []
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None


class PreviewOut(BaseModel):
    columns: list[str]
    mapping: list[FieldMap]
    rows: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    rows_checked: int
    rows_bad: int
    target_exists: bool
    options: dict[str, Any]


class DatasetIn(BaseModel):
    name: str = Field(pattern="^[a-z][a-z0-9_]{0,62}$")
    title: str = Field(min_length=1, max_length=200)
    sql: str = Field(min_length=1, max_length=20000)
    sql_dialect: str = Field("postgres", pattern="^(postgres|sqlite|mysql)$")
    target_topic: str
    target_table: str | None = None


class DatasetOut(DatasetIn):
    id: str
    row_count: int | None
    refreshed_at: datetime | None
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
    row_count: int | None
    refreshed_at: datetime | None
    created_by: str | None


ProfileOut.model_rebuild()
