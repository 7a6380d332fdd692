"""Bulk loading of converted batches into a warehouse table: the whole delivery or nothing.

PostgreSQL: each batch is written as CSV straight into ``COPY … FROM STDIN`` through psycopg 3, in one
transaction (MVCC: readers and other writers of the table are not held up; ``lock_timeout`` bounds the wait
for a lock someone else holds, ``replace``'s TRUNCATE for instance).
SQLite: batches go into a private TEMP table through the raw driver's ``executemany`` (SQLAlchemy's
executemany is 13× (PostgreSQL) and 4× (SQLite) slower, STACK-NOTES); only ``commit`` touches the topic
file, in one short transaction that waits its turn for the file's write lock (the listeners, other imports
and a person's edits keep writing meanwhile). SQLite has one writer per file, so a long load must never
hold it.
A table the run creates is created inside that last transaction (``create``): a failed load leaves no table.
Modes: append; replace (the table is emptied in the same transaction); upsert (rows whose business key is
already there are replaced). ``inserted`` and ``deleted`` say what the table gained, without counting it.
"""

from __future__ import annotations

import io
import time
from typing import Any

import polars as pl
from sqlalchemy import Table
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateIndex, CreateTable

from pbshare.core.db import BUSY_TIMEOUT_MS, LOCK_WAIT_SECONDS, is_locked, locked_error, retry_locked
from pbshare.core.dynamic import safe_identifier

STAGE = "pbshare_stage"


def _q(name: str) -> str:
    return '"' + safe_identifier(name) + '"'


