"""The lander: a thread of the server that lands held deliveries as they arrive (polls the inbox)."""

from __future__ import annotations

import logging
import threading

from pbshare.collect.deliveries import service
from pbshare.core.db import Database

log = logging.getLogger("pbshare.collect.deliveries")


class Lander:
    def __init__(self, database: Database, *, every: float = 1.0) -> None:
        self.database, self.every = database, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="pbshare-lander", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = service.land_pending(self.database)
            except Exception:  # a busy or unreachable database: try again on the next tick
                log.exception("landing deliveries failed; trying again")
                busy = 0
            if not busy:
                self._stop.wait(self.every)
