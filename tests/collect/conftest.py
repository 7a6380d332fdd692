"""Helpers for import tests: a topic database, generated delivery files, a runner."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pbshare.collect.runs import flows
from pbshare.collect.schemas import ImportSpec
from pbshare.demo.synthetic import synthetic_id_no
from pbshare.warehouse import service as warehouse

HEADER = ["姓名", "公民身份号码", "险种", "缴费所属期", "缴费基数(元)", "缴费日期"]


def people(n: int, *, bad_ids: int = 0, seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        id_no = synthetic_id_no(rng)
        if i < bad_ids:
            id_no = id_no[:17] + ("0" if id_no[17] != "0" else "1")  # wrong check digit
        rows.append([f"演示·人员{i}", id_no, "养老保险", "202301", f"{1000 + i:,}.50元", f"2023年1月{i % 28 + 1}日"])
    return rows


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8", header=HEADER, title: str | None = None,
              delimiter: str = ",") -> Path:
    lines = []
    if title:
        lines.append(title)
    lines.append(delimiter.join(header))
    for r in rows:
        lines.append(delimiter.join(f'"{c}"' if delimiter in c else c for c in r))
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


@pytest.fixture
def topic(db, database):
    warehouse.create_topic(db, database, name="case", title="案件专题库", exist_ok=True)
    db.commit()
    return "case"


MAPPING = [
    {"target": "name", "source": "姓名", "required": True},
    {"target": "id_no", "source": "公民身份号码", "id_kind": "cn_ric", "pii": True, "required": True},
    {"target": "insurance", "source": "险种"},
    {"target": "period", "source": "缴费所属期", "length": 6},
    {"target": "base_yuan", "source": "缴费基数(元)", "type": "decimal"},
    {"target": "paid_on", "source": "缴费日期", "type": "date"},
]


def spec(path: Path | None = None, *, table: str = "si_monthly", mode: str = "append", key=None, mapping=MAPPING,
         kind: str = "csv", **source) -> ImportSpec:
    src = dict(source)
    if path is not None:
        src["path"] = str(path)
    return ImportSpec(source_kind=kind, source=src, mapping=mapping, target_topic="case", target_table=table,
                      mode=mode, key=key or [])


def run(database, s: ImportSpec, **kw):
    return flows.run_now(database, spec=s, run_by="tester", trusted=True, **kw)
