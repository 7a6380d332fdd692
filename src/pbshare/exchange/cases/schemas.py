"""Exchange API shapes."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from pbshare.core.clock import UtcDateTime


class DebtorOut(BaseModel):
    id: str
    name: str
    id_no: str = Field(description="masked unless unmasked with a purpose")
    phone: str | None = None
    address: str | None = None
    masked: bool = True
    is_synthetic: bool


class CaseOut(BaseModel):
    id: str
    case_no: str
    procedure: str
    stage: str
    stage_label: str
    accepted_on: date
    court_unit_id: str
    debtor: DebtorOut
    created_at: UtcDateTime


class UnmaskIn(BaseModel):
    purpose: str = Field(min_length=4, max_length=200, description="why the identifiers are needed")
