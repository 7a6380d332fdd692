"""The import wizard in Debian's chromium: upload a GBK CSV, preview its problems, run with progress,
see the quarantine, then re-run the saved profile from the profiles page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from pbshare.warehouse import service as warehouse
from tests.collect.conftest import people, write_csv
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


def _login(page, base: str) -> None:
    """Log in through the API in the page's context (the login form has its own tests): same cookie."""
    res = page.request.post(base + "/api/v1/auth/login", data={"username": "dataadmin", "password": PASSWORD})
    assert res.ok, res.text()


def test_import_a_csv_through_the_wizard(page, live_server, database, tmp_path):
    make_user(database, "dataadmin", ["data_admin"])
    with database.session() as db:
        warehouse.create_topic(db, database, name="case", title="案件专题库")
    csv_path = write_csv(tmp_path / "si_202301.csv", people(30, bad_ids=3), encoding="gbk", title="社保缴费明细")
    _login(page, live_server)
    page.goto(live_server + "/#/collect/import")
    expect(page.locator("[data-test=import-file]")).to_contain_text("未选择文件")  # Element Plus upload, in Chinese
    page.set_input_files("[data-test=import-file] input[type=file]", str(csv_path))
    expect(page.locator("[data-test=import-file]")).to_contain_text("si_202301.csv")
    expect(page.locator(".el-alert--success")).to_contain_text("si_202301.csv")
    expect(page.locator("[data-test=target-table]")).to_have_value("si_202301")
    page.fill("[data-test=target-table]", "si_monthly")
    page.click("[data-test=to-preview]")
    expect(page.locator("[data-test=preview-problems]")).to_contain_text("3")
    expect(page.locator("[data-test=preview-table]")).to_contain_text("身份证号码无效")
    expect(page.locator("[data-test=preview-table]")).to_contain_text("****")  # IDs masked in the preview
    page.click("[data-test=to-mapping]")
    first_target = page.locator("[data-test=mapping-table] input").first
    expect(first_target).to_have_value("xingming")  # the header 姓名 in pinyin
    first_target.fill("debtor_name")  # the user names the field in the mapping step
    page.click("[data-test=to-target]")
    page.click("[data-test=save-profile] .el-switch")
    # a name the server refuses: the message stands at the profile-name field, scrolled into view, not in a toast
    page.fill("[data-test=profile-name]", "SI Monthly")
    page.click("[data-test=start-import]")
    item = page.locator("[data-test=profile-name-item]")
    expect(item).to_have_class(re.compile("is-error"))
    expect(item.locator(".el-form-item__error")).to_have_text("格式不正确")
    expect(item).to_be_in_viewport()
    page.fill("[data-test=profile-name]", "si_monthly")
    page.click("[data-test=start-import]")
    expect(page.locator("[data-test=run-status]")).to_contain_text("成功", timeout=30_000)
    expect(page.locator("[data-test=run-counts]")).to_contain_text("30")
    page.click("[data-test=view-run]")
    expect(page.locator("[data-test=run-quarantined]")).to_have_text("3")
    expect(page.locator("[data-test=quarantine-table]")).to_contain_text("身份证号码无效")
    expect(page.locator("[data-test=download-quarantine]")).to_be_visible()
    page.goto(live_server + "/#/collect/profiles")
    expect(page.locator("[data-test=profiles-table]")).to_contain_text("si_monthly")
    page.click("[data-test=run-si_monthly]")
    # the profile's own file again: a warning first, saying an append adds the rows a second time
    expect(page.locator(".el-message-box")).to_contain_text("再追加一遍")
    page.click(".el-message-box__btns .el-button--primary")
    expect(page.locator("[data-test=run-status]")).to_contain_text("成功", timeout=30_000)
    # the profile again with a new month's file, chosen through the page's upload button
    new_month = write_csv(tmp_path / "si_202302.csv", people(4, seed=11), encoding="gbk", title="社保缴费明细 2 月")
    page.goto(live_server + "/#/collect/profiles")
    page.set_input_files("[data-test=rerun-file-si_monthly] input[type=file]", str(new_month))
    expect(page.locator("[data-test=run-status]")).to_contain_text("成功", timeout=30_000)
    expect(page.get_by_text("si_202302.csv").first).to_be_visible()
    page.goto(live_server + "/#/warehouse")
    expect(page.locator("[data-test=wh-tables]")).to_contain_text("si_monthly")
    page.click("[data-test=browse-si_monthly]")
    expect(page.locator("[data-test=wh-rows]")).to_contain_text("演示·人员")
    assert warehouse.count_rows(database, topic="case", name="si_monthly") == 58  # appended twice, then 4 more
    with database.session() as db:
        names = [c["name"] for c in warehouse.get_table(db, topic="case", name="si_monthly").columns]
    assert "debtor_name" in names
    assert page.js_errors == []


