"""Excel imports: .xlsx and .xls, sheet and header choice, merged title rows, hostile workbooks."""

from __future__ import annotations

import random
import string
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from pbshare.collect import readers
from pbshare.collect.uploads import service as uploads
from pbshare.core.errors import Invalid, TooLarge
from pbshare.quality import service as quality_service
from pbshare.warehouse import service as warehouse
from tests.collect.conftest import HEADER, people, run, spec


def workbook(path, rows, *, title=True, sheet="缴费明细"):
    wb = Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["本工作簿第二张表是数据"])
    data = wb.create_sheet(sheet)
    if title:
        data.append(["深圳市社会保险缴费明细（2023年1月）"])
        data.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    data.append(HEADER)
    for r in rows:
        data.append(r)
    wb.save(path)
    return path


def _count(database, table="si_monthly"):
    return warehouse.count_rows(database, topic="case", name=table)


def test_xlsx_sheet_choice_merged_title_and_quarantine_round_trip(database, topic, tmp_path, settings):
    path = workbook(tmp_path / "si.xlsx", people(30, bad_ids=3))
    result = run(database, spec(path, kind="excel", sheet="缴费明细"))
    assert result.status == "succeeded", result.error
    assert (result.rows_loaded, result.rows_quarantined) == (27, 3)
    with database.session() as db:
        q = quality_service.rows_for_run(db, data_dir=settings.resolved_data_dir, run_id=result.id)
        assert [i["line"] for i in q["items"]] == [3, 4, 5]  # merged title row 1, header row 2
        data = quality_service.export_excel(db, data_dir=settings.resolved_data_dir, run_id=result.id)
    # The user downloads the quarantine, fixes the ID numbers and imports that workbook again.
    fixed = tmp_path / "fixed.xlsx"
    fixed.write_bytes(data)
    wb = load_workbook(fixed)
    ws = wb.active
    assert [c.value for c in ws[1]][:3] == ["行号/line", "原因/reason", "姓名"]
    good = people(3, seed=123)
    for i, row in enumerate(ws.iter_rows(min_row=2), start=0):
        row[3].value = good[i][1]
    wb.save(fixed)
    again = run(database, spec(fixed, kind="excel"))
    assert again.status == "succeeded", again.error
    assert (again.rows_loaded, again.rows_quarantined) == (3, 0)
    assert _count(database) == 30


def test_xls_legacy_workbook(database, topic, tmp_path):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("数据")
    ws.write_merge(0, 0, 0, 3, "标题行")
    for c, name in enumerate(HEADER):
        ws.write(1, c, name)
    for r, row in enumerate(people(8), start=2):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    path = tmp_path / "old.xls"
    book.save(str(path))
    result = run(database, spec(path, kind="excel"))
    assert result.status == "succeeded", result.error
    assert result.rows_loaded == 8


def test_zip_bomb_disguised_as_xlsx_is_refused(database, topic, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            block = b"\0" * (1024 * 1024)
            for _ in range(600):
                fh.write(block)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    result = run(database, spec(bomb, kind="excel", table="bomb"))
    assert result.status == "failed" and result.error_code == "zip_bomb"
    assert "压缩炸弹" in result.error and "zip bomb" in result.error
    assert not warehouse.topic_store(database).has_table("case", "bomb")
    with pytest.raises(TooLarge):
        uploads.describe_file(bomb)


def test_not_a_workbook_and_empty_sheet(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("姓名,证件号码\n", encoding="utf-8")
    with pytest.raises(Invalid) as exc:
        readers.ExcelReader(fake)
    assert exc.value.code == "bad_excel"
    wb = Workbook()
    wb.save(tmp_path / "blank.xlsx")
    with pytest.raises(Invalid) as exc:
        readers.ExcelReader(tmp_path / "blank.xlsx")
    assert exc.value.code == "empty_file"


def test_50mb_cell_in_a_workbook_is_refused(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "备注"])
    ws.append(["张三", "正常"])
    ws.append(["李四", "PLACEHOLDER"])
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    # openpyxl itself stops at Excel's limit: write the 50 MB cell into the XML by hand.
    rng = random.Random(5)
    huge = "".join(rng.choices(string.ascii_letters, k=50 * 1024 * 1024)).encode()
    path = tmp_path / "huge.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, data.replace(b"PLACEHOLDER", huge) if b"PLACEHOLDER" in data else data)
    del huge
    reader = readers.ExcelReader(path)
    with pytest.raises(TooLarge) as exc:
        list(reader.batches())
    assert exc.value.code == "cell_too_large" and exc.value.detail == {"line": 3}


def test_rows_are_read_as_text_so_ids_keep_their_digits(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["证件号码", "金额", "日期"])
    ws.append(["44030419800101005X", 1234.5, None])
    ws.append(["440304198001010025", 12, "2023-01-02"])
    wb.save(tmp_path / "t.xlsx")
    frame = next(iter(readers.ExcelReader(tmp_path / "t.xlsx").batches())).frame
    assert frame["证件号码"].to_list() == ["44030419800101005X", "440304198001010025"]
    assert frame["金额"].to_list() == ["1234.5", "12"]


def test_loaded_excel_rows_are_readable_through_the_warehouse(database, topic, tmp_path):
    result = run(database, spec(workbook(tmp_path / "w.xlsx", people(4), title=False), kind="excel", sheet="缴费明细"))
    assert result.status == "succeeded", result.error
    t = warehouse.topic_store(database).reflect_table("case", "si_monthly")
    with database.warehouse_engine.connect() as conn:
        assert len(conn.execute(select(t)).all()) == 4
    with database.session() as db:
        page = warehouse.table_rows(db, database, topic="case", name="si_monthly")
    assert page["total"] == 4
    assert all("*" in r["id_no"] for r in page["rows"])
    assert "id_no_bidx" not in page["rows"][0]
