"""Import speed: a 10-column CSV (Chinese text, dates, decimals, ID numbers) through an import profile,
against a plain ``COPY … FROM STDIN`` of the same file (PostgreSQL) and a plain raw-driver
``executemany`` of the same rows (SQLite), measured in the same run.

    .venv/bin/python bench/import_csv.py            # 1,000,000 rows
    .venv/bin/python bench/import_csv.py --rows 100000

The profile's import does everything a delivery gets: text columns read as text, trim, dates
parsed, decimals checked, resident IDs normalised and validated (vectorised), bad rows split off to
quarantine, bulk load in one transaction. Our import runs in a child process so its peak memory
(RSS) is its own. A second run (``--pii-rows``, 200,000 by default) marks the ID column ``pii``, so each
value is sealed (SM4-CTR-HMAC-SM3, the bulk format) and blind-indexed (HMAC-SM3), against a plain COPY of the same rows.
Targets: PostgreSQL ratio ≤ 1.2, sealed ratio ≤ 2.0, peak < 500 MB. The sealed ratio is printed on its
own line; the last line stays ``RATIO <postgres ratio>`` (plain, unsealed).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import random
import resource
import shutil
import sqlite3
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
HEADER = ["id_no", "name", "city", "address", "amount", "paid_on", "months", "rate", "remark", "code"]
MAPPING = [
    {"target": "id_no", "source": "id_no", "id_kind": "cn_ric", "required": True},
    {"target": "name", "source": "name", "length": 50},
    {"target": "city", "source": "city", "length": 20},
    {"target": "address", "source": "address", "length": 200},
    {"target": "amount", "source": "amount", "type": "decimal"},
    {"target": "paid_on", "source": "paid_on", "type": "date"},
    {"target": "months", "source": "months", "type": "integer"},
    {"target": "rate", "source": "rate", "type": "float"},
    {"target": "remark", "source": "remark", "type": "text"},
    {"target": "code", "source": "code", "length": 12},
]
BASELINE_DDL = ("(id_no VARCHAR(18), name VARCHAR(50), city VARCHAR(20), address VARCHAR(200), amount NUMERIC(38,10), "
                "paid_on DATE, months INTEGER, rate FLOAT, remark TEXT, code VARCHAR(12))")


def generate(path: Path, rows: int) -> None:
    rng = random.Random(2023)
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
    cities = ["深圳市", "广州市", "东莞市", "佛山市", "惠州市"]
    districts = ["南山区", "福田区", "罗湖区", "宝安区", "龙岗区", "龙华区"]
    start = date(1960, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(rows):
            born = start + timedelta(days=rng.randrange(16000))
            first17 = f"440305{born:%Y%m%d}{rng.randrange(1000):03d}"
            check = "10X98765432"[sum(int(d) * k for d, k in zip(first17, WEIGHTS, strict=True)) % 11]
            w.writerow([first17 + check, rng.choice(surnames) + rng.choice(given) + rng.choice(given),
                        rng.choice(cities), f"{rng.choice(districts)}演示路{rng.randrange(1, 999)}号",
                        f"{rng.random() * 20000:.2f}", f"2023-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                        rng.randrange(1, 240), f"{rng.random():.4f}", f"第{i}条缴费记录，备注文字", f"C{i:010d}"])


def _settings(kind: str, data_dir: Path, db_name: str | None):
    from pbshare.config import Settings

    if kind == "postgresql":
        return Settings(data_dir=data_dir, database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}")
    return Settings(data_dir=data_dir)


def _prepare(kind: str, data_dir: Path, db_name: str | None, *, pii: bool = False) -> None:
    from pbshare.collect.profiles import service
    from pbshare.collect.profiles.schemas import ProfileIn
    from pbshare.core import migrate
    from pbshare.core.db import Database
    from pbshare.warehouse import service as warehouse

    database = Database.from_settings(_settings(kind, data_dir, db_name))
    migrate.upgrade(database.engine)
    mapping = [dict(m, pii=True) if pii and m["target"] == "id_no" else m for m in MAPPING]
    with database.session() as db:
        if warehouse.find_topic(db, name="bench") is None:
            warehouse.create_topic(db, database, name="bench", title="基准测试")
        name = "bench_pii" if pii else "bench_import"
        service.create_profile(db, data=ProfileIn(name=name, title="基准导入", source_kind="csv", source={},
                                                  mapping=mapping, target_topic="bench",
                                                  target_table="imported_pii" if pii else "imported",
                                                  mode="append"))
    database.dispose()


def _child(kind: str, data_dir: str, db_name: str | None, csv_path: str, profile: str, out) -> None:
    from pbshare.collect.profiles import service
    from pbshare.collect.runs import flows
    from pbshare.core.db import Database

    database = Database.from_settings(_settings(kind, Path(data_dir), db_name))
    with database.session() as db:
        p = service.get_profile(db, profile_id=profile)
        spec, pid = service.spec_of(p), p.id
    t0 = time.perf_counter()
    run = flows.run_now(database, spec=spec, profile_id=pid, file=Path(csv_path), run_by="bench", trusted=True)
    elapsed = time.perf_counter() - t0
    database.dispose()
    out.send((elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, run.status, run.rows_loaded,
              run.rows_quarantined, run.error))


def run_import(kind: str, data_dir: Path, db_name: str | None, csv_path: Path, profile: str):
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child, args=(kind, str(data_dir), db_name, str(csv_path), profile, child))
    proc.start()
    result = parent.recv()
    proc.join()
    elapsed, peak, status, loaded, quarantined, error = result
    if status != "succeeded":
        raise SystemExit(f"import failed: {error}")
    return elapsed, peak, loaded, quarantined


def pg_copy_baseline(db_name: str, csv_path: Path, table: str = "baseline") -> float:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{db_name}") as conn:
        conn.execute(f"CREATE TABLE bench.{table} {BASELINE_DDL}")
        conn.commit()
        t0 = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY bench.{table} FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                csv_path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        return time.perf_counter() - t0


def sqlite_executemany_baseline(data_dir: Path, csv_path: Path) -> float:
    conn = sqlite3.connect(data_dir / "baseline.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"CREATE TABLE baseline {BASELINE_DDL}")
    t0 = time.perf_counter()
    with csv_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO baseline VALUES ({', '.join('?' * 10)})", reader)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pii-rows", type=int, default=200_000, help="rows for the sealed-identifier run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pbshare-bench-"))
    db_name = f"pbshare_bench_{uuid.uuid4().hex[:8]}"
    try:
        csv_path = work / "delivery.csv"
        t0 = time.perf_counter()
        generate(csv_path, args.rows)
        print(f"generated {args.rows:,} rows × 10 columns, {csv_path.stat().st_size / 1e6:.0f} MB "
              f"in {time.perf_counter() - t0:.1f} s")
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        # PostgreSQL ---------------------------------------------------------------------------
        pg_dir = work / "pg"
        _prepare("postgresql", pg_dir, db_name)
        ours_pg, peak_pg, loaded, quarantined = run_import("postgresql", pg_dir, db_name, csv_path, "bench_import")
        base_pg = pg_copy_baseline(db_name, csv_path)
        ratio_pg = ours_pg / base_pg
        print(f"PostgreSQL  profile import: {ours_pg:7.2f} s  ({loaded / ours_pg:,.0f} rows/s, {loaded:,} loaded, "
              f"{quarantined:,} quarantined), peak RSS {peak_pg:.0f} MB")
        print(f"PostgreSQL  plain COPY FROM STDIN: {base_pg:7.2f} s  ({args.rows / base_pg:,.0f} rows/s)")
        print(f"PostgreSQL  ratio {ratio_pg:.2f}  (target ≤ 1.2; peak memory target < 500 MB)")
        # SQLite -------------------------------------------------------------------------------
        lite_dir = work / "sqlite"
        _prepare("sqlite", lite_dir, None)
        ours_lite, peak_lite, loaded, _ = run_import("sqlite", lite_dir, None, csv_path, "bench_import")
        base_lite = sqlite_executemany_baseline(work, csv_path)
        print(f"SQLite      profile import: {ours_lite:7.2f} s  ({loaded / ours_lite:,.0f} rows/s), "
              f"peak RSS {peak_lite:.0f} MB")
        print(f"SQLite      raw sqlite3 executemany: {base_lite:7.2f} s  ({args.rows / base_lite:,.0f} rows/s)")
        print(f"SQLite      ratio {ours_lite / base_lite:.2f}")
        # the cost of sealing identifiers --------------------------------------------------------
        n = min(args.pii_rows, args.rows)
        small = work / "pii.csv"
        with csv_path.open(encoding="utf-8") as src, small.open("w", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i > n:
                    break
                dst.write(line)
        _prepare("postgresql", pg_dir, db_name, pii=True)
        plain_small, _, _, _ = run_import("postgresql", pg_dir, db_name, small, "bench_import")
        sealed_small, _, loaded, _ = run_import("postgresql", pg_dir, db_name, small, "bench_pii")
        base_small = pg_copy_baseline(db_name, small, "baseline_pii")
        print(f"PostgreSQL  {n:,} rows with id_no sealed (SM4-CTR-HMAC-SM3 + HMAC-SM3 blind index, a column per call): "
              f"{sealed_small:.2f} s vs {plain_small:.2f} s unsealed "
              f"(+{(sealed_small - plain_small) / n * 1e6:.1f} µs per row); plain COPY of the same rows "
              f"{base_small:.2f} s")
        print(f"PostgreSQL  sealed ratio {sealed_small / base_small:.2f}  (target ≤ 2.0)")
        print(f"RATIO {ratio_pg:.2f}")
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
