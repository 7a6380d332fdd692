"""API shapes for the outbox, dead letters, inbox and refused messages."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


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
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None


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
    received_at: datetime


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
    received_at: datetime
