"""Catalog Excel import: N resources × 10 info items, beside a bare baseline measured in the same run.

    .venv/bin/python bench/catalog_import.py                  # 500 resources (5,000 rows), SQLite
    .venv/bin/python bench/catalog_import.py --resources 2000
    .venv/bin/python bench/catalog_import.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

Ours: ``transfer.import_file`` on an empty platform database: the workbook read with
python-calamine, every row checked (types, units, keys, repeated resource columns), then units,
resources and items written in one transaction with the audit record. Baseline: the same workbook
read with the same reader and its rows inserted unchecked, as text, into one plain table with
SQLAlchemy Core executemany in one transaction: the least any Excel import does. Also printed: the Excel export of the same catalog.
Last line: ``RATIO <ours/baseline>`` for the import.
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from python_calamine import CalamineWorkbook

from pbshare.catalog.transfer import service as transfer
from pbshare.config import Settings
from pbshare.core import migrate
from pbshare.core.db import Database
from pbshare.demo.synthetic import sample_catalog
from pbshare.units import service as unit_service


def make_catalog(n: int) -> dict:
    sample = sample_catalog()
    template = sample["resources"][2]  # 201001, eleven items with enums, pii, booleans
    resources = []
    for i in range(n):
        doc = {**template, "code": f"9{i // 1000:02d}{i % 1000:03d}", "name": f"压测资源{i}"}
        doc["items"] = [dict(it) for it in template["items"][:10]]
        doc["key"] = [k for k in template["key"] if k in {it["code"] for it in doc["items"]}]
        resources.append(doc)
    return {"catalog": sample["catalog"], "units": sample["units"], "resources": resources}


def fresh_database(root: Path, url: str | None) -> Database:
    if url:
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            c.execute(sa.text("CREATE SCHEMA public"))
        admin.dispose()
    settings = Settings(data_dir=root, database_url=url) if url else Settings(data_dir=root)
    db = Database.from_settings(settings)
    migrate.upgrade(db.engine)
    with db.session() as s:
        unit_service.ensure_office(s)
    return db


def baseline(xlsx: bytes, engine: sa.Engine) -> float:
    started = time.perf_counter()
    book = CalamineWorkbook.from_filelike(io.BytesIO(xlsx))
    rows = book.get_sheet_by_name(transfer.SHEET_RESOURCES).to_python()
    head, body = rows[0], rows[1:]
    meta = sa.MetaData()
    table = sa.Table("bench_rows", meta, *[sa.Column(f"c{n}", sa.Text) for n in range(len(head))])
    meta.drop_all(engine)
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{f"c{n}": None if v == "" else str(v) for n, v in enumerate(r)} for r in body])
    elapsed = time.perf_counter() - started
    meta.drop_all(engine)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pbshare-bench-"))
    try:
        catalog = make_catalog(args.resources)
        xlsx = transfer.to_excel(catalog)
        rows = sum(len(r["items"]) for r in catalog["resources"])
        db = fresh_database(root / "ours", args.database_url)
        t_base = min(baseline(xlsx, db.engine) for _ in range(2))
        started = time.perf_counter()
        with db.session() as s:
            report = transfer.import_file(s, content=xlsx, filename="bench.xlsx")
        t_ours = time.perf_counter() - started
        assert report.created == args.resources, report
        started = time.perf_counter()
        with db.session() as s:
            out, _ = transfer.export_catalog(s, fmt="excel")
        t_export = time.perf_counter() - started
        db.dispose()
        print(f"database: {args.database_url or 'sqlite'}; {args.resources} resources, {rows} item rows, "
              f"{len(xlsx) / 1e6:.2f} MB workbook")
        print(f"baseline (calamine read + Core executemany): {t_base:.2f} s  {rows / t_base:,.0f} rows/s")
        print(f"ours (checked import, one transaction):     {t_ours:.2f} s  {rows / t_ours:,.0f} rows/s")
        print(f"ours (Excel export of the same catalog):    {t_export:.2f} s  {len(out) / 1e6:.2f} MB")
        print(f"RATIO {t_ours / t_base:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
