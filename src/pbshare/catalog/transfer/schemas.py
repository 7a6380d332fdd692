"""What an import did, as the API answers and the CLI prints it."""

from __future__ import annotations

from pydantic import BaseModel


class ImportReport(BaseModel):
    units: int
    created: int
    updated: int
    unchanged: int
    published: int
