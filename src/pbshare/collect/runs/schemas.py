"""Shapes of starting a run and of its preview."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from pbshare.collect.mapping import FieldMap
from pbshare.collect.profiles.schemas import ProfileIn
from pbshare.collect.schemas import ImportSpec


class RunIn(BaseModel):
    spec: ImportSpec | None = None
    profile_id: str | None = None
    upload_id: str | None = Field(None, description="a new delivery file for the profile")
    save_as: ProfileIn | None = Field(None, description="also save the spec as a profile")
    confirm: bool = Field(False, description="run a profile on a file it already imported")


class PreviewOut(BaseModel):
    columns: list[str]
    mapping: list[FieldMap]
    rows: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    rows_checked: int
    rows_bad: int
    target_exists: bool
    options: dict[str, Any]


class QuarantineEdit(BaseModel):
    """One quarantined row as the grid sends it: its id and the cells the person changed (source column → text)."""

    id: int = Field(ge=1, le=2**63 - 1)
    values: dict[str, str | None] = Field(default_factory=dict, max_length=500)


class QuarantineFix(BaseModel):
    rows: list[QuarantineEdit] = Field(min_length=1, max_length=500)


class QuarantineDiscard(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=500)


class RowCheck(BaseModel):
    id: int
    line: int
    ok: bool
    reason: str | None = Field(None, description="why the row is still bad (null when it passes)")


class QuarantineChecked(BaseModel):
    items: list[RowCheck]
    ok: int
    bad: int


class QuarantineLoaded(QuarantineChecked):
    loaded: int = Field(description="rows written to the target table")
    duplicates: int = Field(0, description="fixed rows equal to another fixed row, loaded once")
    kept: int = Field(0, description="edited rows still bad, kept in quarantine with their edits and new reason")
    remaining: int = Field(description="rows still in the run's quarantine")
