"""Delivery comparison speed: two 1,000,000-row snapshots (10 columns besides the key) with 1% added,
1% removed and 1% changed rows (some changes to or from null), compared by business key with our
``pbshare.compare.diff`` against datacompy (polars backend) on the same Parquet files, in the same run.

    .venv/bin/python bench/compare.py               # 1,000,000 rows
    .venv/bin/python bench/compare.py --rows 200000

datacompy 1.1 pins an older polars than the project's, so it runs in its own virtual environment,
``.venv-bench-compare`` (made here on first use with ``pip install datacompy``), in a subprocess. Each
side's time covers reading both Parquet files and the comparison (best of ``--repeat``); both must find
the same added / removed / changed / unchanged counts, or the bench fails. Target RATIO ≤ 0.25. The CPU time of
all threads is printed too (``CPU ratio``): on a shared machine the wall clock swings with the load.
Last line: ``RATIO <ours/datacompy>``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import venv
from datetime import date
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pbshare.compare.diff import diff  # noqa: E402

BENCH_VENV = ROOT / ".venv-bench-compare"
KEY = ["rec_id"]

DATACOMPY = r"""
import json, sys, time
import polars as pl
from datacompy import PolarsCompare
old_path, new_path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
best, counts, cpu = None, None, None
for _ in range(repeat):
    t, c = time.perf_counter(), time.process_time()
    old, new = pl.read_parquet(old_path), pl.read_parquet(new_path)
    cmp = PolarsCompare(old, new, join_columns=["rec_id"])
    both = cmp.intersect_rows.height
    matching = cmp.count_matching_rows()
    counts = {"added": cmp.df2_unq_rows.height, "removed": cmp.df1_unq_rows.height,
              "changed": both - matching, "unchanged": matching}
    took, used = time.perf_counter() - t, time.process_time() - c
    best = took if best is None else min(best, took)
    cpu = used if cpu is None else min(cpu, used)
