"""CSV imports on both engines: encodings, conversions, quarantine, modes, malformed files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from pbshare.collect import readers
from pbshare.quality import service as quality_service
from pbshare.security.crypto import pii
from pbshare.warehouse import service as warehouse
from tests.collect.conftest import people, run, spec, write_csv


def _rows(database, table="si_monthly"):
    t = warehouse.topic_store(database).reflect_table("case", table)
    with database.warehouse_engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t))]


def test_gbk_csv_with_title_line_loads_and_quarantines_bad_ids(database, topic, tmp_path, settings):
    path = write_csv(tmp_path / "si.csv", people(60, bad_ids=5), encoding="gbk", title="2023年1月社保缴费明细")
    result = run(database, spec(path))
    assert result.status == "succeeded", result.error
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (60, 55, 5)
    rows = _rows(database)
    assert len(rows) == 55
    first = sorted(rows, key=lambda r: r["name"])[0]
    assert first["name"].startswith("演示·人员")
    assert Decimal(str(first["base_yuan"])) >= Decimal("1005.50")
    assert first["paid_on"] in (date(2023, 1, 6), "2023-01-06") or str(first["paid_on"]).startswith("2023-01")
    # The ID number is sealed at rest, with a blind index that finds it.
    vault = pii.vault_for(settings.resolved_data_dir)
    assert len(vault.open(first["id_no"])) == 18 and first["id_no"] != vault.open(first["id_no"])
    assert first["id_no_bidx"] == vault.blind_index(vault.open(first["id_no"]), kind="cn_ric")
    with database.session() as db:
        q = quality_service.rows_for_run(db, data_dir=settings.resolved_data_dir, run_id=result.id)
    assert q["total"] == 5
    assert [i["line"] for i in q["items"]] == [3, 4, 5, 6, 7]  # title line 1, header line 2
    assert all("身份证号码无效" in i["reason"] for i in q["items"])
    assert all("*" in i["row"]["公民身份号码"] for i in q["items"])  # masked in the viewer


def test_conversions_dates_numbers_codes_and_15_digit_ids(database, topic, tmp_path, settings):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "name,id,amount,day,sex,n\n"
        " 张三 ,440304800101001,\"1,234.50元\",2023年1月2日,1,7\n"
        "李四,44030419800101005x,¥12,20230102,2,8\n"
        "王五,440304198001010025,abc,2023-02-30,9,x\n", encoding="utf-8-sig")
    mapping = [
        {"target": "name", "source": "name"},
        {"target": "id_no", "source": "id", "id_kind": "cn_ric"},
        {"target": "amount", "source": "amount", "type": "decimal"},
        {"target": "day", "source": "day", "type": "date"},
        {"target": "sex", "source": "sex", "value_map": {"1": "男", "2": "女"}, "map_strict": True},
        {"target": "n", "source": "n", "type": "integer"},
        {"target": "unit", "default": "SZHRSS"},
    ]
    result = run(database, spec(path, table="mixed", mapping=mapping))
    assert result.status == "succeeded", result.error
    rows = sorted(_rows(database, "mixed"), key=lambda r: r["n"])
    assert [r["name"] for r in rows] == ["张三", "李四"]
    assert rows[0]["id_no"] == "440304198001010017"  # 15 → 18 digits with the check digit
    assert rows[1]["id_no"] == "44030419800101005X"
    assert [float(r["amount"]) for r in rows] == [1234.5, 12.0]
    assert [str(r["day"])[:10] for r in rows] == ["2023-01-02", "2023-01-02"]
    assert [r["sex"] for r in rows] == ["男", "女"]
    assert [r["unit"] for r in rows] == ["SZHRSS", "SZHRSS"]
    with database.session() as db:
        q = quality_service.rows_for_run(db, data_dir=settings.resolved_data_dir, run_id=result.id)
    reason = q["items"][0]["reason"]
    for word in ("amount", "day", "sex", "n：不是整数"):
        assert word in reason


def test_upsert_replace_and_append_modes(database, topic, tmp_path):
    rows = people(10)
    write_csv(tmp_path / "a.csv", rows)
    assert run(database, spec(tmp_path / "a.csv", mode="upsert", key=["id_no", "period"])).rows_loaded == 10
    changed = [[*r[:4], "9,999.00", r[5]] for r in rows[:3]] + people(2, seed=99)
    write_csv(tmp_path / "b.csv", changed)
    assert run(database, spec(tmp_path / "b.csv", mode="upsert", key=["id_no", "period"])).status == "succeeded"
    loaded = _rows(database)
    assert len(loaded) == 12
    assert sum(1 for r in loaded if float(r["base_yuan"]) == 9999.0) == 3
    run(database, spec(tmp_path / "b.csv", mode="append"))
    assert len(_rows(database)) == 17
    run(database, spec(tmp_path / "b.csv", mode="replace"))
    assert len(_rows(database)) == 5


def _fails(database, s, code):
    result = run(database, s)
    assert result.status == "failed"
    assert result.error_code == code, result.error
    return result


def test_malformed_csv_files_fail_clearly_and_write_nothing(database, topic, tmp_path):
    good = write_csv(tmp_path / "ok.csv", people(5))
    assert run(database, spec(good)).rows_loaded == 5
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "空" in _fails(database, spec(empty), "empty_file").error
    # wrong encoding: the user says UTF-8, the file is GBK
    gbk = write_csv(tmp_path / "gbk.csv", people(5), encoding="gbk")
    assert "GBK" in _fails(database, spec(gbk, encoding="utf-8"), "wrong_encoding").error
    # a 50 MB cell
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as fh:
        fh.write("姓名,公民身份号码\n张三,440304198001010019\n")
        fh.write("李四," + "x" * (50 * 1024 * 1024) + "\n")
    assert "MB" in _fails(database, spec(big), "cell_too_large").error
    # a failure in a late batch of a new table rolls back the earlier batches and drops the table
    late = tmp_path / "late.csv"
    late.write_bytes(("a,b\n" + "1,2\n" * 200_000).encode() + "3,四\n".encode("gbk"))
    _fails(database, spec(late, table="late_table", mapping=[]), "wrong_encoding")
    assert not warehouse.topic_store(database).has_table("case", "late_table")
    assert len(_rows(database)) == 5  # only the first good import


def test_big_csv_is_streamed_in_batches(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("a,b\n" + "".join(f"{i},\"x\ny{i}\"\n" for i in range(50_000)), encoding="utf-8")
    reader = readers.CsvReader(path, readers.sniff_csv(path), block_bytes=64 * 1024)
    batches = list(reader.batches())
    assert len(batches) > 5
    assert sum(b.frame.height for b in batches) == 50_000
    assert batches[-1].frame["b"][-1] == "x\ny49999"  # quoted newlines survive block boundaries


def test_encoding_and_delimiter_sniffing(tmp_path):
    p = write_csv(tmp_path / "t.tsv", people(3), encoding="gb18030", delimiter="\t", title="标题")
    opts = readers.sniff_csv(p)
    assert (opts.encoding, opts.delimiter, opts.header_row) == ("gb18030", "\t", 2)
    p2 = write_csv(tmp_path / "bom.csv", people(3), encoding="utf-8-sig")
    assert readers.sniff_csv(p2).encoding == "utf-8-sig"
    assert readers.CsvReader(p2, readers.sniff_csv(p2)).columns[0] == "姓名"
