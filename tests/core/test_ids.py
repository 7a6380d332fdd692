"""Record ids are UUIDv7: they parse anywhere a UUID is expected and sort by creation time."""

from __future__ import annotations

import time
import uuid

from pbshare.core.ids import new_id


def test_ids_are_valid_uuid7_that_sort_by_creation():
    ids = []
    for _ in range(5):
        ids.append(new_id())
        time.sleep(0.002)
    for value in ids:
        parsed = uuid.UUID(value)
        assert str(parsed) == value and parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert ids == sorted(ids)
    assert len({new_id() for _ in range(10_000)}) == 10_000
