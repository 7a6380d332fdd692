"""Database engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from sqlalchemy import JSON, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from pbshare.config import Settings
from pbshare.core.errors import AppError
from pbshare.core.i18n import T
from pbshare.core.userquery import sqlite_readonly_engine

R = TypeVar("R")
# How long a connection waits for another writer's lock before SQLite says "database is locked".
BUSY_TIMEOUT_MS = 10_000
# How long work that must not be lost (an import's load and its bookkeeping) keeps waiting, across attempts.
LOCK_WAIT_SECONDS = 30.0

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict: JSON, list: JSON}


def _sqlite_on_connect(topics_dir: Path):
    def on_connect(dbapi_conn: sqlite3.Connection, _record) -> None:
        # Let SQLAlchemy manage transactions; pysqlite's implicit BEGIN breaks savepoints.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        # Topic databases are separate files attached under their own schema name.
        if topics_dir.is_dir():
            for path in sorted(topics_dir.glob("*.db")):
                cur.execute("ATTACH DATABASE ? AS " + '"' + path.stem + '"', (str(path),))
        cur.close()

    return on_connect


class _WriterGate:
    """The engine's immediate (writing) transactions take turns at a lock of this process first.

    SQLite's own wait for its write lock polls with growing sleeps (up to 100 ms a try), so writers of one
    process that queue there lose most of their time asleep after the lock came free. Here they queue on
    a lock that wakes the next one at once; SQLite's wait remains for writers of other processes. A
    writer waits here at most as long as SQLite would (``BUSY_TIMEOUT_MS``), then goes on to SQLite.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def on_begin(self, conn) -> None:
        # Deferred by default so a reading session never blocks writers; sessions that will write under
        # concurrency ask for IMMEDIATE (see Database.session).
        if not conn.get_execution_options().get("sqlite_immediate"):
            self.release(conn.info)
            conn.exec_driver_sql("BEGIN")
            return
        # Held until the connection goes back to the pool (a session's commit or rollback returns it), so
        # the next writer is let in after the commit finished, not while it runs.
        if conn.info.get("writer_gate") is not self and self.lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            conn.info["writer_gate"] = self
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.release(conn.info)
            raise

    def on_checkin(self, _dbapi_conn, record) -> None:
        self.release(record.info)  # a connection back in the pool holds no transaction, whatever happened

    def on_invalidate(self, _dbapi_conn, record, _exc) -> None:
        self.release(record.info)

    def release(self, info: dict) -> None:
        if info.pop("writer_gate", None) is self:
            self.lock.release()


