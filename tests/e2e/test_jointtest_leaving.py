"""The administrator runs the court's joint test in the browser, sees why the go-live button is off, puts the
connection live with an override reason, then terminates it after reading exactly what will be closed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbshare.catalog.resources import service as catalog_service
from pbshare.demo import catalog as demo_catalog
from pbshare.exchange.connections import service as connections
from tests.conftest import make_user
from tests.e2e.conftest import signed_in

pytestmark = pytest.mark.browser


def test_joint_test_gate_override_and_termination(browser, live_server, database, settings):
    with database.session() as s:
        demo_catalog.load_catalog(s, data_dir=settings.resolved_data_dir, database=database)
        conn, creds = connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code="SZCOURT",
                                                    channel="rest", name="法院 REST")
        connections.transition(s, connection_id=conn.id, to="testing")
    make_user(database, "ops", ["sys_admin"])
    context, page = signed_in(browser, live_server, "ops")
    errors = page.js_errors

    page.goto(live_server + "/#/channels")
    page.click(f"[data-test=jt-{conn.id}]")
    dialog = page.locator("[data-test=jt-dialog]")
    expect(dialog).to_contain_text("尚未运行测试计划", timeout=10000)
    expect(page.locator("[data-test=jt-golive]")).to_be_disabled()
    page.hover("[data-test=jt-golive-wrap]")
    expect(page.locator(".el-popper:visible")).to_contain_text("尚未进行联调测试")

    page.click("[data-test=jt-start]")
    steps = page.locator("[data-test=jt-steps]")
    expect(steps).to_contain_text("请求 → 答复")
    expect(steps).to_contain_text("推送 → 回执")
    expect(page.locator("[data-test=jt-summary]")).to_contain_text("等待 5")
    page.click("[data-test=jt-finish]")
    expect(steps).to_contain_text("测试结束时仍未收到对方的答复或回执")
    expect(page.locator("[data-test=jt-golive]")).to_be_disabled()
    expect(page.locator("[data-test=jt-excel]")).to_be_visible()

    page.click("[data-test=jt-override]")
    box = page.locator(".el-message-box:visible")
    box.locator("textarea").fill("单位系统升级窗口，先上线后补测")
    box.get_by_role("button", name="确定").or_(box.get_by_role("button", name="OK")).first.click()
    expect(page.get_by_text("连接已上线")).to_be_visible()
    expect(page.locator(f"[data-test=state-{conn.id}]")).to_have_text("正式运行")

    page.click(f"[data-test=move-{conn.id}]")
    page.locator(".el-dropdown-menu__item:visible", has_text="已终止").click()
    leave = page.locator("[data-test=leave-dialog]")
    expect(leave.locator("[data-test=leave-closes]")).to_contain_text(creds.key_id)
    expect(leave.locator("[data-test=leave-closes]")).to_contain_text("监听")
    # the court receives 801001: the confirmation says it comes off the catalog's receivers
    expect(leave.locator("[data-test=leave-closes]")).to_contain_text("目录接收单位")
    expect(leave.locator("[data-test=leave-closes]")).to_contain_text("801001")
    expect(page.locator("[data-test=leave-confirm]")).to_be_disabled()
    page.fill("[data-test=leave-reason]", "单位撤并，退出共享")
    page.click("[data-test=leave-confirm]")
    expect(page.get_by_text("连接已终止")).to_be_visible()
    expect(page.locator(f"[data-test=state-{conn.id}]")).to_have_text("已终止")
    with database.session() as s:
        assert connections.get_connection(s, connection_id=conn.id).secret_sealed is None
        assert "SZCOURT" not in catalog_service.get_resource(s, code="801001").receivers
    assert errors == []
    context.close()
