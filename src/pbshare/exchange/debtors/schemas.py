"""The debtor's file (债务人档案): one person, everything the platform knows of them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from pbshare.exchange.cases.schemas import CaseOut, DebtorOut


class FactTable(BaseModel):
    """Rows about the person in one resource's table (identifiers masked)."""

    resource_code: str
    resource_name: str
    topic: str
    table: str
    columns: list[dict[str, str]]
    rows: list[dict[str, Any]]
    truncated: bool = False


class DebtorFileOut(BaseModel):
    debtor: DebtorOut
    cases: list[CaseOut]
    facts: list[FactTable]
    requests: list[dict[str, Any]]  # each case's requests and their items' states (see exchange.requests)


class DebtorRow(BaseModel):
    id: str
    name: str
    id_no: str  # masked
    cases: int
    is_synthetic: bool
