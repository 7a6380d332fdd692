"""Imports started from the browser run in a background thread of the server process; the page
polls the run's row for progress (``collect_run.progress``, ``rows_read``), which the run writes from a
thread of its own (``flows._Reporter``) so the load never waits for the platform database."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy.orm import Session

from pbshare.collect.runs import flows, service
from pbshare.collect.runs.models import ImportRun
from pbshare.collect.runs.schemas import RunIn
from pbshare.collect.schemas import ImportSpec
from pbshare.core.db import Database
from pbshare.core.i18n import T
from pbshare.units.principal import Principal

log = logging.getLogger("pbshare.collect")
_running: dict[str, threading.Thread] = {}


def start_requested(db: Session, database: Database, *, request: RunIn, principal: Principal) -> ImportRun:
    """Queue the run a page asked for and start it in the background.

    The request's session has only read (or saved the spec as a profile): it commits first, ending its
    snapshot, and the run's row is written in a unit of its own that waits its turn beside the listeners
    (a deferred transaction that read before another writer committed could not write at all on SQLite).
    The background thread then reads the run's row in its own session.
    """
    spec, profile_id, file = service.requested(db, database, request=request, principal=principal)
    db.commit()
    run = database.write(lambda s: service.start_run(s, database, spec=spec, profile_id=profile_id, file=file,
                                                     run_by=principal.username))
    start(database, run_id=run.id, spec=spec, file=file)
    return run


def start(database: Database, *, run_id: str, spec: ImportSpec, file: Path | None = None) -> None:
    def work() -> None:
        try:
            flows.execute_run(database, run_id=run_id, spec=spec, file=file)
        except Exception:  # execute_run records input errors itself; this is the last resort
            log.exception("background import crashed")
        finally:
            _running.pop(run_id, None)

    thread = threading.Thread(target=work, name=f"pbshare-import-{run_id[:8]}", daemon=True)
    _running[run_id] = thread
    thread.start()


def interrupt_running(database: Database) -> int:
    """At shutdown: the imports this process is doing end failed, saying why (their load transaction
    is rolled back when the process exits, so nothing half-written stays)."""
    ids = list(_running)
    message = T("服务停止，导入被中断，未写入任何数据，请重新导入",
                "The server stopped and interrupted this import; nothing of it was written. Run it again")

    def mark(db: Session) -> None:
        for run_id in ids:
            service.mark_interrupted(db, run_id=run_id, message=message)

    if ids:
        database.write(mark, wait=5.0)
    return len(ids)
