"""The scheduling loop: every few seconds, make a run for each due fire time and hand it to the executor.

Exactly once: the run row for (schedule, fire time) has a unique key, so however many schedulers (servers,
``pbshare scheduler`` processes) see a fire time, one insert wins and only its scheduler submits the run.
After downtime a schedule's catch-up policy decides: ``skip`` runs only a fire time that is at most
``GRACE`` old (the missed ones are skipped), ``once`` runs the latest missed fire time once.
The clock is injectable, so tests fast-forward through days in seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from pbshare.config import Settings
from pbshare.core.clock import as_utc, utcnow
from pbshare.core.db import Database
from pbshare.jobs import schedules, service
from pbshare.jobs.executors import Executor

log = logging.getLogger("pbshare.jobs")
GRACE = timedelta(minutes=5)
MAX_MISSED = 10_000


def clock_from(settings: Settings) -> Callable[[], datetime]:
    """The real clock, or the drill's fast-forwarded one (``PBSHARE_JOBS_CLOCK_ORIGIN`` / ``_ANCHOR`` / ``_SPEED``),
    which reads the same in every process."""
    if settings.jobs_clock_origin is None:
        return utcnow
    origin = as_utc(settings.jobs_clock_origin)
    anchor = settings.jobs_clock_anchor if settings.jobs_clock_anchor is not None else time.time()
    speed = settings.jobs_clock_speed
    return lambda: origin + timedelta(seconds=(time.time() - anchor) * speed)


class Scheduler:
    def __init__(self, database: Database, executor: Executor, *, clock: Callable[[], datetime] = utcnow,
                 interval: float = 5.0, grace: timedelta = GRACE) -> None:
        self.database = database
        self.executor = executor
        self.clock = clock
        self.interval = interval
        self.grace = grace
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ticks = 0

    # one pass ------------------------------------------------------------------------------------------------
    def tick(self) -> list[str]:
        """Make and submit the runs now due; returns the ids of the runs this scheduler made."""
        now = self.clock()
        made: list[str] = []
        with self.database.session() as db:
            due = [(s.id, s.pipeline_id, s.cron, s.timezone, s.catch_up, as_utc(s.next_fire_at))
                   for s in service.due_schedules(db, now=now) if s.next_fire_at is not None]
        for schedule_id, pipeline_id, cron, tz, catch_up, first in due:
            times = [first, *schedules.fire_times(cron, after=first, count=MAX_MISSED, tz=tz, until=now)]
            chosen: list[tuple[datetime, str]]
            if catch_up == "once":
                chosen = [(times[-1], "catch_up" if len(times) > 1 else "schedule")]
            else:
                chosen = [(t, "schedule") for t in times if now - t <= self.grace]
            for at, trigger in chosen:
                run_id = self.database.write(lambda db, at=at, trigger=trigger, pid=pipeline_id, sid=schedule_id:
                                             self._make(db, pipeline_id=pid, schedule_id=sid, fire_at=at,
                                                        trigger=trigger))
                if run_id is not None:
                    made.append(run_id)
                    self._submit(run_id)
            self.database.write(lambda db, sid=schedule_id, seen=first: service.advance(
                db, schedule_id=sid, seen=seen, now=now))
        self._ticks += 1
        if self._ticks % 3 == 1:
            self.recover()
        return made

    def _make(self, db, *, pipeline_id: str, schedule_id: str, fire_at: datetime, trigger: str) -> str | None:
        run = service.create_run(db, pipeline_id=pipeline_id, trigger=trigger, executor=self.executor.name,
                                 schedule_id=schedule_id, fire_at=fire_at)
        return run.id if run is not None else None

    def _submit(self, run_id: str) -> None:
        try:
            self.executor.submit(run_id)
        except Exception:  # the broker is down: recover() hands it again later
            log.exception("job run not submitted; it is handed again later")

    def recover(self) -> list[str]:
        """Runs whose worker stopped go back to the queue; queued runs nobody submitted are submitted."""
        stale = self.database.settings.jobs_stale_s
        again = self.database.write(lambda db: service.recover_stale(db, stale_after=stale))
        with self.database.session() as db:
            again += service.unsubmitted(db)
        for run_id in dict.fromkeys(again):
            self._submit(run_id)
        return again

    # the loop ------------------------------------------------------------------------------------------------
    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed; trying again")
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="pbshare-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


class Embedded:
    """What the server starts: the executor runs are handed to, and under the local executor the scheduling loop
    (under the distributed one, ``pbshare scheduler`` processes schedule and ``pbshare worker`` processes run)."""

    def __init__(self, database: Database) -> None:
        from pbshare.jobs.executors import executor_for

        self.executor = executor_for(database)
        self.scheduler: Scheduler | None = None
        if self.executor.name == "local":
            self.scheduler = Scheduler(database, self.executor)
            self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.executor.stop()


def start_embedded(database: Database) -> Embedded:
    return Embedded(database)
