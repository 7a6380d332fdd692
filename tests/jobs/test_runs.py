"""Runs under the local executor on SQLite and PostgreSQL: steps in order with logs, rows and durations;
retries with back-off; stop or continue on failure; cancel; time-out; two schedulers on a fast-forwarded clock
fire every time exactly once; the catch-up policy after downtime."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pbshare.core.db import Database
from pbshare.core.errors import Forbidden, Invalid
from pbshare.jobs import runner, service, steps
from pbshare.jobs.executors import LocalExecutor, run_now
from pbshare.jobs.models import Run
from pbshare.jobs.scheduler import Scheduler
from pbshare.jobs.schemas import PipelineIn, ScheduleIn
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse


def _pipeline(database: Database, name: str, steps: list[dict]) -> str:
    return database.write(lambda db: service.create_pipeline(db, data=PipelineIn(name=name, steps=steps)).id)


def _topic(database: Database) -> None:
    database.write(lambda db: warehouse.create_topic(db, database, name="jobt", title="jobs test", exist_ok=True))


@pytest.fixture
def executor(database: Database):
    ex = LocalExecutor(database, workers=2)
    yield ex
    ex.stop()


def test_steps_run_in_order_with_logs_rows_and_durations(database: Database, executor: LocalExecutor) -> None:
    _topic(database)
    pid = _pipeline(database, "numbers", [
        {"kind": "sql", "name": "make", "params": {"sql": "CREATE TABLE jobt.numbers (n INTEGER); "
                                                          "INSERT INTO jobt.numbers VALUES (1), (2), (3)"}},
        {"kind": "sql", "name": "read", "params": {"sql": "SELECT n FROM jobt.numbers WHERE n > 1"}},
        {"kind": "wait", "params": {"seconds": 0.1}},
    ])
    run_id = run_now(database, executor, pipeline_id=pid)
    assert runner.wait_for(database, run_id, timeout=30) == "succeeded"
    with database.session() as db:
        detail = service.run_detail(db, run_id=run_id)
    assert [s.state for s in detail.step_runs] == ["succeeded"] * 3
    assert detail.steps_done == 3 and detail.step_count == 3
    assert detail.step_runs[0].rows == 3 and detail.step_runs[1].rows == 2
    assert "INSERT INTO jobt.numbers" in detail.step_runs[0].log  # the SQL is logged in full
    assert "waited 0.1 s" in detail.step_runs[2].log
    assert all(s.seconds is not None for s in detail.step_runs)
    assert detail.seconds is not None and detail.attempt == 1


def test_failing_step_retries_then_continues_or_stops(database: Database, executor: LocalExecutor) -> None:
    _topic(database)
    pid = _pipeline(database, "broken", [
        {"kind": "sql", "name": "missing table, go on", "params": {"sql": "SELECT * FROM jobt.nothing_here"},
         "retries": 1, "retry_delay_s": 0.05, "on_error": "continue"},
        {"kind": "wait", "params": {"seconds": 0.05}},
        {"kind": "sql", "name": "missing table, stop", "params": {"sql": "SELECT * FROM jobt.nothing_here"}},
        {"kind": "wait", "params": {"seconds": 0.05}},
    ])
    run_id = run_now(database, executor, pipeline_id=pid)
    assert runner.wait_for(database, run_id, timeout=30) == "failed"
    with database.session() as db:
        detail = service.run_detail(db, run_id=run_id)
        alerts = [a for a in service.list_alerts(db) if a.run_id == run_id]
    assert [s.state for s in detail.step_runs] == ["failed", "succeeded", "failed", "skipped"]
    first = detail.step_runs[0]
    assert first.attempts == 2 and "retrying in 0.05 s" in first.log and "nothing_here" in (first.error or "")
    assert "missing table, stop" in (detail.error or "")
    assert len(alerts) == 1 and alerts[0].kind == "failed" and "broken" in alerts[0].message


def test_cancel_and_time_out(database: Database, executor: LocalExecutor) -> None:
    slow = _pipeline(database, "slow", [{"kind": "wait", "params": {"seconds": 30}},
                                        {"kind": "wait", "params": {"seconds": 1}}])
    run_id = run_now(database, executor, pipeline_id=slow)
    deadline = time.monotonic() + 10
    while runner.wait_for(database, run_id, timeout=0) != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    started = time.monotonic()
    database.write(lambda db: service.cancel_run(db, run_id=run_id))
    assert runner.wait_for(database, run_id, timeout=15) == "cancelled"
    assert time.monotonic() - started < 8
    with database.session() as db:
        assert [s.state for s in service.run_steps(db, run_id=run_id)] == ["cancelled", "cancelled"]

    stuck = _pipeline(database, "stuck", [{"kind": "wait", "params": {"seconds": 30}, "timeout_s": 0.5}])
    run_id = run_now(database, executor, pipeline_id=stuck)
    assert runner.wait_for(database, run_id, timeout=15) == "failed"
    with database.session() as db:
        step = service.run_steps(db, run_id=run_id)[0]
    assert "timed out after 0.5 s" in (step.error or "")


def test_two_schedulers_fire_every_time_exactly_once(database: Database, executor: LocalExecutor) -> None:
    pid = _pipeline(database, "hourly", [{"kind": "wait", "params": {"seconds": 0.01}}])
    now = [datetime(2027, 1, 1, 0, 0, tzinfo=UTC)]
    database.write(lambda db: service.create_schedule(
        db, data=ScheduleIn(pipeline_id=pid, picker={"kind": "hourly", "minute": 0}), now=now[0]))
    clock = lambda: now[0]  # noqa: E731 - the fast-forwarded clock both schedulers read
    pair = [Scheduler(database, executor, clock=clock, grace=timedelta(minutes=45)) for _ in range(2)]
    for _ in range(24 * 2):  # a day in half-hour steps, both schedulers at once each step
        now[0] += timedelta(minutes=30)
        threads = [threading.Thread(target=s.tick) for s in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    with database.session() as db:
        runs = list(db.scalars(select(Run).where(Run.pipeline_id == pid)))
    fires = sorted(r.fire_at.replace(tzinfo=UTC) if r.fire_at.tzinfo is None else r.fire_at for r in runs)
    assert len(fires) == 24 and len(set(fires)) == 24
    assert fires[0] == datetime(2027, 1, 1, 1, 0, tzinfo=UTC) and fires[-1] == datetime(2027, 1, 2, 0, 0, tzinfo=UTC)
    for r in runs:
        assert runner.wait_for(database, r.id, timeout=30) == "succeeded"


@pytest.mark.parametrize("policy", ["skip", "once"])
def test_catch_up_after_downtime(database: Database, executor: LocalExecutor, policy: str) -> None:
    pid = _pipeline(database, f"nightly-{policy}", [{"kind": "wait", "params": {"seconds": 0.01}}])
    start = datetime(2027, 5, 1, 0, 0, tzinfo=UTC)
    database.write(lambda db: service.create_schedule(
        db, data=ScheduleIn(pipeline_id=pid, picker={"kind": "daily", "time": "02:00"}, catch_up=policy), now=start))
    later = start + timedelta(days=3, hours=1)  # the server was down for three nights
    made = Scheduler(database, executor, clock=lambda: later).tick()
    with database.session() as db:
        runs = list(db.scalars(select(Run).where(Run.pipeline_id == pid)))
        sched = service.list_schedules(db, pipeline_id=pid)[0]
        nxt = sched.next_fire_at.replace(tzinfo=UTC) if sched.next_fire_at.tzinfo is None else sched.next_fire_at
    assert nxt > later  # nothing missed is left to fire later
    if policy == "skip":
        assert made == [] and runs == []
    else:
        assert len(runs) == 1 and runs[0].trigger == "catch_up"
        # the latest missed time: 02:00 in Shanghai on 4 May is 18:00 UTC on 3 May
        fire = runs[0].fire_at.replace(tzinfo=UTC) if runs[0].fire_at.tzinfo is None else runs[0].fire_at
        assert fire == datetime(2027, 5, 3, 18, 0, tzinfo=UTC)
        assert runner.wait_for(database, runs[0].id, timeout=30) == "succeeded"


def test_a_writing_sql_step_needs_a_data_admin() -> None:
    clerk = Principal(user_id="u1", username="clerk", display_name="clerk", unit_id="x", unit_code="SZBA",
                      roles=frozenset(), permissions=frozenset({"jobs:manage"}), via="session")
    check = steps.get_kind("sql").check
    assert check is not None
    with pytest.raises(Forbidden) as caught:
        check({"sql": "DELETE FROM jobt.numbers"}, clerk)
    assert "data admin" in caught.value.message.render("en")
    check({"sql": "SELECT * FROM jobt.numbers"}, clerk)
    with pytest.raises(Invalid):
        check({"sql": "SELECT * FROM numbers"}, clerk)  # tables are written topic.table


def test_backup_step_needs_a_passphrase_then_backs_up_and_verifies(database: Database, executor: LocalExecutor,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PBSHARE_BACKUP_PASSPHRASE", raising=False)
    pid = _pipeline(database, "nightly backup", [{"kind": "backup", "params": {"verify": True}}])
    run_id = run_now(database, executor, pipeline_id=pid)
    assert runner.wait_for(database, run_id, timeout=60) == "failed"
    with database.session() as db:
        assert "PBSHARE_BACKUP_PASSPHRASE" in (service.run_steps(db, run_id=run_id)[0].error or "")
    monkeypatch.setenv("PBSHARE_BACKUP_PASSPHRASE", "a long enough passphrase")
    run_id = run_now(database, executor, pipeline_id=pid)
    assert runner.wait_for(database, run_id, timeout=120) == "succeeded"
    with database.session() as db:
        log = service.run_steps(db, run_id=run_id)[0].log
    assert "backup written" in log and "backup verified" in log


def test_a_run_far_slower_than_usual_raises_an_alert(database: Database, executor: LocalExecutor,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "SLOW_MARGIN_S", 0.0)  # in production also a minute longer than usual
    quick = [{"kind": "wait", "params": {"seconds": 0.05}}]
    pid = _pipeline(database, "usually quick", quick)
    for _ in range(3):
        assert runner.wait_for(database, run_now(database, executor, pipeline_id=pid), timeout=30) == "succeeded"
    with database.session() as db:
        usual = service.usual_seconds(db, pipeline_id=pid, before="")
    assert usual is not None
    wait = round(usual * 3 + 1.0, 1)  # more than three times as long, whatever the machine's load
    database.write(lambda db: service.update_pipeline(db, pipeline_id=pid, data=PipelineIn(
        name="usually quick", steps=[{"kind": "wait", "params": {"seconds": wait}}])))
    slow = run_now(database, executor, pipeline_id=pid)
    assert runner.wait_for(database, slow, timeout=30) == "succeeded"
    with database.session() as db:
        alerts = [a for a in service.list_alerts(db) if a.run_id == slow]
    assert len(alerts) == 1 and alerts[0].kind == "slow" and "usually about" in alerts[0].message
