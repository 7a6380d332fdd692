"""The schedule picker: hourly / daily / weekly / monthly choices (or a cron expression) to cron, and fire times.

Fire times are computed in the schedule's time zone (the office's, Asia/Shanghai) and stored in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from pbshare.core.errors import Invalid
from pbshare.core.i18n import T

OFFICE_TZ = "Asia/Shanghai"
KINDS = ("hourly", "daily", "weekly", "monthly", "cron")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _bad(zh: str, en: str, **kw: Any) -> Invalid:
    return Invalid(T(zh, en, **kw), code="bad_schedule")


def _time(picker: dict) -> tuple[int, int]:
    value = str(picker.get("time") or "")
    m = _TIME.match(value)
    if not m:
        raise _bad("时间“{v}”无效，请写成 时:分，例如 02:30", "The time “{v}” is not valid; write hh:mm, e.g. 02:30", v=value)
    return int(m.group(1)), int(m.group(2))


def to_cron(picker: dict) -> str:
    """The cron expression of a picker choice; a clear 422 naming what to fix otherwise."""
    kind = picker.get("kind")
    if kind == "hourly":
        minute = picker.get("minute", 0)
        if not isinstance(minute, int) or not 0 <= minute <= 59:
            raise _bad("每小时的分钟须在 0–59 之间", "The minute of an hourly schedule must be 0–59")
        return f"{minute} * * * *"
    if kind == "daily":
        h, m = _time(picker)
        return f"{m} {h} * * *"
    if kind == "weekly":
        days = picker.get("weekdays") or []
        if not days or not all(isinstance(d, int) and 1 <= d <= 7 for d in days):
            raise _bad("请至少选择一个星期几（1=周一 … 7=周日）",
                       "Pick at least one weekday (1 = Monday … 7 = Sunday)")
        h, m = _time(picker)
        return f"{m} {h} * * {','.join(str(d) for d in sorted({d % 7 for d in days}))}"
    if kind == "monthly":
        day = picker.get("day", 1)
        h, m = _time(picker)
        if day == "last":
            return f"{m} {h} L * *"
        if not isinstance(day, int) or not 1 <= day <= 31:
            raise _bad("每月的日期须在 1–31 之间，或选“最后一天”",
                       "The day of the month must be 1–31, or pick “last day”")
        return f"{m} {h} {day} * *"
    if kind == "cron":
        expr = str(picker.get("cron") or "").strip()
        if len(expr.split()) != 5 or not croniter.is_valid(expr):
            raise _bad("cron 表达式“{v}”无效：应为 5 段（分 时 日 月 周），例如 0 2 * * *",
                       "The cron expression “{v}” is not valid: five fields (minute hour day month weekday), "
                       "e.g. 0 2 * * *", v=expr)
        return expr
    raise _bad("调度类型须为 hourly、daily、weekly、monthly 或 cron",
               "The schedule kind must be hourly, daily, weekly, monthly or cron")


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or OFFICE_TZ)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _bad("时区“{v}”无效", "The time zone “{v}” is not known", v=str(name)) from None


def fire_times(cron: str, *, after: datetime, count: int = 10, tz: str | None = OFFICE_TZ,
               until: datetime | None = None) -> list[datetime]:
    """The next ``count`` fire times strictly after ``after`` (UTC datetimes), or up to ``until`` (inclusive)."""
    try:
        local = after.astimezone(zone(tz)) if after.tzinfo else after.replace(tzinfo=UTC).astimezone(zone(tz))
        it = croniter(cron, local)
        out: list[datetime] = []
        while len(out) < count:
            nxt: datetime = it.get_next(datetime).astimezone(UTC)
            if until is not None and nxt > until:
                break
            out.append(nxt)
    except (CroniterError, OverflowError, ValueError) as exc:
        if isinstance(exc, Invalid):
            raise
        raise _bad("这个调度不会运行（例如 2 月 31 日），请换一个日期", "This schedule never fires (e.g. 31 February); "
                   "pick another date") from None
    return out


def next_fire(cron: str, *, after: datetime, tz: str | None = OFFICE_TZ) -> datetime:
    return fire_times(cron, after=after, count=1, tz=tz)[0]


def describe(picker: dict) -> T:
    """The choice in words, both languages (the schedule list shows it)."""
    kind = picker.get("kind")
    if kind == "hourly":
        return T("每小时第 {m} 分", "hourly at minute {m}", m=picker.get("minute", 0))
    if kind == "daily":
        return T("每天 {t}", "daily at {t}", t=picker.get("time"))
    if kind == "weekly":
        zh = "一二三四五六日"
        en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        days = sorted(set(picker.get("weekdays") or []))
        return T("每周{d} {t}", "weekly on {e} at {t}", d="、".join("周" + zh[d - 1] for d in days),
                 e=", ".join(en[d - 1] for d in days), t=picker.get("time"))
    if kind == "monthly":
        if picker.get("day") == "last":
            return T("每月最后一天 {t}", "monthly on the last day at {t}", t=picker.get("time"))
        return T("每月 {d} 日 {t}", "monthly on day {d} at {t}", d=picker.get("day"), t=picker.get("time"))
    return T("cron：{c}", "cron: {c}", c=picker.get("cron"))
