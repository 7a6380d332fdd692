"""Imports started from the browser run in a background thread of the server process; the page
polls the run's row for progress (``collect_run.progress``, ``rows_read``)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from pbshare.collect import service
from pbshare.collect.schemas import ImportSpec
from pbshare.core.db import Database

log = logging.getLogger("pbshare.collect")
_running: dict[str, threading.Thread] = {}


def start(database: Database, *, run_id: str, spec: ImportSpec, file: Path | None = None) -> None:
    def work() -> None:
        try:
            service.execute_run(database, run_id=run_id, spec=spec, file=file,
                                progress=service.progress_recorder(database, run_id))
        except Exception:  # execute_run records input errors itself; this is the last resort
            log.exception("background import crashed")
        finally:
            _running.pop(run_id, None)

    thread = threading.Thread(target=work, name=f"pbshare-import-{run_id[:8]}", daemon=True)
    _running[run_id] = thread
    thread.start()


def wait(run_id: str, timeout: float | None = None) -> None:
    thread = _running.get(run_id)
    if thread is not None:
        thread.join(timeout)
