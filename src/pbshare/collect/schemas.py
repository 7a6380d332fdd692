"""Shapes more than one sub-domain speaks: the import spec (preview, runs and profiles take it) and a run
as shown (the run history, and a profile's last run)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pbshare.collect.mapping import FieldMap
from pbshare.core.clock import UtcDateTime


class ImportSpec(BaseModel):
    """Everything an import needs; a profile stores one of these."""

    source_kind: str = Field(pattern="^(csv|excel|database|api|delivery)$")
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
    rows_duplicate: int = 0
    rows_skipped: int = 0
    counts: dict | None = None
    seconds: float | None
    error_code: str | None
    error: str | None
    run_by: str | None
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
