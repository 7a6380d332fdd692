"""Every date-time the API sends carries its offset, on SQLite (which stores them naive) as on PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime

from tests.conftest import login, make_user

WITH_OFFSET = re.compile(r"T\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _times(value, key=""):
    """Every (key, value) below ``value`` whose key names a time."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _times(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _times(v, key)
    elif isinstance(value, str) and (key.endswith(("_at", "_until")) or key == "at"):
        yield key, value


def test_me_says_the_same_instant_with_its_offset_as_login(client, database):
    make_user(database, "clocked", ["data_admin"])
    first = login(client, "clocked")
    again = client.get("/api/v1/auth/me").json()
    assert again["created_at"] and WITH_OFFSET.search(again["created_at"]), again["created_at"]
    assert WITH_OFFSET.search(again["last_login_at"]), again["last_login_at"]
    assert datetime.fromisoformat(again["created_at"]) == datetime.fromisoformat(first["created_at"])


def test_listed_times_all_carry_an_offset(client, as_user):
    as_user("timekeeper", ["data_admin"])
    listed = [client.get(path).json() for path in ("/api/v1/auth/me", "/api/v1/catalog/units",
                                                    "/api/v1/users", "/api/v1/audit/records")]
    times = [t for body in listed for t in _times(body)]
    assert {key for key, _ in times} >= {"created_at", "updated_at"}
    for key, value in times:
        assert WITH_OFFSET.search(value), (key, value)
