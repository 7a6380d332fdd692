"""Guarded actions, pickers and list tables as a person meets them: a delete asks first and cancelling keeps the
object; a unit is found by part of its name; a list sorts and exports to Excel; the one-time password is shown once
with copy and download; go-live stays off and says why; the topic-table browser searches, filters, sorts and
exports, and on a phone keeps its row actions in view."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import insert

from pbshare.catalog.attributes import service as attributes
from pbshare.demo import service as demo_service
from pbshare.exchange.connections import service as connections
from pbshare.security.crypto import pii
from pbshare.security.identity import service as identity
from pbshare.units import service as unit_service
from pbshare.warehouse import service as warehouse
from tests.conftest import make_user
from tests.e2e.conftest import signed_in
from tests.e2e.widgets import answer, confirm_box, pick

pytestmark = pytest.mark.browser


def _login(browser, live_server, username, width=1280):
    context, page = signed_in(browser, live_server, username, width=width)
    return context, page, page.js_errors


def test_a_delete_asks_first_and_cancel_keeps_the_object(browser, live_server, database):
    with database.session() as s:
        attributes.save_attribute(s, code="archive_no", label_zh="档案编号", label_en="Archive number")
    make_user(database, "meta", ["data_admin"])
    context, page, errors = _login(browser, live_server, "meta")
    page.goto(live_server + "/#/catalog/admin")
    page.get_by_role("tab", name="自定义元数据").click()
    delete = page.locator("[data-test=attr-delete-archive_no]")
    expect(delete).to_have_attribute("data-confirm", "将删除“档案编号”，删除后无法恢复。继续？")
    delete.click()
    expect(confirm_box(page)).to_contain_text("档案编号")
    answer(page, yes=False)
    page.reload()
    page.get_by_role("tab", name="自定义元数据").click()
    expect(page.locator("[data-test=attr-delete-archive_no]")).to_be_visible()
    with database.session() as s:
        assert [a.code for a in attributes.list_attributes(s)] == ["archive_no"]

    page.click("[data-test=attr-delete-archive_no]")
    answer(page, yes=True)
    expect(page.get_by_text("已删除“档案编号”")).to_be_visible()
    expect(page.locator("[data-test=attr-delete-archive_no]")).to_have_count(0)
    with database.session() as s:
        assert attributes.list_attributes(s) == []
    assert errors == []
    context.close()


def test_unit_picker_one_time_password_and_a_sorted_exported_list(browser, live_server, database):
    with database.session() as s:
        demo_service.load_units(s)
    make_user(database, "sysop", ["security_admin"])
    make_user(database, "alice", ["report_viewer"])
    context, page, errors = _login(browser, live_server, "sysop")
    page.goto(live_server + "/#/users")
    page.click("[data-test=user-new]")
    dialog = page.get_by_role("dialog", name="新建用户")
    dialog.locator("input").first.fill("zoe_pnr")
    dialog.locator("input").nth(1).fill("测试·规划局操作员")
    # "规划" is part of the unit's name: the picker offers it, no code typed
    pick(page, "[data-test=user-unit]", "规划", "深圳市规划和自然资源局")
    expect(page.locator("[data-test=user-unit]")).to_contain_text("深圳市规划和自然资源局")
    dialog.locator(".el-select").last.click()
    page.locator(".el-select-dropdown__item:visible", has_text="数源单位操作员").click()
    dialog.locator(".el-dialog__title").click()  # close the multiple choice list
    dialog.get_by_role("button", name="保存").click()

    secret = page.locator("[data-test=user-otp]")
    expect(secret.locator("[data-test=secret-once]")).to_contain_text("只显示这一次")
    password = secret.locator("[data-test=secret-text]").inner_text().strip()
    assert len(password) >= 10
    with page.expect_download() as got:
        secret.locator("[data-test=secret-download]").click()
    assert Path(got.value.path()).read_text(encoding="utf-8").strip() == password
    secret.locator("[data-test=secret-close]").click()
    expect(secret.locator("[data-test=secret-text]")).to_be_hidden()
    expect(page.locator("body")).not_to_contain_text(password)  # gone for good once closed
    with database.session() as s:
        [user] = identity.list_users(s, q="zoe_pnr")
        assert user.unit_id == unit_service.get_unit_by_code(s, code="SZPNR").id

    # the list sorts by a column and exports what it shows
    table = page.locator("[data-test=users-table]")
    header = table.locator("th", has_text="用户名")
    header.locator(".sort-caret.descending").click()
    expect(table.locator(".el-table__body tr").first).to_contain_text("zoe_pnr")
    with page.expect_download() as got:
        page.click("[data-test=list-export]")
    sheet = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes())).active
    assert [r[0] for r in sheet.iter_rows(values_only=True)] == ["用户名", "zoe_pnr", "sysop", "alice"]
    page.fill("[data-test=list-search]", "规划局")
    expect(page.locator("[data-test=list-count]")).to_have_text("共 1 条")
    with page.expect_download() as got:
        page.click("[data-test=list-export]")
    sheet = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "用户名"
    assert [r[0] for r in rows[1:]] == ["zoe_pnr"]  # what the search shows
    assert errors == []
    context.close()


def test_go_live_disabled_says_why(browser, live_server, database, settings):
    with database.session() as s:
        demo_service.load_units(s)
        conn, _ = connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code="SZPNR",
                                                channel="rest", name="规划局 REST")
        connections.transition(s, connection_id=conn.id, to="testing")
    make_user(database, "ops", ["sys_admin"])
    context, page, errors = _login(browser, live_server, "ops")
    page.goto(live_server + "/#/channels")
    page.click(f"[data-test=jt-{conn.id}]")
    golive = page.locator("[data-test=jt-golive]")
    expect(golive).to_be_disabled()
    page.hover("[data-test=jt-golive-wrap]")
    reason = page.locator("[data-test=jt-golive-wrap] [data-disabled-reason]").get_attribute("data-disabled-reason")
    assert reason and "测试" in reason
    expect(page.locator(".el-popper:visible", has_text=reason[:8])).to_be_visible()
    assert errors == []
    context.close()


def test_topic_table_browser_searches_filters_sorts_and_exports(browser, live_server, database, settings):
    with database.session() as s:
        warehouse.create_topic(s, database, name="case", title="案件专题库")
        warehouse.create_manual_table(s, database, topic="case", name="debtor", title="债务人", key=["id_no"], fields=[
            {"name": "name", "title": "姓名"}, {"name": "id_no", "title": "身份证号", "pii": True, "id_kind": "cn_ric"},
            {"name": "cars", "title": "车辆数", "type": "integer"}])
    vault = pii.vault_for(settings.resolved_data_dir)
    table = warehouse.topic_store(database).reflect_table("case", "debtor")
    people = [("演示·张三", "11010119900101001X", 3), ("演示·李四", "110101198001010014", 1),
              ("演示·王五", "110101197001010011", 2)]
    with database.warehouse_engine.begin() as conn:
        conn.execute(insert(table), [{"name": n, "id_no": vault.seal(i), "id_no_bidx": vault.blind_index(i, kind="cn_ric"),
                                      "cars": c} for n, i, c in people])
    make_user(database, "wh", ["data_admin"])
    context, page, errors = _login(browser, live_server, "wh", width=375)
    page.goto(live_server + "/#/warehouse")
    # on a phone the row action stays in view (the actions column sticks to the right)
    browse = page.locator("[data-test=browse-debtor]").first
    expect(browse).to_be_visible()
    box = browse.bounding_box()
    assert box and box["x"] + box["width"] <= 375
    browse.click()
    rows = page.locator("[data-test=wh-rows]")
    expect(rows).to_contain_text("110101********001X")
    rows.locator("th", has_text="车辆数").locator(".sort-caret.ascending").click()
    expect(rows.locator(".el-table__body tr").first).to_contain_text("演示·李四")
    page.locator(".el-dialog:visible [data-test=list-search]").fill("王")
    expect(rows.locator(".el-table__body tr")).to_have_count(1)
    expect(rows).to_contain_text("演示·王五")
    page.locator(".el-dialog:visible [data-test=list-search]").fill("")
    page.click("[data-test=wh-filter-col]")
    page.locator(".el-select-dropdown__item:visible", has_text="姓名").click()
    page.fill("[data-test=wh-filter-text]", "张")
    page.click("[data-test=wh-filter-add]")
    expect(page.locator("[data-test=wh-filter]")).to_contain_text("姓名")
    expect(rows.locator(".el-table__body tr")).to_have_count(1)
    with page.expect_download() as got:
        page.locator(".el-dialog:visible [data-test=list-export]").click()
    sheet = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes())).active
    assert list(sheet.iter_rows(values_only=True)) == [("姓名", "身份证号", "车辆数"), ("演示·张三", "110101********001X", 3)]
    assert errors == []
    context.close()
