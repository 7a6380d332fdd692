"""Import runs feed the comparison: replace/upsert runs are full snapshots, append runs increments."""

from __future__ import annotations

from pbshare.compare import service
from tests.collect.conftest import people, run, spec, write_csv


def test_replace_runs_are_compared_as_snapshots_and_append_runs_as_increments(db, database, topic, tmp_path):
    rows = people(6)
    first = run(database, spec(write_csv(tmp_path / "a.csv", rows), mode="replace", key=["id_no", "period"]))
    second_rows = [r[:] for r in rows[1:]]
    second_rows[0][0] = "演示·改名"
    second = run(database, spec(write_csv(tmp_path / "b.csv", second_rows), mode="replace", key=["id_no", "period"]))
    assert (first.status, second.status) == ("succeeded", "succeeded")
    items, total = service.list_comparisons(db, target="case.si_monthly")
    assert total == 1
    c = items[0]
    assert (c.added, c.removed, c.changed, c.unchanged, c.incremental) == (0, 1, 1, 4, False)
    assert c.field_counts == {"name": 1} and c.previous_delivery_id == first.id

    extra = people(2, seed=31)
    third = run(database, spec(write_csv(tmp_path / "c.csv", extra), mode="append", key=["id_no", "period"]))
    assert third.status == "succeeded"
    db.rollback()  # a fresh read after the run's own session committed
    items, total = service.list_comparisons(db, target="case.si_monthly")
    assert total == 2 and items[0].delivery_id == third.id
    assert (items[0].added, items[0].removed, items[0].changed, items[0].incremental) == (2, 0, 0, True)


def test_a_run_without_a_business_key_is_not_compared(db, database, topic, tmp_path):
    path = write_csv(tmp_path / "a.csv", people(3))
    run(database, spec(path))
    run(database, spec(write_csv(tmp_path / "b.csv", people(4))))
    assert service.list_comparisons(db)[1] == 0
