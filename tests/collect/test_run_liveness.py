"""A run never stays "running" after its process died: the run names its process and writes a
heartbeat; the platform fails an abandoned run when it starts and whenever someone looks."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta

from fastapi.testclient import TestClient

from pbshare.app import create_app
from pbshare.collect.runs import flows
from pbshare.collect.runs import service as runs_service
from pbshare.collect.runs.models import ImportRun
from pbshare.collect.schemas import ImportSpec
from pbshare.core.clock import utcnow
from tests.collect.conftest import MAPPING, people, write_csv


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _running_run(database, *, worker: str | None, heartbeat_minutes_ago: float | None) -> str:
    with database.session() as db:
        run = ImportRun(source_kind="csv", source_label="si-202301.csv", target="case.si", mode="append",
                        status="running", worker=worker,
                        heartbeat_at=None if heartbeat_minutes_ago is None
                        else utcnow() - timedelta(minutes=heartbeat_minutes_ago))
        db.add(run)
        db.flush()
        return run.id


def test_a_run_whose_process_died_is_failed_when_someone_looks(as_user, database):
    client = as_user("dataadmin", ["data_admin"])
    run_id = _running_run(database, worker=f"{socket.gethostname()}:{_dead_pid()}", heartbeat_minutes_ago=0.1)
    body = client.get(f"/api/v1/collect/runs/{run_id}").json()
    assert body["status"] == "failed" and body["error_code"] == "worker_gone"
    assert "Run the import again" in body["error"] and "请重新导入" in body["error"]


def test_a_run_elsewhere_fails_only_once_its_heartbeat_is_stale(as_user, database):
    client = as_user("dataadmin", ["data_admin"])
    fresh = _running_run(database, worker="node-b:4242", heartbeat_minutes_ago=1)
    stale = _running_run(database, worker="node-b:4243", heartbeat_minutes_ago=11)
    listed = {r["id"]: r["status"] for r in client.get("/api/v1/collect/runs").json()}
    assert listed[fresh] == "running" and listed[stale] == "failed"


def test_the_platform_fails_abandoned_runs_when_it_starts(settings, database):
    run_id = _running_run(database, worker=f"{socket.gethostname()}:{_dead_pid()}", heartbeat_minutes_ago=0.1)
    with TestClient(create_app(settings, database=database)):
        pass
    with database.session() as db:
        run = runs_service.get_run(db, run_id=run_id)
        assert (run.status, run.error_code) == ("failed", "worker_gone")


def test_a_run_names_its_process_and_beats(database, tmp_path, topic):
    path = write_csv(tmp_path / "si.csv", people(20), encoding="utf-8")
    spec = ImportSpec(source_kind="csv", source={"path": str(path)}, mapping=MAPPING, target_topic="case",
                      target_table="si_live", mode="append")
    run = flows.run_now(database, spec=spec, run_by="tester", trusted=True)
    assert run.status == "succeeded", run.error
    assert run.worker == runs_service.this_worker() and run.heartbeat_at is not None
