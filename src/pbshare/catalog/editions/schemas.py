"""Edition shapes."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime

if TYPE_CHECKING:
    from pbshare.catalog.editions.models import Edition


class EditionIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    edition_date: date
    description: str | None = Field(None, max_length=2000)


class EditionOut(BaseModel):
    id: str
    name: str
    edition_date: date
    description: str | None
    created_at: UtcDateTime
    created_by: str | None
    resources: list[dict]

    @classmethod
    def of(cls, e: Edition, documents: list[dict]) -> EditionOut:
        """``documents``: the edition's frozen versions (``edition_documents``), listed by code, name and version."""
        return cls(id=e.id, name=e.name, edition_date=e.edition_date, description=e.description,
                   created_at=e.created_at, created_by=e.created_by,
                   resources=[{"code": d["code"], "name": d["document"]["name"], "version": d["version"]}
                              for d in documents])
