"""What the compare API answers: comparisons, their rows, a record's versions, a state as of a date."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime


class Flag(BaseModel):
    """A suspicious change: ``id_change`` (an identifier changed under the same key), ``mass_change`` (more
    than ``threshold`` of the rows changed or went at once), ``flip`` (a value went back to an earlier one)."""

    code: str
    label: str
    count: int = 0
    fields: list[str] = Field(default_factory=list)
    share: float | None = None
    threshold: float | None = None


class ComparisonOut(BaseModel):
    id: str
    unit_code: str | None
    target: str
    target_label: str | None = None  # the table as a person calls it (its topic's and its own title)
    resource_code: str | None
    delivery_id: str
    delivery_kind: str
    previous_delivery_id: str | None
    incremental: bool
    key: list[str]
    columns: list[dict[str, Any]]
    added: int
    removed: int
    changed: int
    unchanged: int
    previous_rows: int
    field_counts: dict[str, int]
    flags: list[Flag]
    created_at: UtcDateTime


class ComparisonPage(BaseModel):
    items: list[ComparisonOut]
    total: int
    page: int
    size: int


class RowOut(BaseModel):
    """One added, removed or changed record; values masked unless shown in full with a purpose."""

    kind: str
    key: dict[str, Any]
    values: dict[str, Any]
    changes: dict[str, list[Any]] = Field(default_factory=dict, description="field: [old, new]")
    flags: list[str] = Field(default_factory=list)


class RowPage(BaseModel):
    items: list[RowOut]
    total: int
    page: int
    size: int
    masked: bool


class VersionOut(BaseModel):
    values: dict[str, Any]
    valid_from: UtcDateTime
    valid_to: UtcDateTime | None
    delivery_id: str
    delivery_kind: str
    comparison_id: str | None = None
    ended_by: str | None = None


class HistoryOut(BaseModel):
    target: str
    unit_code: str | None
    key: dict[str, Any]
    versions: list[VersionOut]
    masked: bool


class AsOfOut(BaseModel):
    target: str
    unit_code: str | None
    at: UtcDateTime
    columns: list[str]
    items: list[VersionOut]
    total: int
    page: int
    size: int
    masked: bool


class TargetOut(BaseModel):
    """A (unit, target) with history: how many deliveries, its key, the last one's time."""

    target: str
    unit_code: str | None
    key: list[str]
    deliveries: int
    last_at: UtcDateTime
    target_label: str | None = None  # the table as a person calls it (its topic's and its own title)
