"""Report speed: a two-dimension aggregate over 1,000,000 rows through the query API against the same SQL run
directly, in the same run, on SQLite and on PostgreSQL.

    .venv/bin/python bench/report.py                  # 1,000,000 rows, both databases
    .venv/bin/python bench/report.py --rows 200000 --only sqlite

A warehouse table ``bench.facts`` (district, unit, amount, accepted_on) is filled with generated rows (raw
sqlite3 executemany / psycopg COPY). Then, alternating, best of ``--repeat``:

- API: ``POST /api/v1/query`` through the application (a logged-in data admin, FastAPI TestClient) with
  ``group_by: [district, unit]``, ``aggregates: count, sum(amount), avg(amount)`` and a date-range filter —
  the spec turned into SQLAlchemy Core, run within the query limits, the query audited;
- direct: the same SELECT … GROUP BY as SQL text on a plain connection of the warehouse engine.

Both must give the same groups and sums. Target RATIO ≤ 1.5 (API / direct) on each database; the last line is
``RATIO <the larger of the two>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DISTRICTS = ["福田区", "罗湖区", "南山区", "盐田区", "宝安区", "龙岗区", "龙华区", "坪山区", "光明区", "大鹏新区"]
UNITS = [f"单位{i:02d}" for i in range(20)]
SPEC = {"source": {"kind": "table", "topic": "bench", "name": "facts"}, "group_by": ["district", "unit"],
        "aggregates": [{"fn": "count", "as": "n"}, {"fn": "sum", "column": "amount", "as": "total"},
                       {"fn": "avg", "column": "amount", "as": "mean"}],
        "filters": {"op": "and", "items": [{"column": "accepted_on", "op": "between",
                                            "value": ["2020-01-01", "2026-12-31"]}]},
        "sort": [{"column": "district"}, {"column": "unit"}], "size": 500}
SQL = ("SELECT district, unit, count(*) AS n, sum(amount) AS total, avg(amount) AS mean FROM {t} "
       "WHERE accepted_on >= '2020-01-01' AND accepted_on <= '2026-12-31' GROUP BY district, unit "
       "ORDER BY district, unit")


def _rows(n: int):
    rnd = random.Random(16)
    start = dt.date(2019, 1, 1)
    for _ in range(n):
        yield (DISTRICTS[rnd.randrange(10)], UNITS[rnd.randrange(20)], rnd.randrange(1, 1_000_000) / 100,
               start + dt.timedelta(days=rnd.randrange(2900)))


def _setup(kind: str, data_dir: Path, db_name: str | None, rows: int):
    from pbshare.config import Settings
    from pbshare.core import migrate
    from pbshare.core.db import Database
    from pbshare.security.identity import service as security_service
    from pbshare.units import service as unit_service
    from pbshare.warehouse import service as warehouse

    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}" if kind == "postgresql" else None
    settings = Settings(data_dir=data_dir, database_url=url)
    database = Database.from_settings(settings)
    migrate.upgrade(database.engine)
    with database.session() as db:
        unit_service.ensure_office(db)
        security_service.create_user(db, username="bench", display_name="bench", unit_code=unit_service.OFFICE_CODE,
                                     roles=["data_admin"], password="Rpt#speed2026xq", must_change_password=False)
        warehouse.create_topic(db, database, name="bench", title="bench")
        warehouse.create_table(db, database, topic="bench", name="facts", title="facts", fields=[
            {"name": "district"}, {"name": "unit"}, {"name": "amount", "type": "float"},
            {"name": "accepted_on", "type": "date"}])
    t0 = time.perf_counter()
    if kind == "sqlite":
        conn = sqlite3.connect(data_dir / "topics" / "bench.db")
        conn.executemany("INSERT INTO facts (district, unit, amount, accepted_on) VALUES (?, ?, ?, ?)",
                         ((d, u, a, o.isoformat()) for d, u, a, o in _rows(rows)))
        conn.commit()
        conn.close()
    else:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{db_name}") as conn:
            with conn.cursor().copy("COPY bench.facts (district, unit, amount, accepted_on) FROM STDIN") as cp:
                for r in _rows(rows):
                    cp.write_row(r)
            conn.execute("ANALYZE bench.facts")
    print(f"  loaded {rows:,} rows in {time.perf_counter() - t0:.1f} s")
    return settings, database


def bench(kind: str, rows: int, repeat: int) -> float:
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from pbshare.app import create_app

    print(f"{kind}:")
    db_name = f"pbshare_bench_report_{uuid.uuid4().hex[:8]}" if kind == "postgresql" else None
    if db_name:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings, database = _setup(kind, Path(tmp), db_name, rows)
            app = create_app(settings, database=database)
            table = "bench.facts"
            with TestClient(app) as client:
                me = client.post("/api/v1/auth/login", json={"username": "bench", "password": "Rpt#speed2026xq"}).json()
                client.headers["X-CSRF-Token"] = me["csrf_token"]
                api_times, direct_times = [], []
                api_rows = direct_rows = None
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    res = client.post("/api/v1/query", json=SPEC)
                    api_times.append(time.perf_counter() - t0)
                    assert res.status_code == 200, res.text
                    api_rows = [(r["district"], r["unit"], r["n"], round(r["total"], 2)) for r in res.json()["rows"]]
                    t0 = time.perf_counter()
                    with database.warehouse_engine.connect() as conn:
                        got = conn.execute(text(SQL.format(t=table))).all()
                    direct_times.append(time.perf_counter() - t0)
                    direct_rows = [(d, u, n, round(float(s), 2)) for d, u, n, s, _ in got]
            assert api_rows == direct_rows, "the API and the direct SQL disagree"
            database.dispose()
    finally:
        if db_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    a, d = min(api_times), min(direct_times)
    print(f"  groups {len(api_rows or [])}; query API {a * 1000:.0f} ms, direct SQL {d * 1000:.0f} ms "
          f"(best of {repeat}); ratio {a / d:.2f} (target ≤ 1.5)")
    return a / d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    ratios = {kind: bench(kind, args.rows, args.repeat) for kind in ("sqlite", "postgresql")
              if not args.only or args.only == kind}
    print("summary: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    print(f"RATIO {max(ratios.values()):.2f}")


if __name__ == "__main__":
    main()
