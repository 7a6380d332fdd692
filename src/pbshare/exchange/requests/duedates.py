"""Due dates in working days on the Chinese public-holiday calendar (adjusted weekends count as work days).

chinese-calendar knows the State Council's notices year by year; for a year it does not know yet
(announced each November) the plain Monday-to-Friday week is used, which a later release corrects.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar

from pbshare.core.clock import LOCAL_TZ, utcnow

DEFAULT_WORKING_DAYS = 5
# A resource may say how long its unit has to answer: attributes {"response_working_days": 3}.
RESOURCE_ATTRIBUTE = "response_working_days"


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the calendar has no notice for yet
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count)."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not later)."""
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            n += 1
    return n


def local_today(now: datetime | None = None) -> date:
    """Today in Shenzhen: a due date is a day at the office, not a UTC day."""
    return (now or utcnow()).astimezone(LOCAL_TZ).date()


def working_days_for(attributes: dict[str, object] | None) -> int:
    value = (attributes or {}).get(RESOURCE_ATTRIBUTE)
    try:
        days = int(value) if value is not None else DEFAULT_WORKING_DAYS  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return DEFAULT_WORKING_DAYS
    return days if 1 <= days <= 60 else DEFAULT_WORKING_DAYS


def default_due(attributes: dict[str, object] | None, *, today: date) -> date:
    """The resource's answer time (default 5 working days) counted from ``today``."""
    return add_working_days(today, working_days_for(attributes))