print(json.dumps({"seconds": best, "cpu": cpu, "counts": counts, "polars": pl.__version__}))
"""


def bench_python() -> Path:
    """The venv with datacompy and its own polars; made once."""
    py = BENCH_VENV / "bin" / "python"
    if not py.exists():
        print(f"making {BENCH_VENV.name} (datacompy with its own polars) …", flush=True)
        venv.create(BENCH_VENV, with_pip=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "datacompy==1.1.0", "pyarrow"], check=True)
    return py


def make_snapshots(rows: int, folder: Path, seed: int = 7) -> tuple[Path, Path, dict[str, int]]:
    """Old and new snapshots as Parquet; the numbers every comparison must find."""
    n, pct = rows, max(1, rows // 100)
    i = pl.int_range(n, dtype=pl.Int64)
    rnd = (i.hash(seed) % 1_000_000).cast(pl.Int64)  # pseudo-random, reproducible
    cities = pl.Series(["深圳市", "广州市", "东莞市", "佛山市", "珠海市", "惠州市"])
    old = pl.select(
        pl.format("R{}", i.cast(pl.String).str.zfill(9)).alias("rec_id"),
        pl.format("44030119{}0101{}", (1950 + i % 50).cast(pl.String), (i % 10000).cast(pl.String).str.zfill(4))
        .alias("id_no"),
        pl.format("演示·{}", i % 9973).alias("name"),
        pl.lit(cities).gather(rnd % 6).alias("city"),
        ((rnd * 7919 % 10_000_000) / 100).alias("amount"),
        (pl.lit(date(2020, 1, 1)) + pl.duration(days=rnd % 2000)).alias("paid_on"),
        (1 + rnd % 240).alias("months"),
        ((rnd % 10000) / 10000).alias("rate"),
        pl.when(rnd % 10 == 0).then(None).otherwise(pl.format("备注{}", i % 100)).alias("remark"),
        (100000 + rnd * 31 % 900000).cast(pl.String).alias("code"),
        (rnd % 2 == 0).alias("active"),
    )
    # which rows go and which change: a second hash, so they do not line up with the values
    pick = pl.int_range(n, dtype=pl.Int64).hash(seed + 1).rank("ordinal") - 1
    old_pick = old.with_columns(pick.alias("_p"))
    removed = old_pick.filter(pl.col("_p") < pct).select(KEY)
    changed = old_pick.filter((pl.col("_p") >= pct) & (pl.col("_p") < 2 * pct)).select(
        "rec_id", (pl.col("_p") % 4).alias("_w"))
    new = old.join(removed, on=KEY, how="anti").join(changed, on=KEY, how="left")
    w = pl.col("_w")
    new = new.with_columns(
        pl.when(w == 0).then(pl.col("amount") + 1.5).otherwise(pl.col("amount")).alias("amount"),
        pl.when(w == 1).then(pl.lit("已更正")).otherwise(pl.col("remark")).alias("remark"),  # null → value too
        pl.when(w == 2).then(pl.col("city") + "南山区").otherwise(pl.col("city")).alias("city"),
        pl.when(w == 3).then(pl.col("months") + 1).otherwise(pl.col("months")).alias("months"),
    ).drop("_w")
    added = old.head(pct).with_columns(pl.format("N{}", pl.col("rec_id")).alias("rec_id"))
    new = pl.concat([new, added]).sample(fraction=1.0, shuffle=True, seed=seed)
    old_path, new_path = folder / "old.parquet", folder / "new.parquet"
    old.write_parquet(old_path)
    new.write_parquet(new_path)
    expected = {"added": pct, "removed": pct, "changed": pct, "unchanged": n - 2 * pct}
    return old_path, new_path, expected


def ours(old_path: Path, new_path: Path, repeat: int) -> tuple[float, float, dict[str, int], int]:
    best, cpu, counts, fields = float("inf"), float("inf"), {}, 0
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        old, new = pl.read_parquet(old_path), pl.read_parquet(new_path)
        d = diff(old, new, KEY)
        took, used = time.perf_counter() - t, time.process_time() - c
        best, cpu, counts, fields = min(best, took), min(cpu, used), d.counts, d.fields.height
    return best, cpu, counts, fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    py = bench_python()
    with tempfile.TemporaryDirectory(prefix="pbshare-bench-compare-") as tmp:
        old_path, new_path, expected = make_snapshots(args.rows, Path(tmp))
        print(f"snapshots: {args.rows:,} rows each side, expected {expected}")
        t_ours, cpu_ours, c_ours, fields = ours(old_path, new_path, args.repeat)
        print(f"ours (pbshare.compare.diff, polars {pl.__version__}): {t_ours:.3f} s (CPU {cpu_ours:.3f} s)  "
              f"{c_ours}  ({fields:,} field-level changes)")
        out = subprocess.run([str(py), "-c", DATACOMPY, str(old_path), str(new_path), str(args.repeat)],
                             check=True, capture_output=True, text=True)
        theirs = json.loads(out.stdout.strip().splitlines()[-1])
        t_dc, cpu_dc, c_dc = float(theirs["seconds"]), float(theirs["cpu"]), theirs["counts"]
        print(f"datacompy 1.1 (PolarsCompare, polars {theirs['polars']}): {t_dc:.3f} s (CPU {cpu_dc:.3f} s)  {c_dc}")
    if c_ours != expected or c_dc != expected:
        print(f"COUNTS DIFFER: expected {expected}, ours {c_ours}, datacompy {c_dc}")
        sys.exit(1)
    print("counts agree")
    # CPU time of all threads (best of the repeats): steadier than the wall clock when the machine is shared
    print(f"CPU ratio {cpu_ours / cpu_dc:.2f}")
    print(f"RATIO {t_ours / t_dc:.2f}")


if __name__ == "__main__":
    main()
