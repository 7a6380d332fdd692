"""A step's progress while it runs, on SQLite and PostgreSQL: an import step reports the rows read of the source's
(estimated) total through its progress callback, stored on its run step; a wait reports its seconds and is seen
moving from outside while it runs."""

from __future__ import annotations

import time

from pbshare.collect.profiles import service as profiles
from pbshare.collect.profiles.schemas import ProfileIn
from pbshare.core.db import Database
from pbshare.jobs import runner, service
from pbshare.jobs.executors import LocalExecutor, run_now
from pbshare.jobs.schemas import PipelineIn
from pbshare.warehouse import service as warehouse
from tests.collect.conftest import MAPPING, people, write_csv


def test_an_import_step_reports_rows_read_of_the_total(database: Database, settings) -> None:
    inbox = settings.resolved_data_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    write_csv(inbox / "si.csv", people(3000))
    with database.session() as db:
        warehouse.create_topic(db, database, name="case", title="案件专题库", exist_ok=True)
        profiles.create_profile(db, data=ProfileIn(name="si_jobs", title="社保月报", source_kind="csv", source={},
                                                   mapping=MAPPING, target_topic="case", target_table="si_jobs",
                                                   mode="append"))
        pid = service.create_pipeline(db, data=PipelineIn(name="import si", steps=[
            {"kind": "import_profile", "params": {"profile": "si_jobs", "file": "si.csv"}},
            {"kind": "wait", "params": {"seconds": 3}}])).id
    executor = LocalExecutor(database, workers=1)
    try:
        run_id = run_now(database, executor, pipeline_id=pid)
        seen: list[tuple[int | None, int | None, str | None]] = []
        deadline = time.monotonic() + 60
        while runner.wait_for(database, run_id, timeout=0) in ("queued", "running") and time.monotonic() < deadline:
            with database.session() as db:
                st = service.run_steps(db, run_id=run_id)[1]
                if st.state == "running" and st.progress_done is not None:
                    seen.append((st.progress_done, st.progress_total, st.progress_unit))
            time.sleep(0.2)
        assert runner.wait_for(database, run_id, timeout=30) == "succeeded"
    finally:
        executor.stop()
    with database.session() as db:
        imported, _ = service.run_detail(db, run_id=run_id).step_runs
    assert imported.rows == 3000
    assert (imported.progress_done, imported.progress_total, imported.progress_unit) == (3000, 3000, "rows")
    # the wait's progress was seen moving from outside, in seconds of its three
    assert {total for _, total, _ in seen} == {3} and {unit for *_, unit in seen} == {"seconds"}
    done = [d for d, _, _ in seen]
    assert done == sorted(done) and done[-1] > done[0]
