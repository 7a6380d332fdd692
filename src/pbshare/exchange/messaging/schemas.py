"""API shapes for the outbox, dead letters, inbox and refused messages."""

from __future__ import annotations

from pydantic import BaseModel

from pbshare.core.clock import UtcDateTime


class OutboxOut(BaseModel):
    id: str
    envelope_id: str
    connection_id: str
    type: str
    receiver: str
    resource: str | None
    test: bool
    state: str
    attempts: int
    next_attempt_at: UtcDateTime | None
    last_error: str | None
    created_at: UtcDateTime
    sent_at: UtcDateTime | None
    delivered_at: UtcDateTime | None


class InboxOut(BaseModel):
    id: str
    envelope_id: str
    connection_id: str
    channel: str
    type: str
    sender: str
    resource: str | None
    correlation_id: str | None
    test: bool
    state: str
    received_at: UtcDateTime


class RejectedOut(BaseModel):
    id: str
    connection_id: str | None
    channel: str
    code: str
    message: str
    field: str | None
    answers_id: str | None
    sender: str | None
    size: int
    truncated: bool
    received_at: UtcDateTime
