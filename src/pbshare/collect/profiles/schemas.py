"""Import profile shapes."""

from __future__ import annotations

from pydantic import Field

from pbshare.collect.schemas import ImportSpec, RunOut
from pbshare.core.clock import UtcDateTime


class ProfileIn(ImportSpec):
    name: str = Field(pattern="^[a-z][a-z0-9_]{0,62}$")
    title: str = Field(min_length=1, max_length=200)


class ProfileOut(ProfileIn):
    id: str
    watermark: dict | None = None
    created_by: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    last_run: RunOut | None = None
    target_label: str | None = Field(None, description="目标表的标题 / the target table's title")
