"""One place for "now", so tests and services agree on time zones (UTC stored, Asia/Shanghai shown)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; treat them as the UTC they were stored as."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Every date-time the API emits carries its offset (``…Z``): response schemas type their times as this,
# so a naive value read back from SQLite leaves as the UTC it was stored as, as on PostgreSQL.
UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