def test_sql_dataset_and_transform_in_the_browser(page, live_server, database, tmp_path):
    from tests.collect.conftest import run, spec

    make_user(database, "dataadmin", ["data_admin"])
    with database.session() as db:
        warehouse.create_topic(db, database, name="case", title="案件专题库")
    rows = people(12)
    for i, r in enumerate(rows):
        r[2] = "养老保险" if i % 3 else "医疗保险"
    assert run(database, spec(write_csv(tmp_path / "si.csv", rows))).status == "succeeded"
    _login(page, live_server)

    page.goto(live_server + "/#/collect/datasets")
    expect(page.locator("[data-test=datasets-table]")).to_contain_text("暂无数据")
    page.click("[data-test=new-dataset]")
    page.fill("[data-test=ds-name]", "by_insurance")
    page.fill("[data-test=ds-title]", "按险种统计")
    page.fill("[data-test=ds-sql]", 'SELECT insurance, COUNT(*) AS people FROM "case".si_monthly GROUP BY insurance')
    page.click("[data-test=ds-check]")
    expect(page.locator("[data-test=ds-result]")).to_contain_text("养老保险")
    page.click("[data-test=ds-save-run]")
    expect(page.locator("[data-test=datasets-table]")).to_contain_text("案件专题库 · 按险种统计", timeout=20_000)
    expect(page.locator("[data-test=datasets-table]")).to_contain_text("2")
    # the row's buttons: rebuild the table, and open the saved dataset for editing
    row = page.locator("[data-test=datasets-table] .el-table__row", has_text="按险种统计")
    expect(page.locator(".el-message--success")).to_have_count(0, timeout=10_000)  # the save's message is gone
    row.get_by_role("button", name="生成 / 刷新").click()
    expect(page.locator(".el-message--success").last).to_contain_text("完成：2 行")
    row.get_by_role("button", name="编辑").click()
    expect(page.locator("[data-test=ds-name]")).to_be_visible()
    expect(page.locator("[data-test=ds-name]")).to_have_value("by_insurance")
    page.keyboard.press("Escape")
    # a refused statement says why
    page.click("[data-test=new-dataset]")
    page.fill("[data-test=ds-sql]", 'DELETE FROM "case".si_monthly')
    page.click("[data-test=ds-check]")
    expect(page.locator(".el-message--error")).to_contain_text("SELECT")
    page.keyboard.press("Escape")

    page.goto(live_server + "/#/collect/transforms")
    expect(page.locator("[data-test=transforms-table]")).to_contain_text("暂无数据")
    page.click("[data-test=new-transform]")
    page.fill("[data-test=tf-name]", "people_by_insurance")
    page.fill("[data-test=tf-title]", "各险种人数")
    dialog = page.locator(".el-dialog:visible")
    dialog.locator(".el-form-item", has_text="选择表").locator(".el-select").click()
    page.locator(".el-select-dropdown__item:visible", has_text="case.si_monthly").click()
    page.keyboard.press("Escape")
    dialog.locator(".el-form-item", has_text="分组字段").locator(".el-select").click()
    page.locator(".el-select-dropdown__item:visible", has_text="(insurance)").click()
    page.keyboard.press("Escape")
    page.click("[data-test=tf-add-agg]")
    dialog.locator("input[placeholder=结果字段名]").fill("people")
    page.click("[data-test=tf-preview]")
    expect(page.locator("[data-test=tf-result]")).to_contain_text("医疗保险")
    page.click("[data-test=tf-save]")
    expect(page.locator("[data-test=transforms-table]")).to_contain_text("案件专题库 · 各险种人数", timeout=20_000)
    t = warehouse.topic_store(database).reflect_table("case", "people_by_insurance")
    with database.warehouse_engine.connect() as conn:
        from sqlalchemy import select

        assert dict(conn.execute(select(t.c.insurance, t.c.people)).all()) == {"养老保险": 8, "医疗保险": 4}
    assert page.js_errors == []


def test_the_wizard_shows_skipped_duplicate_and_quarantined_rows(page, live_server, database, tmp_path):
    make_user(database, "dataadmin", ["data_admin"])
    with database.session() as db:
        warehouse.create_topic(db, database, name="case", title="案件专题库")
        warehouse.create_table(db, database, topic="case", name="si_keyed", title="社保（按人和期间）", key=["id_no", "period"],
                               fields=[{"name": "name", "type": "string", "title": "姓名"},
                                       {"name": "id_no", "type": "string", "title": "公民身份号码", "pii": True,
                                        "id_kind": "cn_ric"},
                                       {"name": "period", "type": "string", "title": "缴费所属期"}])
    p = people(4, bad_ids=1)  # p[0] has a wrong check digit
    lines = ["姓名,公民身份号码,缴费所属期", *(",".join([r[0], r[1], r[3]]) for r in (p[0], p[1], p[2], p[1])), "",
             ",,", ",".join([p[3][0], p[3][1], p[3][3]]), "合计,,", "制表人：张三"]
    path = tmp_path / "keyed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _login(page, live_server)
    page.goto(live_server + "/#/collect/import")
    page.set_input_files("[data-test=import-file] input[type=file]", str(path))
    expect(page.locator(".el-alert--success")).to_contain_text("keyed.csv")
    page.fill("[data-test=target-table]", "si_keyed")
    page.click("[data-test=to-preview]")
    page.click("[data-test=to-mapping]")
    page.click("[data-test=to-target]")
    page.click("[data-test=start-import]")
    expect(page.locator("[data-test=run-status]")).to_contain_text("成功", timeout=30_000)
    expect(page.locator("[data-test=wizard-quarantined]")).to_have_text("1")
    expect(page.locator("[data-test=wizard-duplicates]")).to_have_text("1")
    expect(page.locator("[data-test=wizard-skipped]")).to_have_text("4（空行 2、表尾合计/备注行 2）")
    page.click("[data-test=view-run]")
    expect(page.locator("[data-test=run-skipped]")).to_contain_text("空行 2")
    expect(page.locator("[data-test=run-reasons]")).to_contain_text("身份证号码无效")
    assert warehouse.count_rows(database, topic="case", name="si_keyed") == 3
    assert page.js_errors == []