def make_engine(url: str, *, topics_dir: Path | None = None, echo: bool = False) -> Engine:
    """An engine; on SQLite, ``topics_dir`` names the topic files its connections attach (none if not given)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_on_connect(topics_dir or Path("/nonexistent")))
        gate = _WriterGate()
        event.listen(engine, "begin", gate.on_begin)
        event.listen(engine, "checkin", gate.on_checkin)
        event.listen(engine, "invalidate", gate.on_invalidate)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


@dataclass
class Database:
    """One process's handle on the platform database (and the warehouse engine, often the same)."""

    settings: Settings
    engine: Engine
    warehouse_engine: Engine
    session_factory: sessionmaker[Session]

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        settings.ensure_dirs()
        topics = settings.resolved_data_dir / "topics"
        url, warehouse_url = settings.resolved_database_url, settings.resolved_warehouse_url
        if url.startswith("sqlite"):
            # Two pools on SQLite: the platform's connections attach no topic file, the warehouse's attach them
            # all. BEGIN IMMEDIATE takes the write lock of every attached file, so a listener's or a run's
            # bookkeeping transaction never waits for an import loading a topic file, nor the import for them.
            engine = make_engine(url)
            warehouse = make_engine(warehouse_url, topics_dir=topics)
        else:
            engine = make_engine(url, topics_dir=topics)
            warehouse = engine if warehouse_url == url else make_engine(warehouse_url, topics_dir=topics)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        return cls(settings=settings, engine=engine, warehouse_engine=warehouse, session_factory=factory)

    @cached_property
    def _immediate_engine(self) -> Engine:
        # The same engine and pool; its connections begin with BEGIN IMMEDIATE on SQLite.
        return self.engine.execution_options(sqlite_immediate=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @cached_property
    def warehouse_reader(self) -> Engine:
        """Where user-written SELECTs read the warehouse. On SQLite a separate read-only connection to the
        file (``mode=ro``), so a runaway query can never take the platform's write lock; elsewhere the warehouse
        engine (``pbshare.core.userquery.limited`` makes each transaction read-only)."""
        url = self.warehouse_engine.url
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return sqlite_readonly_engine(Path(url.database).resolve(),
                                          attach_dir=self.settings.resolved_data_dir / "topics")
        return self.warehouse_engine

    @contextmanager
    def session(self, *, immediate: bool = False) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error.

        ``immediate`` (SQLite only; PostgreSQL ignores it) takes the write lock when the transaction
        begins. Use it for work that reads and then writes while other connections write, such as the
        exchange listeners and dispatcher: a deferred transaction that read first fails at once with
        "database is locked" when it tries to write after another connection committed
        (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not wait out), while an immediate one waits its turn.
        """
        session = self.session_factory(bind=self._immediate_engine if immediate else self.engine)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def write(self, work: Callable[..., R], *, wait: float = LOCK_WAIT_SECONDS) -> R:
        """Run ``work`` in a short immediate unit of work, trying again while the database stays locked, up to
        ``wait`` seconds in all; then :class:`DatabaseLocked` says so in words. ``work`` must be safe to repeat
        (a failed attempt is rolled back whole)."""
        return retry_locked(lambda: self._write_once(work), wait=wait, what=self.dialect)

    def _write_once(self, work: Callable[..., R]) -> R:
        with self.session(immediate=True) as db:
            return work(db)

    def dispose(self) -> None:
        self.engine.dispose()
        if "warehouse_reader" in self.__dict__:
            self.warehouse_reader.dispose()
        if self.warehouse_engine is not self.engine:
            self.warehouse_engine.dispose()


# --------------------------------------------------------------------------- lock waits
class DatabaseLocked(AppError):
    """Another writer kept the database locked for longer than the work would wait."""

    status = 503
    code = "database_locked"


def is_locked(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "database table is locked", PostgreSQL's lock timeout."""
    text = str(getattr(exc, "orig", None) or exc)
    return "database is locked" in text or "database table is locked" in text or "lock timeout" in text


def locked_error(waited: float, exc: BaseException | None = None) -> DatabaseLocked:
    own = str(getattr(exc, "orig", None) or exc or "").strip().splitlines()[0:1]
    return DatabaseLocked(T(
        "数据库被占用超时：另一个写入者占用数据库超过 {s} 秒（数据库的原话：{own}）。本次未写入任何数据；请稍后重试，"
        "或先结束长时间占用数据库的程序（如另一个导入或备份）",
        "The database stayed locked for {s} s by another writer (the database said: {own}); nothing was written. "
        "Try again later, or first finish the program holding the database (another import or a backup, say)",
        s=f"{waited:.0f}", own=own[0] if own else "database is locked"), code="database_locked")


def retry_locked(work: Callable[[], R], *, wait: float = LOCK_WAIT_SECONDS, what: str = "") -> R:
    """Call ``work`` until it does not meet a locked database, waiting a little longer each time, at most
    ``wait`` seconds in all; then raise :class:`DatabaseLocked`. Other errors pass through at once."""
    started = time.monotonic()
    pause = 0.05
    while True:
        try:
            return work()
        except (OperationalError, sqlite3.OperationalError) as exc:
            waited = time.monotonic() - started
            if not is_locked(exc):
                raise
            if waited + pause > wait:
                raise locked_error(max(waited, wait), exc) from exc
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