class TableLoader:
    def __init__(self, engine: Engine, *, topic: str, table: str, columns: list[str], mode: str = "append",
                 key: list[str] | None = None, create: Table | None = None,
                 lock_wait: float = LOCK_WAIT_SECONDS) -> None:
        self.engine = engine
        self.is_pg = engine.dialect.name == "postgresql"
        self.target = f"{_q(topic)}.{_q(table)}"
        self.columns = columns
        self.mode = mode
        self.key = key or []
        self.col_list = ", ".join(_q(c) for c in columns)
        self.create = create  # a new table: created by the transaction that loads it
        self.lock_wait = lock_wait
        self._raw: Any = None
        self._conn: Any = None
        self.loaded = 0  # rows written (staged, on SQLite)
        self.inserted = 0  # rows the target received when the load committed
        self.deleted: int | None = 0  # rows it lost (replace, upsert); None when not known (TRUNCATE)

    def _ddl(self) -> list[str]:
        if self.create is None:
            return []
        dialect = self.engine.dialect
        return [str(CreateTable(self.create).compile(dialect=dialect))] + \
            [str(CreateIndex(ix).compile(dialect=dialect)) for ix in self.create.indexes]

    # the transaction -------------------------------------------------------------------------
    def begin(self) -> None:
        self._raw = self.engine.raw_connection()
        self._conn = self._raw.driver_connection
        cur = self._conn.cursor()
        try:
            if self.is_pg:
                if self._conn.info.transaction_status != 0:
                    self._conn.rollback()
                cur.execute("SET LOCAL statement_timeout = 0")
                cur.execute(f"SET LOCAL lock_timeout = '{int(self.lock_wait * 1000)}ms'")
                for ddl in self._ddl():
                    cur.execute(ddl)
                if self.mode == "replace":
                    cur.execute(f"TRUNCATE {self.target}")
                    self.deleted = None
                if self.mode == "upsert":
                    cur.execute(f"CREATE TEMP TABLE {STAGE} (LIKE {self.target} INCLUDING DEFAULTS) ON COMMIT DROP")
            else:
                # No lock is taken here: the rows wait in this connection's own TEMP database, in a transaction
                # that writes nothing else (so it locks no shared file) and saves a commit per batch.
                cur.execute(f"DROP TABLE IF EXISTS temp.{STAGE}")
                cur.execute(f"CREATE TEMP TABLE {STAGE} ({self.col_list})")
                cur.execute("BEGIN")
        except Exception as exc:
            if is_locked(exc):
                raise locked_error(self.lock_wait, exc) from exc
            raise
        finally:
            cur.close()

    def commit(self) -> None:
        if self.is_pg:
            self._conn.commit()
            return
        if self._conn.in_transaction:  # the staged rows (TEMP only)
            self._conn.execute("COMMIT")
        deadline = time.monotonic() + self.lock_wait
        retry_locked(lambda: self._publish(deadline), wait=self.lock_wait)

    def _publish(self, deadline: float) -> None:
        """SQLite: the staged rows into the target in one transaction. Its first statement writes the topic
        file, so the transaction waits for the write lock (busy timeout) instead of reading a snapshot that
        another writer could make stale (SQLITE_BUSY_SNAPSHOT, which no timeout waits out)."""
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(max(0.1, deadline - time.monotonic()) * 1000)}")
        rows = f"temp.{STAGE}"
        if self.mode == "upsert" and self.key:  # a key staged twice: the last row wins, as on PostgreSQL
            keys = ", ".join(_q(k) for k in self.key)
            rows = f"(SELECT * FROM temp.{STAGE} WHERE rowid IN (SELECT max(rowid) FROM temp.{STAGE} GROUP BY {keys}))"
        cur = conn.cursor()
        try:
            cur.execute("BEGIN")
            for ddl in self._ddl():
                cur.execute(ddl)
            deleted = 0
            if self.mode == "replace":
                cur.execute(f"DELETE FROM {self.target}")
                deleted = cur.rowcount
            elif self.mode == "upsert" and self.key:
                keys = ", ".join(_q(k) for k in self.key)
                cur.execute(f"DELETE FROM {self.target} WHERE ({keys}) IN (SELECT {keys} FROM temp.{STAGE})")
                deleted = cur.rowcount
            cur.execute(f"INSERT INTO {self.target} ({self.col_list}) SELECT {self.col_list} FROM {rows}")
            inserted = cur.rowcount
            cur.execute("COMMIT")
            self.inserted, self.deleted = inserted, deleted
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            cur.close()

    def rollback(self) -> None:
        if self._conn is None:
            return
        try:
            if self.is_pg:
                self._conn.rollback()
            elif self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except Exception:  # noqa: S110 - the connection is discarded below anyway
            pass

    def close(self) -> None:
        if self._raw is None:
            return
        if not self.is_pg:
            try:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                self._conn.execute(f"DROP TABLE IF EXISTS temp.{STAGE}")
                self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            except Exception:  # a broken connection: invalidated, never handed out again
                self._raw.invalidate()
        self._raw.close()
        self._raw = self._conn = None

    # batches ---------------------------------------------------------------------------------
    def prepare(self, frame: pl.DataFrame) -> Any:
        """Turn a converted batch into what the driver takes; runs in the reading thread."""
        frame = frame.select(self.columns)
        if self.key and self.mode == "upsert":
            frame = frame.unique(subset=self.key, keep="last", maintain_order=True)
        if self.is_pg:
            buf = io.BytesIO()
            frame.write_csv(buf, include_header=False, null_value="", quote_style="necessary")
            return frame.height, buf.getvalue()
        casts = []
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Datetime):
                casts.append(pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
                             if dtype.time_zone else pl.col(name).dt.strftime("%Y-%m-%d %H:%M:%S.%6f"))
            elif dtype == pl.Date:
                casts.append(pl.col(name).dt.strftime("%Y-%m-%d"))
            elif dtype == pl.Boolean:
                casts.append(pl.col(name).cast(pl.Int8))
        if casts:
            frame = frame.with_columns(casts)
        return frame.height, frame.rows()

    def write(self, payload: Any) -> int:
        if self.is_pg:
            count, data = payload
            if not count:
                return 0
            target = STAGE if self.mode == "upsert" else self.target
            with self._conn.cursor() as cur:
                with cur.copy(f"COPY {target} ({self.col_list}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(data)
                if self.mode == "upsert":
                    match = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in self.key)
                    cur.execute(f"DELETE FROM {self.target} t USING {STAGE} s WHERE {match}")
                    if self.deleted is not None:
                        self.deleted += max(cur.rowcount, 0)
                    cur.execute(f"INSERT INTO {self.target} ({self.col_list}) SELECT {self.col_list} FROM {STAGE}")
                    cur.execute(f"TRUNCATE {STAGE}")
            self.inserted += count
        else:
            count, rows = payload
            if not count:
                return 0
            marks = ", ".join("?" for _ in self.columns)
            self._conn.executemany(f"INSERT INTO temp.{STAGE} ({self.col_list}) VALUES ({marks})", rows)
        self.loaded += count
        return count
