"""Shapes of starting a run and of its preview."""

from __future__ import annotations

from typing import Any

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
