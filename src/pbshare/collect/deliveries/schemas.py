from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from pbshare.core.clock import UtcDateTime


class DeliveryOut(BaseModel):
    envelope_id: str
    sender: str
    resource: str | None
    channel: str
    test: bool
    state: str  # received (waiting to land) · processed (landed) · failed
    received_at: UtcDateTime
    processed_at: UtcDateTime | None
    result: dict[str, Any] | None  # status, run_id, target, rows, loaded, quarantined, duplicates, verdict …


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    total: int
    page: int
    size: int
