"""The browser shell: log in, change the first password, switch language, phone layout, log out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbshare.demo import service as demo_service
from pbshare.security.identity import service as security_service
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


def _login(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/")
    expect(page.locator(".login-card")).to_be_visible()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-test=login-submit]")


def test_login_switch_language_and_logout(page, live_server, database, settings):
    with database.session() as s:
        demo_service.load_units(s)
        demo_service.load_cases(s, data_dir=settings.resolved_data_dir, count=10)
    make_user(database, "handler1", ["case_handler"])
    _login(page, live_server, "handler1", "wrong-password")
    expect(page.locator("[data-test=login-error]")).to_contain_text("用户名或密码不正确")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-test=login-submit]")
    expect(page.locator("[data-test=welcome]")).to_contain_text("欢迎")
    expect(page.locator("[data-test='nav-/cases']")).to_contain_text("案件")
    expect(page.locator(".chart canvas")).to_have_count(1)

    page.click("[data-test=lang-switch]")
    page.click("[data-test=lang-en]")
    expect(page.locator("[data-test=welcome]")).to_contain_text("Welcome")
    expect(page.locator("[data-test='nav-/cases']")).to_contain_text("Cases")

    page.click("[data-test='nav-/cases']")
    expect(page.locator(".el-table")).to_contain_text("演示·")
    expect(page.locator(".el-table")).to_contain_text("********")

    page.click("[data-test=user-menu]")
    page.click("[data-test=logout]")
    expect(page.locator(".login-card")).to_be_visible()
    assert page.js_errors == []


def test_first_login_forces_password_change(page, live_server, database):
    with database.session() as s:
        _, one_time = security_service.create_user(s, username="first", display_name="首登用户", unit_code="SZBA",
                                                   roles=["data_admin"])
    _login(page, live_server, "first", one_time)
    expect(page.locator("[data-test=pwd-submit]")).to_be_visible()
    page.fill("input[name=old]", one_time)
    page.fill("input[name=new]", "Fresh#pass2026")
    page.fill("input[name=repeat]", "Fresh#pass2026")
    page.click("[data-test=pwd-submit]")
    expect(page.locator("[data-test=welcome]")).to_contain_text("首登用户")
    assert page.js_errors == []


def test_phone_layout(browser, live_server, database):
    make_user(database, "mobile", ["case_handler"])
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    _login(page, live_server, "mobile", PASSWORD)
    expect(page.locator("[data-test=welcome]")).to_be_visible()
    # No horizontal scrolling at a phone's width; the menu lives in a drawer behind a button.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    expect(page.locator(".el-aside")).to_have_count(0)
    page.click("[data-test=menu-toggle]")
    page.click("[data-test='nav-/cases']")
    expect(page.locator(".page-title")).to_contain_text("案件")
    expect(page.locator(".mobile-drawer")).to_be_hidden()
    expect(page.locator(".el-table")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
