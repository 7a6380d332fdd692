"""A rejected delivery's report offers a correction in one step; the court's operator answers it in the portal
and the data admin sees the change before closing it."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from pbshare.collect.deliveries import service as deliveries
from pbshare.demo import catalog as demo_catalog
from pbshare.exchange.connections import service as connections
from pbshare.exchange.corrections import service as corrections  # noqa: F401  (registers its hooks)
from pbshare.exchange.messaging import service as messaging
from tests.channels.conftest import open_connection  # noqa: F401  (fixture)
from tests.conftest import PASSWORD, make_user
from tests.exchange.test_corrections import ROWS

pytestmark = pytest.mark.browser


def log_in(page, live_server: str, username: str) -> None:
    page.goto(live_server + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-test=login-submit]")
    expect(page.locator("[data-test=welcome]")).to_be_visible(timeout=20000)


def test_correction_from_a_rejected_report_answered_in_the_portal(browser, live_server, database, settings,
                                                                   open_connection):  # noqa: F811
    with database.session() as s:
        demo_catalog.load_catalog(s, data_dir=settings.resolved_data_dir, database=database)
    court = open_connection("rest", unit_code="SZCOURT")
    env = court.envelope(type="delivery", resource="101001", payload={"rows": ROWS})
    with database.session() as s:
        messaging.receive(s, raw=json.dumps(env, ensure_ascii=False).encode(), channel="rest",
                          data_dir=settings.resolved_data_dir)
    deliveries.land_pending(database)
    with database.session() as s:
        _, result = messaging.inbox_result(s, envelope_id=env["id"])
        connections.transition(s, connection_id=court.connection_id, to="suspended")  # so: the portal
    report_id = result["quality_report"]
    make_user(database, "dataadmin", ["data_admin"])
    make_user(database, "court_op", ["unit_operator"], unit_code="SZCOURT")

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server, "dataadmin")
    page.goto(live_server + f"/#/quality/reports/{report_id}")
    page.click("[data-test=qr-correction]")
    expect(page.get_by_text("纠错单已发给单位")).to_be_visible()
    drawer = page.locator("[data-test=corr-drawer]")
    expect(drawer.locator("[data-test=corr-current-state]")).to_have_text("待单位处理")
    expect(drawer.locator("[data-test=corr-comparison]")).to_contain_text("单位尚未更正")
    context.clear_cookies()

    log_in(page, live_server, "court_op")
    page.goto(live_server + "/#/portal/corrections")
    page.locator("[data-test=corr-table] .el-table__row").first.click()
    table = page.locator("[data-test=corr-answer-table]")
    expect(table).to_be_visible()
    cells = table.locator(".el-table__row").first
    for code, value in ROWS[1].items():
        cells.locator(f"[data-test=corr-cell-{code}]").fill(value if code != "judge" else "周法官")
    page.click("[data-test=corr-answer]")
    expect(page.get_by_text("更正数据已提交")).to_be_visible()
    expect(drawer.locator("[data-test=corr-comparison]")).to_contain_text("变更 1")
    context.clear_cookies()

    log_in(page, live_server, "dataadmin")
    page.goto(live_server + "/#/corrections")
    page.locator("[data-test=corr-table] .el-table__row").first.click()
    expect(drawer.locator("[data-test=corr-comparison]")).to_contain_text("变更 1")
    page.click("[data-test=corr-close]")
    expect(drawer.locator("[data-test=corr-current-state]")).to_have_text("已关闭")
    assert errors == []
    context.close()
