"""Limits for every query a person wrote: SQL datasets, transforms, SELECTs and tables on a data source.

One runaway query must not hold the platform's write lock, eat the server's memory or keep it from
stopping. So each runs with a time limit, a memory bound, read-only where it only reads, and a stop
token that a cancel button or the server's shutdown trips (the query then aborts at once).
The limits come from ``Settings`` (``PBSHARE_QUERY_TIMEOUT_S``, ``PBSHARE_QUERY_MAX_ROWS``,
``PBSHARE_QUERY_MAX_MEMORY_MB``).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from pbshare.config import Settings
from pbshare.core.errors import AppError, Conflict, Invalid
from pbshare.core.i18n import T

# SQLite calls the progress handler every this many virtual-machine steps (well under a millisecond). A Python
# call per 1,000 steps cost a 1M-row aggregate over half its time (bench/report.py); 10,000 keeps a stop prompt.
_SQLITE_STEPS = 10_000
_MAX_SQLITE_LENGTH = 2**31 - 1


@dataclass(frozen=True)
class QueryLimits:
    seconds: float
    max_rows: int
    max_memory_mb: int

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(seconds=settings.query_timeout_s, max_rows=settings.query_max_rows,
                   max_memory_mb=settings.query_max_memory_mb)


@dataclass
class Stop:
    """Tripped from another thread (a cancel button, the server stopping); the query aborts at its next step."""

    key: str
    reason: str | None = None
    tripped: threading.Event = field(default_factory=threading.Event)
    deadline: float = float("inf")
    wakers: list[threading.Event] = field(default_factory=list)  # set on trip, so watchers need not poll

    def renew(self, seconds: float) -> None:
        """Start the time limit again (a reader that streams batches: the limit is per fetch)."""
        self.deadline = time.monotonic() + seconds

    def trip(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self.tripped.set()
        for waker in list(self.wakers):
            waker.set()


@contextlib.contextmanager
def _cancelling(stop: Stop, cancel_query: Callable[[], None]) -> Iterator[None]:
    """A server-side database has no progress handler: once tripped, ask the server to cancel the running
    statement, again every 0.2 s until the block ends (a cancel sent between two statements is lost)."""
    done = threading.Event()
    wake = threading.Event()  # set by a trip or by the block's end: the watcher sleeps until one of them
    stop.wakers.append(wake)
    if stop.tripped.is_set():
        wake.set()

    def watch() -> None:
        while True:
            wake.wait()
            if done.is_set():
                return
            with contextlib.suppress(Exception):
                cancel_query()
            done.wait(0.2)

    watcher = threading.Thread(target=watch, name=f"pbshare-query-watch-{stop.key[:20]}", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        wake.set()
        watcher.join(timeout=1)


class QueryStopped(AppError):
    """The server is stopping: the query was interrupted and nothing of it was kept."""

    status = 503


_running: dict[str, Stop] = {}
_lock = threading.Lock()
_shutting_down = threading.Event()


def cancel(key: str) -> bool:
    """Stop the running query registered under ``key`` (``dataset:<id>``, ``transform:<id>``)."""
    with _lock:
        stop = _running.get(key)
    if stop is None:
        return False
    stop.trip("cancelled")
    return True


def is_running(key: str) -> bool:
    with _lock:
        return key in _running


def stop_all() -> int:
    """The server is stopping: every running user query aborts now and new ones are refused."""
    _shutting_down.set()
    with _lock:
        stops = list(_running.values())
    for stop in stops:
        stop.trip("shutdown")
    return len(stops)


def _interrupted() -> QueryStopped:
    return QueryStopped(T("服务正在停止，查询已中断，未保存任何结果", "The server is stopping; the query was interrupted "
                          "and nothing of it was kept"), code="query_interrupted")


@contextlib.contextmanager
def _registered(key: str | None) -> Iterator[Stop]:
    if _shutting_down.is_set():
        raise _interrupted()
    stop = Stop(key or f"anon:{id(object())}:{time.monotonic_ns()}")
    with _lock:
        if stop.key in _running:
            raise Conflict(T("该数据已在生成中，请等待完成或先取消", "This is already running; wait for it or cancel it "
                             "first"), code="already_running")
        _running[stop.key] = stop
    try:
        yield stop
    finally:
        with _lock:
            _running.pop(stop.key, None)


def _sqlite_driver(conn: Connection) -> sqlite3.Connection | None:
    driver = conn.connection.driver_connection
    return driver if isinstance(driver, sqlite3.Connection) else None


@contextlib.contextmanager
def limited(conn: Connection, limits: QueryLimits, *, read_only: bool = True, key: str | None = None) -> Iterator[Stop]:
    """Apply the limits to ``conn`` (already inside its transaction) for the statements run in the block.

    ``key`` names the run so a person can cancel it. Errors raised by the database in the block are turned
    into the user's message by ``explain``; call it in your ``except``.
    """
    with _registered(key) as stop:
        name = conn.dialect.name
        if name == "sqlite":
            driver = _sqlite_driver(conn)
            assert driver is not None
            stop.renew(limits.seconds)

            def check() -> int:
                if stop.reason is not None:
                    return 1
                if time.monotonic() > stop.deadline:
                    stop.reason = "timeout"
                    return 1
                return 0

            old_length = driver.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
            driver.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, min(limits.max_memory_mb * 1024 * 1024, _MAX_SQLITE_LENGTH))
            old_cache = driver.execute("PRAGMA cache_size").fetchone()[0]
            # A bound, never a raise: a page cache larger than the default made a 1M-row aggregate twice as slow
            # (every page read is kept instead of recycled; bench/report.py).
            page_kb = max(1, driver.execute("PRAGMA page_size").fetchone()[0] // 1024)
            current_kb = -int(old_cache) if int(old_cache) < 0 else int(old_cache) * page_kb
            driver.execute(f"PRAGMA cache_size = -{max(1024, min(current_kb, limits.max_memory_mb * 1024 // 4))}")
            if read_only:
                driver.execute("PRAGMA query_only = 1")
            driver.set_progress_handler(check, _SQLITE_STEPS)
            try:
                yield stop
            finally:
                driver.set_progress_handler(None, 0)
                driver.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, old_length)
                driver.execute(f"PRAGMA cache_size = {int(old_cache)}")
                if read_only:
                    driver.execute("PRAGMA query_only = 0")
            return
        if name == "postgresql":
            if read_only:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(limits.seconds * 1000))}")
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{max(1, limits.max_memory_mb // 4)}MB'")
            driver_conn: Any = conn.connection.driver_connection
            with _cancelling(stop, getattr(driver_conn, "cancel_safe", None) or driver_conn.cancel):
                yield stop
            return
        elif name in ("mysql", "mariadb"):
            with contextlib.suppress(Exception):  # MariaDB names it max_statement_time, MySQL max_execution_time
                conn.exec_driver_sql(f"SET SESSION max_statement_time = {float(limits.seconds)}")
            with contextlib.suppress(Exception):
                conn.exec_driver_sql(f"SET SESSION max_execution_time = {max(1, int(limits.seconds * 1000))}")
        yield stop


def explain(exc: BaseException, stop: Stop, limits: QueryLimits) -> AppError | None:
    """The user's message for a query that ``limited`` stopped, or None for any other database error."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    if stop.reason == "cancelled":
        return Conflict(T("已取消，未保存任何结果", "Cancelled; nothing of it was kept"), code="query_cancelled")
    if stop.reason == "shutdown":
        return _interrupted()
    if stop.reason == "timeout" or "statement timeout" in text or "max_statement_time" in text \
            or "maximum statement execution time" in text:
        return Invalid(T("查询超过时间上限 {s} 秒，已停止，未保存任何结果。请缩小查询范围，或请管理员调大 PBSHARE_QUERY_TIMEOUT_S",
                         "The query ran past its time limit of {s} s and was stopped; nothing of it was kept. Narrow "
                         "the query, or ask the administrator to raise PBSHARE_QUERY_TIMEOUT_S", s=f"{limits.seconds:g}"),
                       code="query_timeout", detail={"limit_s": limits.seconds})
    if "too big" in text or "out of memory" in text or "out of shared memory" in text:
        return Invalid(T("查询超过内存上限 {mb} MB，已停止。请缩小查询范围，或请管理员调大 PBSHARE_QUERY_MAX_MEMORY_MB",
                         "The query went past its memory limit of {mb} MB and was stopped. Narrow the query, or ask "
                         "the administrator to raise PBSHARE_QUERY_MAX_MEMORY_MB", mb=limits.max_memory_mb),
                       code="query_memory", detail={"limit_mb": limits.max_memory_mb})
    return None


