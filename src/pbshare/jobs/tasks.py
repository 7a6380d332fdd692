"""The Celery app and its one task. ``pbshare worker`` starts a worker of this app; the server (or the scheduler)
sends it run ids. Celery's own settings carry delivery: acks late (a message is acknowledged when the task
returns, so a killed worker's run is delivered again), reject on worker lost, prefetch one, a hard time limit;
the platform database stays the record of every run (runner.claim makes a redelivered run safe)."""

from __future__ import annotations

import threading

from celery import Celery, Task
from sqlalchemy.exc import OperationalError

from pbshare.config import Settings, get_settings
from pbshare.core.db import Database
from pbshare.jobs import runner

TASK_NAME = "pbshare.jobs.execute_run"
HARD_LIMIT_S = 26 * 3600  # above any pipeline's step time-outs; a run past it is cut and delivered again


def queue_name(settings: Settings) -> str:
    return f"{settings.channel_prefix}.jobs"


def make_app(settings: Settings) -> Celery:
    app = Celery("pbshare", broker=settings.celery_broker_url or settings.amqp_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=HARD_LIMIT_S,
        task_default_queue=queue_name(settings),
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return app


celery_app = make_app(get_settings())
_database: Database | None = None
_lock = threading.Lock()


def _db() -> Database:
    global _database
    with _lock:
        if _database is None:
            _database = Database.from_settings(get_settings())
        return _database


@celery_app.task(name=TASK_NAME, bind=True, autoretry_for=(OperationalError,), retry_backoff=True,
                 retry_backoff_max=120, max_retries=20)
def execute_run(self: Task, run_id: str) -> str:
    """Run a pipeline run (the same code as the local executor's). A run another worker holds (this message came
    again after a worker was killed, and the dead worker's heartbeat is not stale yet) is tried again later with
    Celery's retry, until it is ours or finished."""
    database = _db()
    state = runner.execute(database, run_id=run_id)
    if state == "busy":
        raise self.retry(countdown=max(1.0, database.settings.jobs_stale_s / 2))
    return state
