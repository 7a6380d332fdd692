"""The schedule picker: each choice becomes cron, fire times in the office's time zone, bad input says what to fix."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pbshare.core.errors import Invalid
from pbshare.jobs import schedules

SH = schedules.zone("Asia/Shanghai")


def local(times: list[datetime]) -> list[str]:
    return [t.astimezone(SH).strftime("%Y-%m-%d %H:%M %a") for t in times]


def test_each_picker_becomes_cron() -> None:
    assert schedules.to_cron({"kind": "hourly", "minute": 5}) == "5 * * * *"
    assert schedules.to_cron({"kind": "daily", "time": "02:30"}) == "30 2 * * *"
    assert schedules.to_cron({"kind": "weekly", "weekdays": [1, 5, 7], "time": "08:00"}) == "0 8 * * 0,1,5"
    assert schedules.to_cron({"kind": "monthly", "day": 15, "time": "03:00"}) == "0 3 15 * *"
    assert schedules.to_cron({"kind": "monthly", "day": "last", "time": "23:30"}) == "30 23 L * *"
    assert schedules.to_cron({"kind": "cron", "cron": "*/15 9-17 * * 1-5"}) == "*/15 9-17 * * 1-5"


def test_last_day_of_month_in_shanghai_time() -> None:
    cron = schedules.to_cron({"kind": "monthly", "day": "last", "time": "02:00"})
    after = datetime(2027, 1, 10, tzinfo=UTC)
    assert local(schedules.fire_times(cron, after=after, count=4)) == [
        "2027-01-31 02:00 Sun", "2027-02-28 02:00 Sun", "2027-03-31 02:00 Wed", "2027-04-30 02:00 Fri"]
    # stored in UTC: 02:00 in Shanghai is 18:00 the day before
    assert schedules.fire_times(cron, after=after, count=1)[0] == datetime(2027, 1, 30, 18, 0, tzinfo=UTC)


def test_next_ten_weekly_fire_times() -> None:
    cron = schedules.to_cron({"kind": "weekly", "weekdays": [1, 3], "time": "09:15"})
    times = local(schedules.fire_times(cron, after=datetime(2027, 3, 1, 12, 0, tzinfo=UTC), count=10))
    assert len(times) == 10
    assert times[0] == "2027-03-03 09:15 Wed"
    assert {t.split()[-1] for t in times} == {"Mon", "Wed"}


@pytest.mark.parametrize(("picker", "says"), [
    ({"kind": "daily", "time": "25:00"}, "hh:mm"),
    ({"kind": "hourly", "minute": 60}, "0–59"),
    ({"kind": "weekly", "weekdays": [], "time": "08:00"}, "weekday"),
    ({"kind": "monthly", "day": 32, "time": "08:00"}, "last day"),
    ({"kind": "cron", "cron": "every day"}, "five fields"),
    ({"kind": "yearly"}, "hourly, daily, weekly, monthly or cron"),
])
def test_bad_choices_say_what_to_fix(picker: dict, says: str) -> None:
    with pytest.raises(Invalid) as caught:
        schedules.to_cron(picker)
    assert says in caught.value.message.render("en")
    assert caught.value.status == 422
