"""Identity API shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pbshare.core.clock import UtcDateTime


class AuditRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: UtcDateTime
    actor_id: str | None
    actor_name: str | None
    unit_code: str | None
    ip: str | None
    action: str
    object_type: str | None
    object_id: str | None
    result: str
    purpose: str | None
    detail: dict
    hash: str
    repeats: int = 1  # identical refusals within the record's minute, counted beside the chain
    object_name: str | None = None  # the object as a person calls it (audit.register_namer), not its id
    object_link: str | None = None  # the page that shows it


class ChainReportOut(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    archived_up_to: int | None = None
    archives: list[dict] = Field(default_factory=list)
