"""The administrator opens a connection in the browser, moves it to joint testing, sees health,
traffic and a dead letter, and replays it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from pbshare.exchange.connections import service as connections
from pbshare.exchange.messaging import service as messaging
from pbshare.units import service as unit_service
from tests.conftest import make_user
from tests.e2e.conftest import signed_in
from tests.e2e.widgets import pick

pytestmark = pytest.mark.browser


def test_connections_page_and_dead_letter_replay(browser, live_server, database, settings):
    with database.session() as s:
        unit_service.upsert_unit(s, code="GJJ01", name="住房公积金中心", kind="provident_fund")
        # a connection whose sending failed for good, to be replayed
        conn, _ = connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code="GJJ01",
                                                channel="socket", name="公积金套接字",
                                                settings={"host": "127.0.0.1", "port": 9})
        connections.transition(s, connection_id=conn.id, to="testing")
        connections.transition(s, connection_id=conn.id, to="live", override_reason="测试 / test setup")
        msg = messaging.enqueue(s, connection_id=conn.id, type="delivery", payload={}, data_dir=settings.resolved_data_dir)
        for _ in range(messaging.MAX_ATTEMPTS):
            messaging.mark_failed(s, msg, error="ConnectionRefusedError: 拒绝连接")
        dead_id = msg.id
    make_user(database, "ops", ["sys_admin"])
    context, page = signed_in(browser, live_server, "ops")
    errors = page.js_errors

    page.goto(live_server + "/#/channels")
    expect(page.get_by_text("公积金套接字")).to_be_visible(timeout=15000)
    expect(page.locator(f"[data-test=state-{conn.id}]")).to_have_text("正式运行")
    page.click("[data-test=conn-new]")
    pick(page, "[data-test=conn-unit]", "gjj", "GJJ01")
    page.fill("[data-test=conn-name]", "公积金 MQTT")
    page.click("[data-test=conn-channel]")
    page.locator(".el-select-dropdown__item:visible", has_text="MQTT").first.click()
    page.click("[data-test=conn-save]")
    creds = page.locator("[data-test=conn-creds]")
    expect(creds).to_contain_text("secret_hex")
    expect(creds).to_contain_text("GJJ01-mqtt-")
    page.get_by_role("dialog", name=re.compile("连接密钥")).get_by_role("button", name="关闭此对话框").click()
    expect(creds).to_be_hidden()
    row = page.locator("[data-test=conn-table] .el-table__row", has_text="公积金 MQTT")
    expect(row).to_contain_text("草稿", timeout=10000)
    row.get_by_text("变更状态").click()
    page.locator(".el-dropdown-menu__item:visible", has_text="联调测试").click()
    expect(row).to_contain_text("联调测试")

    # health check against the unit's (closed) port says it is down
    page.click(f"[data-test=check-{conn.id}]")
    expect(page.locator(f"[data-test=health-{conn.id}]")).to_have_text("异常")
    expect(page.locator(f"[data-test=traffic-{conn.id}]")).to_have_text("0 / 1 / 0")
    # a transport's health answer reads in the page's language (the tooltip once said "in 0 waiting, out 0 waiting")
    said = page.evaluate("async () => (await import('/static/app/pages/channels/connections.js'))"
                         ".healthText('in 0 waiting, out 2 waiting')")
    assert said == "入站 0 条等待处理，出站 2 条等待发送"

    page.goto(live_server + "/#/channels/dead-letters")
    expect(page.locator("[data-test=dead-table]")).to_contain_text("拒绝连接")
    page.click(f"[data-test=replay-{dead_id}]")
    expect(page.get_by_text("已重新进入发件箱")).to_be_visible()
    expect(page.locator("[data-test=dead-table]")).not_to_contain_text("拒绝连接")
    with database.session() as s:
        assert messaging.dead_letters(s) == []

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server + "/#/channels")
    expect(page.get_by_text("公积金套接字")).to_be_visible(timeout=15000)
    assert errors == []
    context.close()
