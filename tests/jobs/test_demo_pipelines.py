"""The demo's built-in pipelines run: the nightly debtor_assets refresh (a join-and-aggregate transform over the
tables units' real-estate and vehicle deliveries land in), the nightly backup with verification and the monthly
retention; each with its schedule in Beijing time."""

from __future__ import annotations

from pbshare.core.db import Database
from pbshare.demo import catalog as demo_catalog
from pbshare.demo import jobs as demo_jobs
from pbshare.demo.service import load_units
from pbshare.jobs import runner, service
from pbshare.jobs.executors import LocalExecutor, run_now
from pbshare.warehouse import service as warehouse


def test_demo_pipelines_are_scheduled_and_run(database: Database, settings, monkeypatch) -> None:
    monkeypatch.delenv("PBSHARE_BACKUP_PASSPHRASE", raising=False)
    data_dir = settings.resolved_data_dir
    with database.session() as db:
        load_units(db)
        demo_catalog.load_catalog(db, data_dir=data_dir)
        first = demo_jobs.load_demo(db, data_dir=data_dir, database=database)
    with database.session() as db:
        assert demo_jobs.load_demo(db, data_dir=data_dir, database=database) == {"pipelines": []}  # idempotent
        scheds = {s.pipeline_name: s for s in (service.schedule_out(db, s) for s in service.list_schedules(db))}
    assert len(first["pipelines"]) == 3
    assert scheds["每晚刷新债务人资产表"].description == "每天 01:30"
    assert scheds["每月执行保存期限"].description == "每月 1 日 03:00"
    assert all(s.catch_up == "once" and len(s.next) == 10 for s in scheds.values())
    assert oct((data_dir / "keys" / "backup-passphrase").stat().st_mode & 0o777) == "0o600"

    executor = LocalExecutor(database, workers=1)
    try:
        for name in scheds:
            run_id = run_now(database, executor, pipeline_id=scheds[name].pipeline_id)
            assert runner.wait_for(database, run_id, timeout=120) == "succeeded", name
            with database.session() as db:
                logs = "".join(s.log for s in service.run_steps(db, run_id=run_id))
            if name == "每晚备份并校验":
                assert "backup verified" in logs
            if name == "每晚刷新债务人资产表":
                assert "shared.debtor_assets" in logs
    finally:
        executor.stop()
    with database.session() as db:
        table = warehouse.get_table(db, topic="shared", name="debtor_assets")
    assert {"properties", "vehicles", "area_m2"} <= {c["name"] for c in table.columns}
