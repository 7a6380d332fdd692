"""Real deliveries, row by row: ragged rows, blank lines, footers, duplicates, one reason per cause,
ID numbers stored as numbers, unified social credit codes; on SQLite and PostgreSQL."""

from __future__ import annotations

from openpyxl import Workbook
from stdnum.cn import uscc

from pbshare.quality import service as quality_service
from pbshare.warehouse import service as warehouse
from tests.collect.conftest import people, run, spec


def _quarantine(database, settings, run_id):
    with database.session() as db:
        return quality_service.rows_for_run(db, data_dir=settings.resolved_data_dir, run_id=run_id, size=500)["items"]


def _count(database, table="si_monthly"):
    return warehouse.count_rows(database, topic="case", name=table)


HEAD = "姓名,公民身份号码,险种,缴费所属期,缴费基数(元),缴费日期"


def _line(r: list[str]) -> str:
    return ",".join(f'"{c}"' if "," in c else c for c in r)


def test_ragged_rows_go_to_quarantine_with_their_physical_line_and_the_rest_loads(database, topic, tmp_path,
                                                                                  settings):
    p = people(6)
    lines = [
        "2023年1月社保缴费明细",                                 # 1 title
        HEAD,                                                   # 2 header
        _line(p[0]),                                            # 3
        '"演示\n人员1",' + _line(p[1][1:]),                       # 4-5: a quoted newline in the name
        f"{p[2][0]},{p[2][1]},养老保险,202301,1,000.50元,2023年1月3日",  # 6: unquoted comma, one field more
        _line(p[3][:4]),                                        # 7: two fields fewer
        _line(p[4]),                                            # 8
        _line(p[5]),                                            # 9
    ]
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(database, spec(path))
    assert result.status == "succeeded", result.error
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 4, 2)
    assert _count(database) == 4
    items = _quarantine(database, settings, result.id)
    assert [i["line"] for i in items] == [6, 7]
    assert "7 个字段，表头有 6 个" in items[0]["reason"] and "unquoted comma" in items[0]["reason"]
    assert "4 个字段，表头有 6 个" in items[1]["reason"] and "missing" in items[1]["reason"]
    assert items[0]["row"]["原始行/raw line"].endswith("1,000.50元,2023年1月3日")  # the raw text, masked ID
    assert result.counts["quarantined"] == {"字段个数与表头不符 / number of fields differs from the header": 2}


def test_quarantine_line_numbers_follow_the_editor_after_embedded_newlines(database, topic, tmp_path, settings):
    p = people(4, bad_ids=0)
    bad = [*p[3][:1], p[3][1][:17] + ("0" if p[3][1][17] != "0" else "1"), *p[3][2:]]
    text = HEAD + "\n" + _line(p[0]).replace("演示·人员0", '"演示\n人员\n0"') + "\n" + _line(p[1]) + "\r\n" \
        + _line(p[2]) + "\n" + _line(bad) + "\n"
    path = tmp_path / "nl.csv"
    path.write_bytes(text.encode("gbk"))
    result = run(database, spec(path))
    assert result.status == "succeeded", result.error
    items = _quarantine(database, settings, result.id)
    assert [i["line"] for i in items] == [7]  # header 1, rows on lines 2-4, 5, 6, 7
    assert "身份证号码无效" in items[0]["reason"]


def test_blank_lines_footers_and_titles_are_skipped_and_counted(database, topic, tmp_path, settings):
    p = people(3)
    lines = ["深圳市社会保险缴费明细", "单位：元", HEAD, _line(p[0]), "", "  ", ",,,,,", " , ,", _line(p[1]),
             _line(p[2]), "合计,,,,\"3,003.50\",", "制表人：张三", "备注：本表由系统导出", ""]
    path = tmp_path / "footer.csv"
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    result = run(database, spec(path, header_row=3))
    assert result.status == "succeeded", result.error
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 3, 0)
    assert _count(database) == 3
    assert result.counts["skipped"] == {"blank": 6, "footer": 3, "title": 2}
    assert result.rows_skipped == 11
    assert _quarantine(database, settings, result.id) == []


def test_duplicates_exact_load_once_conflicting_all_go_to_quarantine(database, topic, tmp_path, settings):
    p = people(5)
    changed = [*p[2][:4], "9,999.00元", p[2][5]]
    rows = [p[0], p[1], p[0], p[2], p[3], changed, p[4], p[0]]  # lines 2..9
    path = tmp_path / "dup.csv"
    path.write_text(HEAD + "\n" + "\n".join(_line(r) for r in rows) + "\n", encoding="utf-8")
    result = run(database, spec(path, mode="upsert", key=["id_no", "period"]))
    assert result.status == "succeeded", result.error
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (8, 4, 2, 2)
    assert _count(database) == 4  # loaded is what the table gained
    items = _quarantine(database, settings, result.id)
    assert [i["line"] for i in items] == [5, 7]
    assert "与第 7 行主键相同" in items[0]["reason"] and "缴费基数(元) 不同" in items[0]["reason"]
    assert "line 5" in items[1]["reason"] and "base_yuan" in items[1]["reason"]
    # append mode into the keyed table: the same rule, and loaded is again what the table gained
    again = run(database, spec(path, mode="append", key=["id_no", "period"]))
    assert again.rows_loaded == 4 and _count(database) == 8


