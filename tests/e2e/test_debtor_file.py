"""In the browser: a court's delivery lands (the data admin sees it and the to-do card), and a case
handler opens the debtor's file, sees the facts by resource, masked, and shows the identity in full."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from pbshare.collect.deliveries import service as deliveries
from pbshare.exchange.messaging import service as messaging
from tests.channels.conftest import open_connection  # noqa: F401  (fixture)
from tests.collect.test_deliveries import GOOD_ID, ROWS, catalog  # noqa: F401  (fixture)
from tests.conftest import make_user
from tests.e2e.test_catalog import _login

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _patient_expect():
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


def test_delivery_landing_and_the_debtors_file(browser, live_server, database, settings, catalog,  # noqa: F811
                                                open_connection):  # noqa: F811
    court = open_connection("rest", unit_code="SZCOURT")
    for rows in (ROWS, ROWS[:2]):  # one rejected (a bad row), one accepted
        env = court.envelope(type="delivery", resource="101001", payload={"rows": rows})
        with database.session() as s:
            messaging.receive(s, raw=json.dumps(env).encode(), channel="rest", data_dir=settings.resolved_data_dir)
            s.commit()
        deliveries.land_pending(database)
    make_user(database, "dlv_admin", ["data_admin"])
    make_user(database, "dlv_handler", ["case_handler"])

    ctx, page = _login(browser, live_server, "dlv_admin")
    expect(page.locator("[data-test=todo-quarantine]")).to_have_text("1")
    expect(page.locator("[data-test=todo-rejected]")).to_have_text("1")
    page.goto(live_server + "/#/collect/deliveries")
    table = page.locator("[data-test=deliveries-table]")
    expect(table).to_contain_text("拒收")
    expect(table).to_contain_text("SZCOURT")
    expect(table.locator("tbody tr")).to_have_count(2)
    assert not page.js_errors, page.js_errors
    ctx.close()

    ctx, page = _login(browser, live_server, "dlv_handler")
    page.goto(live_server + "/#/debtors")
    page.click("[data-test='debtor-张三']")
    facts = page.locator("[data-test=debtor-facts]")
    expect(facts).to_contain_text("个人破产案件受理信息")
    expect(facts).to_contain_text("(2026)粤03破2号")
    expect(page.locator("[data-test=debtor-id]")).not_to_contain_text(GOOD_ID)
    page.click("[data-test=debtor-unmask]")
    page.locator(".el-message-box input").fill("核实债务人身份")
    page.locator(".el-message-box .el-button--primary").click()
    expect(page.locator("[data-test=debtor-id]")).to_have_text(GOOD_ID)
    assert not page.js_errors, page.js_errors
    ctx.close()
