"""Where runs execute. ``local``: threads of this server process. ``distributed``: Celery workers on RabbitMQ
(``pbshare worker``). Both execute ``runner.execute``; the database records who runs what."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Protocol

from pbshare.core.db import Database
from pbshare.jobs import runner, service

log = logging.getLogger("pbshare.jobs")


class Executor(Protocol):
    name: str

    def submit(self, run_id: str) -> None: ...

    def stop(self) -> None: ...


class LocalExecutor:
    """Runs in daemon threads of this process: a stopping server (or test) never waits for a long step; a run it
    leaves behind is taken up again after its heartbeat goes stale."""

    name = "local"

    def __init__(self, database: Database, *, workers: int | None = None) -> None:
        self.database = database
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.threads = [threading.Thread(target=self._work, name=f"pbshare-job-{i}", daemon=True)
                        for i in range(workers or database.settings.jobs_workers)]
        for t in self.threads:
            t.start()

    def submit(self, run_id: str) -> None:
        self.database.write(lambda db: service.mark_submitted(db, run_id=run_id))
        self.queue.put(run_id)

    def _work(self) -> None:
        while True:
            run_id = self.queue.get()
            if run_id is None:
                return
            try:
                runner.execute(self.database, run_id=run_id)
            except Exception:
                log.exception("job run failed to execute")

    def stop(self) -> None:
        for _ in self.threads:
            self.queue.put(None)


class DistributedExecutor:
    name = "distributed"

    def __init__(self, database: Database) -> None:
        from pbshare.jobs.tasks import TASK_NAME, make_app, queue_name

        self.database = database
        self.app: Any = make_app(database.settings)
        self.task_name = TASK_NAME
        self.queue = queue_name(database.settings)

    def submit(self, run_id: str) -> None:
        self.app.send_task(self.task_name, args=[run_id], queue=self.queue)
        self.database.write(lambda db: service.mark_submitted(db, run_id=run_id))

    def stop(self) -> None:
        self.app.close()


def executor_for(database: Database) -> Executor:
    if database.settings.executor == "distributed":
        return DistributedExecutor(database)
    return LocalExecutor(database)


def run_now(database: Database, executor: Executor, *, pipeline_id: str, principal: Any = None) -> str:
    """Make a manual run in its own committed transaction, then hand it to the executor (never before the commit,
    or a fast worker would look for a run that is not there yet)."""
    run_id = database.write(lambda db: service.start_run(db, pipeline_id=pipeline_id, executor=executor.name,
                                                         principal=principal).id)
    executor.submit(run_id)
    return run_id
