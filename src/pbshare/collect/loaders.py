"""Bulk loading of converted batches into a warehouse table, all in one transaction.

PostgreSQL: each batch is written as CSV straight into ``COPY … FROM STDIN`` through psycopg 3.
SQLite: the raw ``sqlite3`` driver's ``executemany``. SQLAlchemy's executemany is 13× (PostgreSQL)
and 4× (SQLite) slower than these (STACK-NOTES), too slow for the import benchmark.
Modes: append; replace (the table is emptied inside the same transaction); upsert (rows whose
business key is already there are replaced).
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine

from pbshare.core.dynamic import safe_identifier


def _q(name: str) -> str:
    return '"' + safe_identifier(name) + '"'


class TableLoader:
    def __init__(self, engine: Engine, *, topic: str, table: str, columns: list[str], mode: str = "append",
                 key: list[str] | None = None) -> None:
        self.engine = engine
        self.is_pg = engine.dialect.name == "postgresql"
        self.target = f"{_q(topic)}.{_q(table)}"
        self.columns = columns
        self.mode = mode
        self.key = key or []
        self.col_list = ", ".join(_q(c) for c in columns)
        self._raw: Any = None
        self._conn: Any = None
        self.loaded = 0

    # the transaction -------------------------------------------------------------------------
    def begin(self) -> None:
        self._raw = self.engine.raw_connection()
        self._conn = self._raw.driver_connection
        cur = self._conn.cursor()
        if self.is_pg:
            if self._conn.info.transaction_status != 0:
                self._conn.rollback()
            cur.execute("SET LOCAL statement_timeout = 0")
        else:
            # Deferred: IMMEDIATE would lock every attached database, the platform's own included,
            # and block the progress updates other connections write meanwhile.
            cur.execute("BEGIN")
        if self.mode == "replace":
            cur.execute(f"TRUNCATE {self.target}" if self.is_pg else f"DELETE FROM {self.target}")
        if self.mode == "upsert" and self.is_pg:
            cur.execute(f"CREATE TEMP TABLE pbshare_stage (LIKE {self.target} INCLUDING DEFAULTS) ON COMMIT DROP")
        cur.close()

    def commit(self) -> None:
        if self.is_pg:
            self._conn.commit()
        else:
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn is None:
            return
        try:
            if self.is_pg:
                self._conn.rollback()
            else:
                self._conn.execute("ROLLBACK")
        except Exception:  # noqa: S110 - the connection is discarded below anyway
            pass

    def close(self) -> None:
        if self._raw is not None:
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
        return frame.height, frame.rows(), (frame.select(self.key).rows() if self.mode == "upsert" else None)

    def write(self, payload: Any) -> int:
        if self.is_pg:
            count, data = payload
            if not count:
                return 0
            target = "pbshare_stage" if self.mode == "upsert" else self.target
            with self._conn.cursor() as cur:
                with cur.copy(f"COPY {target} ({self.col_list}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(data)
                if self.mode == "upsert":
                    match = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in self.key)
                    cur.execute(f"DELETE FROM {self.target} t USING pbshare_stage s WHERE {match}")
                    cur.execute(f"INSERT INTO {self.target} ({self.col_list}) SELECT {self.col_list} "
                                "FROM pbshare_stage")
                    cur.execute("TRUNCATE pbshare_stage")
        else:
            count, rows, keys = payload
            if not count:
                return 0
            cur = self._conn.cursor()
            if self.mode == "upsert":
                where = " AND ".join(f"{_q(k)} = ?" for k in self.key)
                cur.executemany(f"DELETE FROM {self.target} WHERE {where}", keys)
            marks = ", ".join("?" for _ in self.columns)
            cur.executemany(f"INSERT INTO {self.target} ({self.col_list}) VALUES ({marks})", rows)
            cur.close()
        self.loaded += count
        return count
