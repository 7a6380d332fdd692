"""Upload shapes."""

from __future__ import annotations

from pydantic import BaseModel


class UploadOut(BaseModel):
    upload_id: str
    file_name: str
    size: int
    kind: str
    sheets: list[str] = []
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None