def test_one_reason_per_cause_code_table_names_allowed_values(database, topic, tmp_path, settings):
    path = tmp_path / "codes.csv"
    path.write_text("name,sex,kind\n张三,1,A\n李四,3,B\n王五,,A\n", encoding="utf-8")
    mapping = [{"target": "name", "source": "name"},
               {"target": "sex", "source": "sex", "required": True, "value_map": {"1": "男", "2": "女"},
                "map_strict": True},
               {"target": "kind", "source": "kind", "value_map": {"A": "甲", "B": "乙"}, "map_strict": True}]
    result = run(database, spec(path, table="codes", mapping=mapping, mode="upsert", key=["name", "kind"]))
    assert result.status == "succeeded", result.error
    items = _quarantine(database, settings, result.id)
    assert [i["line"] for i in items] == [3, 4]
    assert items[0]["reason"] == ("sex：代码表中没有该值，允许的值：1、2 / sex: value not in the code table; "
                                  "allowed: 1, 2")
    assert items[1]["reason"] == "sex：必填但为空 / sex: required but empty"


def test_id_number_stored_as_a_number_is_explained_never_loaded(database, topic, tmp_path, settings):
    p = people(2)
    path = tmp_path / "sci.csv"
    path.write_text(HEAD + "\n" + _line(p[0]) + "\n" + _line([p[1][0], "4.403e+17", *p[1][2:]]) + "\n",
                    encoding="utf-8")
    result = run(database, spec(path))
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    (item,) = _quarantine(database, settings, result.id)
    assert "存成了数字" in item["reason"] and "文本" in item["reason"] and "format the column as Text" in item["reason"]
    assert "身份证号码无效" not in item["reason"] and "必填" not in item["reason"]
    # Excel: the ID typed into a number cell
    wb = Workbook()
    ws = wb.active
    ws.append(HEAD.split(","))
    ws.append(p[0])
    ws.append([p[1][0], float(p[1][1][:17] + "0"), *p[1][2:]])
    wb.save(tmp_path / "sci.xlsx")
    result = run(database, spec(tmp_path / "sci.xlsx", kind="excel", table="sci_x"))
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    (item,) = _quarantine(database, settings, result.id)
    assert item["line"] == 3 and "存成了数字" in item["reason"]


def _uscc(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


def test_uscc_values_are_checked_including_the_organisation_code(database, topic, tmp_path, settings):
    good = "91350100M000100Y43"
    wrong_org = _uscc("91350100M000100Y5")  # last character right, organisation code check wrong
    assert uscc.is_valid(wrong_org)  # python-stdnum alone would let it through
    path = tmp_path / "firms.csv"
    path.write_text(f"企业名称,统一社会信用代码\n甲公司,{good}\n乙公司,{wrong_org}\n丙公司,{good[:17]}2\n"
                    f"丁公司,9.13501E+17\n", encoding="utf-8")
    mapping = [{"target": "firm", "source": "企业名称"},
               {"target": "uscc", "source": "统一社会信用代码", "id_kind": "uscc", "required": True}]
    result = run(database, spec(path, table="firms", mapping=mapping))
    assert (result.rows_loaded, result.rows_quarantined) == (1, 3)
    items = _quarantine(database, settings, result.id)
    assert [i["line"] for i in items] == [3, 4, 5]
    assert all("统一社会信用代码无效" in i["reason"] for i in items[:2])
    assert "存成了数字" in items[2]["reason"] and "无效" not in items[2]["reason"]


def test_excel_blank_rows_footer_and_title_are_skipped(database, topic, tmp_path, settings):
    p = people(3, bad_ids=1)
    wb = Workbook()
    ws = wb.active
    ws.append(["深圳市社会保险缴费明细（2023年1月）"])
    ws.append(HEAD.split(","))
    ws.append(p[0])
    ws.append([None] * 6)
    ws.append(p[1])
    ws.append(["", "  ", None, None, None, None])
    ws.append(p[2])
    ws.append(["合计", None, None, None, 3003.5, None])
    ws.append(["制表人：张三"])
    wb.save(tmp_path / "f.xlsx")
    result = run(database, spec(tmp_path / "f.xlsx", kind="excel"))
    assert result.status == "succeeded", result.error
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert result.counts["skipped"] == {"blank": 2, "footer": 2, "title": 1}
    assert [i["line"] for i in _quarantine(database, settings, result.id)] == [3]
