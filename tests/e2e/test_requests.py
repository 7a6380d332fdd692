"""Requests to units in the browser: a handler asks on the case page, an operator answers in the unit portal
(desktop and a 375 px phone), the handler sees the answer on the case page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbshare.demo import catalog as demo_catalog
from pbshare.demo import service as demo_service
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


def _login(page, base: str, username: str) -> None:
    page.goto(base + "/#/login")
    expect(page.locator(".login-card")).to_be_visible()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-test=login-submit]")
    expect(page.locator("[data-test=welcome]")).to_be_visible()


# Desktop on SQLite and a 375 px phone on PostgreSQL: both widths and both databases, in two runs, not four.
@pytest.mark.parametrize(("backend", "width"), [("sqlite", 1280), ("postgresql", 375)])
def test_handler_asks_operator_answers_in_portal(browser, live_server, database, settings, backend, width):
    with database.session() as s:
        demo_service.load_units(s)
        demo_catalog.load_catalog(s)
        demo_service.load_cases(s, data_dir=settings.resolved_data_dir, count=1)
    make_user(database, "h_e2e", ["case_handler"])
    make_user(database, "pnr_e2e", ["unit_operator"], unit_code="SZPNR")
    phone = width < 768
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 800}, is_mobile=phone,
                                  has_touch=phone)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # the handler opens the case from the list and asks for the debtor's real estate
    _login(page, live_server, "h_e2e")
    page.goto(live_server + "/#/cases")
    page.locator("[data-test^=case-]").first.click()
    expect(page.locator("[data-test=case-title]")).to_contain_text("(演示)")
    expect(page.locator("[data-test=debtor-id]")).to_contain_text("********")
    page.click("[data-test=new-request]")
    page.click("[data-test=resources]")
    page.click("[data-test=res-201001]")
    page.keyboard.press("Escape")
    expect(page.locator("[data-test=default-due]")).to_contain_text("5 个工作日")
    page.fill("[data-test=purpose]", "调查债务人名下不动产")
    page.click("[data-test=send]")
    item = page.locator("[data-test=item-201001]")
    expect(item.locator("[data-test=item-state]")).to_have_text("待受理")
    expect(item).to_contain_text("单位门户")

    # the operator sees it on the home page and answers it in the portal
    page.context.clear_cookies()
    _login(page, live_server, "pnr_e2e")
    expect(page.locator("[data-test=count-todo]")).to_have_text("1")
    page.goto(live_server + "/#/portal")
    page.click("[data-test=portal-item-201001]")
    expect(page.locator("[data-test=subject-id]")).to_contain_text("********")
    page.click("[data-test=accept]")
    expect(page.locator("[data-test=state]")).to_have_text("已受理")
    page.fill("[data-test=f-owner_name]", "演示·权利人")
    page.fill("[data-test=f-unit_no]", "440303001001GB00001F0001")
    page.fill("[data-test=f-location]", "深圳市罗湖区演示路1号")
    page.fill("[data-test=f-area_m2]", "abc")
    page.click("[data-test=submit-answer]")
    expect(page.locator(".el-message--error")).to_contain_text("area_m2")
    page.fill("[data-test=f-area_m2]", "89.5")
    page.click("[data-test=submit-answer]")
    expect(page.locator("[data-test=state]")).to_have_text("已答复")
    expect(page.locator("[data-test=our-answer]")).to_contain_text("深圳市罗湖区****")
    if phone:
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1

    # the handler sees the answer on the case page, masked, and marks it checked
    page.context.clear_cookies()
    _login(page, live_server, "h_e2e")
    expect(page.locator("[data-test=todo-answered]")).to_have_text("1")
    page.goto(live_server + "/#/cases")
    page.locator("[data-test^=case-]").first.click()
    item = page.locator("[data-test=item-201001]")
    expect(item.locator("[data-test=item-state]")).to_have_text("已答复")
    expect(item.locator("[data-test=answer]")).to_contain_text("演示·权利人")
    expect(item.locator("[data-test=answer]")).to_contain_text("深圳市罗湖区****")
    item.locator("[data-test=check]").click()
    expect(item.locator("[data-test=item-state]")).to_have_text("已核验")
    item.locator("[data-test=answer-full]").click()  # asks for a purpose, audited
    page.fill(".el-message-box__input input", "核对不动产坐落")
    page.click(".el-message-box__btns .el-button--primary")
    expect(item.locator("[data-test=answer]")).to_contain_text("深圳市罗湖区演示路1号")
    assert errors == []
    context.close()
