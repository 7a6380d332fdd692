"""Who may call jobs' routes, and the executor runs are handed to."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from pbshare.jobs.executors import Executor, executor_for
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

# See pipelines, schedules, runs, their logs and the calendar.
JobsReader = Annotated[Principal, Depends(require(Perm.jobs_read))]
# Build pipelines, schedule them, run now, cancel.
JobsManager = Annotated[Principal, Depends(require(Perm.jobs_manage))]

_lock = threading.Lock()


def get_executor(request: Request) -> Executor:
    """The executor the app's start hook made; made here when the app started without one (no listeners)."""
    state = request.app.state
    with _lock:
        executor = getattr(state, "jobs_executor", None)
        if executor is None:
            executor = executor_for(state.db)
            state.jobs_executor = executor
        return executor


ExecutorDep = Annotated[Executor, Depends(get_executor)]
