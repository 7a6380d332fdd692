"""The first mapping guess: identifier columns by header and by content, pinyin field names, year-month."""

from __future__ import annotations

import polars as pl
from sqlalchemy import select

from pbshare.collect.mapping import auto_mapping
from pbshare.security.crypto import pii
from pbshare.warehouse import service as warehouse
from tests.collect.conftest import people, run, spec

FIRMS = ["91350100M000100Y43", "91110000600037341L"]


def test_identifier_columns_are_recognised_by_header_and_by_content():
    p = people(3)
    sample = pl.DataFrame({"姓名": [r[0] for r in p], "证件号码": [r[1] for r in p], "号码": [r[1] for r in p],
                           "纳税人识别号": [*FIRMS, FIRMS[0]], "编码": [*FIRMS, FIRMS[1]], "所属期": ["2023年1月"] * 3,
                           "备注": ["x"] * 3})
    maps = {m.source: m for m in auto_mapping(list(sample.columns), sample=sample)}
    assert maps["姓名"].target == "xingming" and maps["姓名"].title == "姓名"
    for col in ("证件号码", "号码"):
        assert (maps[col].id_kind, maps[col].pii) == ("cn_ric", True)
    for col in ("纳税人识别号", "编码"):
        assert (maps[col].id_kind, maps[col].pii) == ("uscc", True)
    assert maps["所属期"].type == "yearmonth"
    assert maps["备注"].id_kind is None and not maps["备注"].pii
    assert len({m.target for m in maps.values()}) == len(maps)


def test_an_import_without_mapping_seals_ids_and_reads_year_months(database, topic, tmp_path, settings):
    p = people(3)
    path = tmp_path / "guess.csv"
    months = ["2023年1月", "2023-02", "202303"]
    path.write_text("姓名,号码,所属期\n" + "".join(f"{r[0]},{r[1]},{m}\n" for r, m in zip(p, months, strict=True)),
                    encoding="utf-8")
    result = run(database, spec(path, table="guessed", mapping=[]))
    assert result.status == "succeeded", result.error
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    with database.session() as db:
        cols = {c["name"]: c for c in warehouse.get_table(db, topic="case", name="guessed").columns}
    assert cols["haoma"]["pii"] and "haoma_bidx" in cols
    t = warehouse.topic_store(database).reflect_table("case", "guessed")
    with database.warehouse_engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(t))]
    assert sorted(r["suoshuqi"] for r in rows) == ["2023-01", "2023-02", "2023-03"]
    vault = pii.vault_for(settings.resolved_data_dir)
    assert sorted(vault.open(r["haoma"]) for r in rows) == sorted(r[1] for r in p)
    assert all(r["haoma"] not in {x[1] for x in p} for r in rows)  # sealed at rest