def too_many_rows(limits: QueryLimits) -> Invalid:
    return Invalid(T("查询结果超过行数上限 {n} 行，已停止，未保存任何结果。请加筛选条件或增量字段，或请管理员调大 PBSHARE_QUERY_MAX_ROWS",
                     "The query returned more than the row limit of {n} rows and was stopped; nothing of it was kept. "
                     "Add a filter or a cursor column, or ask the administrator to raise PBSHARE_QUERY_MAX_ROWS",
                     n=limits.max_rows), code="query_rows", detail={"limit_rows": limits.max_rows})


def sqlite_readonly_engine(path: Path, *, attach_dir: Path | None = None) -> Engine:
    """A separate read-only connection to a SQLite file (``mode=ro``, ``query_only``): it can never take the
    file's write lock, whatever the query. Topic files under ``attach_dir`` are attached read-only too."""
    uri = f"file:{path.as_posix()}?mode=ro"

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=5)
        conn.isolation_level = None
        conn.execute("PRAGMA query_only = 1")
        conn.execute("PRAGMA busy_timeout = 5000")
        if attach_dir is not None and attach_dir.is_dir():
            for topic in sorted(attach_dir.glob("*.db")):
                conn.execute('ATTACH DATABASE ? AS "' + topic.stem.replace('"', "") + '"',
                             (f"file:{topic.as_posix()}?mode=ro",))
        return conn

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)

    @event.listens_for(engine, "begin")
    def begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine
