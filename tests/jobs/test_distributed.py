"""The distributed executor for real: two `pbshare worker` processes (Celery on RabbitMQ) on PostgreSQL.
The same pipeline runs under both executors with the same outcome; two schedulers on a fast-forwarded clock
hand every fire time to the workers exactly once; a worker killed with SIGKILL mid-run leaves a run that another
worker takes up again and finishes (never lost, never twice at once); the whole deployment — two `pbshare serve`,
two `pbshare scheduler`, two `pbshare worker` — runs each fire time once and each "run now" once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from pbshare.config import Settings
from pbshare.core.db import Database
from pbshare.jobs import runner, service
from pbshare.jobs.executors import DistributedExecutor, LocalExecutor, run_now
from pbshare.jobs.models import Run
from pbshare.jobs.scheduler import Scheduler
from pbshare.jobs.schemas import PipelineIn, ScheduleIn
from pbshare.units import service as unit_service
from pbshare.warehouse import service as warehouse
from tests.conftest import PASSWORD, RUN_ID, _pg_admin, _pg_url, make_user

pytestmark = pytest.mark.services
STALE_S = 4.0
PBSHARE = str(Path(sys.executable).with_name("pbshare"))


@pytest.fixture(scope="module")
def pg(templates: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    tmp_path = tmp_path_factory.mktemp("distributed")
    name = f"pbshare_t_{uuid.uuid4().hex[:10]}_{RUN_ID}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{templates["postgresql"]}"')
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    settings = Settings(data_dir=data_dir, database_url=_pg_url(name), start_listeners=False, executor="distributed",
                        channel_prefix=f"pbtest{uuid.uuid4().hex[:8]}", jobs_stale_s=STALE_S)
    database = Database.from_settings(settings)
    with database.session() as s:
        unit_service.ensure_office(s)
    yield database
    database.dispose()
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database: Database, **extra: str) -> dict[str, str]:
    """What every process of the deployment reads: the same database, data dir, broker names and executor."""
    s = database.settings
    return {**os.environ, "PBSHARE_DATABASE_URL": s.resolved_database_url, "PBSHARE_DATA_DIR": str(s.data_dir),
            "PBSHARE_CHANNEL_PREFIX": s.channel_prefix, "PBSHARE_EXECUTOR": "distributed",
            "PBSHARE_JOBS_STALE_S": str(STALE_S), "PBSHARE_START_LISTENERS": "false", "PBSHARE_LOG_JSON": "false",
            "PBSHARE_DEMO_RESPONDERS": "false", **extra}


@pytest.fixture(scope="module")
def workers(pg: Database) -> Iterator[list[subprocess.Popen]]:
    s = pg.settings
    tmp_path = s.data_dir
    env = _env(pg)
    procs = [subprocess.Popen([PBSHARE, "worker", "-c", "2", "--loglevel", "WARNING"], env=env,
                              stdout=(tmp_path / f"worker{i}.log").open("w"), stderr=subprocess.STDOUT)
             for i in range(2)]
    yield procs
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()


def _pipeline(database: Database, name: str, steps: list[dict]) -> str:
    return database.write(lambda db: service.create_pipeline(db, data=PipelineIn(name=name, steps=steps)).id)


def _outcome(database: Database, run_id: str) -> tuple[str, list[tuple[str, int | None]]]:
    with database.session() as db:
        run = service.get_run(db, run_id=run_id)
        return run.state, [(s.state, s.rows) for s in service.run_steps(db, run_id=run_id)]


def test_same_pipeline_under_both_executors_and_fire_times_once(pg: Database, workers: list) -> None:
    pg.write(lambda db: warehouse.create_topic(db, pg, name="jobt", title="jobs test", exist_ok=True))
    steps = [{"kind": "sql", "params": {"sql": "DROP TABLE IF EXISTS jobt.numbers; CREATE TABLE jobt.numbers (n INT); "
                                               "INSERT INTO jobt.numbers VALUES (1), (2), (3)"}},
             {"kind": "sql", "params": {"sql": "SELECT n FROM jobt.numbers WHERE n > 1"}}]
    pid = _pipeline(pg, "numbers", steps)
    local = LocalExecutor(pg, workers=1)
    distributed = DistributedExecutor(pg)
    try:
        on_local = run_now(pg, local, pipeline_id=pid)
        assert runner.wait_for(pg, on_local, timeout=30) == "succeeded"
        on_celery = run_now(pg, distributed, pipeline_id=pid)
        assert runner.wait_for(pg, on_celery, timeout=60) == "succeeded"  # includes the workers' start
        assert _outcome(pg, on_local) == _outcome(pg, on_celery) == ("succeeded", [("succeeded", 3), ("succeeded", 2)])
        with pg.session() as db:
            ran_by = service.get_run(db, run_id=on_celery).worker or ""
        assert ran_by.split(":")[-1] in {str(p.pid) for p in workers}  # a worker process ran it, not this one

        # two schedulers, a fast-forwarded clock: twelve hourly fire times, each run once by the workers
        hourly = _pipeline(pg, "hourly", [{"kind": "wait", "params": {"seconds": 0.05}}])
        now = [datetime(2027, 1, 1, 0, 0, tzinfo=UTC)]
        pg.write(lambda db: service.create_schedule(
            db, data=ScheduleIn(pipeline_id=hourly, picker={"kind": "hourly", "minute": 0}), now=now[0]))
        pair = [Scheduler(pg, distributed, clock=lambda: now[0], grace=timedelta(minutes=45)) for _ in range(2)]
        for _ in range(24):
            now[0] += timedelta(minutes=30)
            threads = [threading.Thread(target=s.tick) for s in pair]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        with pg.session() as db:
            runs = list(db.scalars(select(Run).where(Run.pipeline_id == hourly)))
        assert len(runs) == 12 and len({r.fire_at for r in runs}) == 12
        for r in runs:
            assert runner.wait_for(pg, r.id, timeout=30) == "succeeded"
        with pg.session() as db:
            assert {service.get_run(db, run_id=r.id).attempt for r in runs} == {1}
    finally:
        local.stop()
        distributed.stop()


def test_a_worker_killed_mid_run_leaves_a_run_taken_up_again(pg: Database, workers: list) -> None:
    pid = _pipeline(pg, "long", [{"kind": "wait", "params": {"seconds": 1}},
                                 {"kind": "wait", "params": {"seconds": 6}},
                                 {"kind": "wait", "params": {"seconds": 1}}])
    distributed = DistributedExecutor(pg)
    try:
        run_id = run_now(pg, distributed, pipeline_id=pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with pg.session() as db:
                run = service.get_run(db, run_id=run_id)
                second = service.run_steps(db, run_id=run_id)[1].state
            if run.state == "running" and second == "running":
                break
            time.sleep(0.2)
        assert second == "running", "the run never reached its second step"
        victim = int((run.worker or "").split(":")[-1])
        assert victim in {p.pid for p in workers}
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        assert runner.wait_for(pg, run_id, timeout=60) == "succeeded"
        with pg.session() as db:
            run = service.get_run(db, run_id=run_id)
            steps = service.run_steps(db, run_id=run_id)
        assert run.attempt == 2 and run.worker and not run.worker.endswith(f":{victim}")
        assert [s.state for s in steps] == ["succeeded"] * 3
        assert steps[0].attempts == 1  # the step done before the kill is not done again
        assert "taken up again (attempt 2)" in steps[1].log
        assert time.monotonic() - killed_at < 40
    finally:
        distributed.stop()


def test_two_scheduler_processes_on_a_fast_clock_run_each_fire_time_once(pg: Database, workers: list) -> None:
    """Two `pbshare scheduler` processes share a drill clock running twenty minutes a second: every hourly fire time
    becomes one run, handed to the workers once."""
    pid = _pipeline(pg, "hourly drill", [{"kind": "wait", "params": {"seconds": 0.05}}])
    origin = datetime(2027, 3, 1, 0, 0, tzinfo=UTC)
    s = pg.settings
    anchor, speed = time.time(), 1200  # the drill clock: origin now, twenty minutes a second
    env = {**os.environ, "PBSHARE_DATABASE_URL": s.resolved_database_url, "PBSHARE_DATA_DIR": str(s.data_dir),
           "PBSHARE_CHANNEL_PREFIX": s.channel_prefix, "PBSHARE_EXECUTOR": "distributed",
           "PBSHARE_JOBS_STALE_S": str(STALE_S), "PBSHARE_LOG_JSON": "false",
           "PBSHARE_JOBS_CLOCK_ORIGIN": origin.isoformat(), "PBSHARE_JOBS_CLOCK_ANCHOR": str(anchor),
           "PBSHARE_JOBS_CLOCK_SPEED": str(speed)}
    logs = [s.data_dir / f"scheduler{i}.log" for i in range(2)]
    procs = [subprocess.Popen([PBSHARE, "scheduler", "--interval", "0.25"], env=env, stdout=log.open("w"),
                              stderr=subprocess.STDOUT) for log in logs]
    try:
        deadline = time.monotonic() + 60
        while not all("pbshare scheduler" in log.read_text() for log in logs) and time.monotonic() < deadline:
            time.sleep(0.2)
        # both loops run; the schedule starts at the drill clock's now, so its first hour comes within three seconds
        sid = pg.write(lambda db: service.create_schedule(
            db, data=ScheduleIn(pipeline_id=pid, picker={"kind": "hourly", "minute": 0}),
            now=_drill_now(origin, anchor, speed)).id)
        with pg.session() as db:
            first = service.get_schedule(db, schedule_id=sid).next_fire_at.astimezone(UTC)
        until = anchor + ((first - origin) + timedelta(hours=3, minutes=30)).total_seconds() / speed
        time.sleep(max(until - time.time(), 0) + 1)  # past the fourth fire time
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=15)
    with pg.session() as db:
        runs = list(db.scalars(select(Run).where(Run.pipeline_id == pid)))
    fires = sorted(r.fire_at.astimezone(UTC) for r in runs)
    assert len(fires) >= 4, [log.read_text()[-500:] for log in logs]
    assert len(set(fires)) == len(fires)  # never twice
    assert fires == [first + timedelta(hours=i) for i in range(len(fires))]  # none missed
    for r in runs:
        assert runner.wait_for(pg, r.id, timeout=60) == "succeeded"
        with pg.session() as db:
            assert service.get_run(db, run_id=r.id).attempt == 1


def _drill_now(origin: datetime, anchor: float, speed: float) -> datetime:
    """What the schedulers' drill clock reads now (``scheduler.clock_from``)."""
    return origin + timedelta(seconds=(time.time() - anchor) * speed)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()


def test_two_servers_two_schedulers_two_workers_run_each_fire_time_once(pg: Database, workers: list) -> None:
    """The deployment of the README's distributed mode, every part a real process: a data admin makes an hourly
    schedule through one server and runs the pipeline by hand through both; two schedulers on a drill clock (twenty
    minutes a second) hand the fire times to two workers. Each fire time runs once, each run-now once, by a worker
    process, on its first attempt; both servers show the same history."""
    make_user(pg, "dist_admin", ["data_admin"])
    ports = [_free_port(), _free_port()]
    logs = [pg.settings.data_dir / f"serve{i}.log" for i in range(2)]
    slogs = [pg.settings.data_dir / f"scheduler-d{i}.log" for i in range(2)]
    origin, anchor, speed = datetime(2027, 3, 1, 0, 0, tzinfo=UTC), time.time(), 1200  # twenty minutes a second
    drill = _env(pg, PBSHARE_JOBS_CLOCK_ORIGIN=origin.isoformat(), PBSHARE_JOBS_CLOCK_ANCHOR=str(anchor),
                 PBSHARE_JOBS_CLOCK_SPEED=str(speed))
    procs = [subprocess.Popen([PBSHARE, "serve", "--host", "127.0.0.1", "--port", str(port)], env=_env(pg),
                              stdout=log.open("w"), stderr=subprocess.STDOUT) for port, log in zip(ports, logs, strict=True)]
    procs += [subprocess.Popen([PBSHARE, "scheduler", "--interval", "0.25"], env=drill, stdout=log.open("w"),
                               stderr=subprocess.STDOUT) for log in slogs]
    clients: list[httpx.Client] = []
    try:
        deadline = time.monotonic() + 90
        for port, log in zip(ports, logs, strict=True):
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.2)
            me = client.post("/api/v1/auth/login", json={"username": "dist_admin", "password": PASSWORD})
            assert me.status_code == 200, me.text
            client.headers["X-CSRF-Token"] = me.json()["csrf_token"]
            clients.append(client)
        a, b = clients

        res = a.post("/api/v1/jobs/pipelines", json={"name": "hourly, four servers' worth",
                                                    "steps": [{"kind": "wait", "params": {"seconds": 0.05}}]})
        assert res.status_code == 201, res.text
        pid = res.json()["id"]
        manual = []
        for client in (a, b, b, a):  # run now through either server while the schedulers fire
            res = client.post(f"/api/v1/jobs/pipelines/{pid}/run")
            assert res.status_code == 201, res.text
            assert res.json()["executor"] == "distributed"
            manual.append(res.json()["id"])
            time.sleep(0.5)
        while not all("pbshare scheduler" in log.read_text() for log in slogs):
            assert time.monotonic() < deadline, [log.read_text()[-500:] for log in slogs]
            time.sleep(0.2)
        # both loops run: the schedule starts at the drill clock's now (however long the processes took to start)
        sid = pg.write(lambda db: service.create_schedule(db, data=ScheduleIn(
            pipeline_id=pid, picker={"kind": "hourly", "minute": 0}), now=_drill_now(origin, anchor, speed)).id)
        with pg.session() as db:
            first = service.get_schedule(db, schedule_id=sid).next_fire_at.astimezone(UTC)
        until = anchor + ((first - origin) + timedelta(hours=3, minutes=30)).total_seconds() / speed
        time.sleep(max(until - time.time(), 0) + 1)  # past the fourth fire time
        _stop(procs[2:])

        with pg.session() as db:
            runs = list(db.scalars(select(Run).where(Run.pipeline_id == pid)))
        fired = sorted((r for r in runs if r.trigger != "manual"), key=lambda r: r.fire_at)
        fires = [r.fire_at.astimezone(UTC) for r in fired]
        assert len(fires) >= 4, [log.read_text()[-500:] for log in slogs]
        assert fires == [first + timedelta(hours=i) for i in range(len(fires))]  # each hour once, none missed
        assert sorted(r.id for r in runs if r.trigger == "manual") == sorted(manual)
        pids = {str(p.pid) for p in workers}
        for r in runs:
            assert runner.wait_for(pg, r.id, timeout=60) == "succeeded"
            with pg.session() as db:
                done = service.get_run(db, run_id=r.id)
                assert done.attempt == 1 and (done.worker or "").split(":")[-1] in pids
        for client in (a, b):  # both servers read the one record
            history = client.get("/api/v1/jobs/runs", params={"pipeline_id": pid, "limit": 100}).json()
            assert history["total"] == len(runs)
            assert {item["state"] for item in history["items"]} == {"succeeded"}
    finally:
        for client in clients:
            client.close()
        _stop(procs)
