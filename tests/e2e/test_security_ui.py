"""Browser: enrol TOTP with the QR page and log in with a code; the security pages work for their roles."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from pbshare.core.clock import utcnow
from pbshare.security.audit import service as audit
from tests.conftest import PASSWORD, make_user
from tests.e2e.widgets import pick

pytestmark = pytest.mark.browser


def _login(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.set_default_timeout(20000)  # the machine is shared: allow for a slow argon2 check under load
    page.goto(base + "/#/login")
    expect(page.locator(".login-card")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the router's first /auth/me has answered; the form stays put
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-test=login-submit]")


def test_enrol_totp_then_log_in_with_a_code(page, live_server, database):
    make_user(database, "twofactor", ["case_handler"])
    _login(page, live_server, "twofactor")
    expect(page.locator("[data-test=welcome]")).to_be_visible(timeout=15000)
    expect(page.locator("[data-test='nav-/account']")).to_be_visible()
    page.goto(live_server + "/#/account")
    expect(page.locator("[data-test=totp-state]")).to_contain_text("未启用")
    page.click("[data-test=totp-start]")
    qr = page.locator("[data-test=totp-qr]")
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('[data-test=totp-qr]').naturalWidth") > 0
    secret = page.locator("[data-test=totp-secret]").inner_text().strip()
    otp = pyotp.TOTP(secret)
    page.fill("input[name=totp-code]", otp.now())
    page.click("[data-test=totp-confirm]")
    codes = page.locator("[data-test=recovery-codes] span")
    expect(codes).to_have_count(10)
    # shown once, in the secret dialog that says so and offers copy and download
    expect(page.locator("[data-test=secret-once]")).to_contain_text("只显示这一次")
    expect(page.locator("[data-test=secret-download]")).to_be_visible()
    page.click("[data-test=secret-close]")
    expect(codes).to_have_count(0)
    expect(page.locator("[data-test=totp-state]")).to_contain_text("已启用")

    page.click("[data-test=user-menu]")
    page.click("[data-test=logout]")
    expect(page.locator(".login-card")).to_be_visible()
    _login(page, live_server, "twofactor")
    expect(page.locator("[data-test=login-error]")).to_contain_text("验证码")
    totp_input = page.locator("input[name=totp]")
    expect(totp_input).to_be_visible()
    # the confirmation spent the current step's code; the next step's is accepted once
    totp_input.fill(otp.at(utcnow() + timedelta(seconds=30)))
    page.click("[data-test=login-submit]")
    expect(page.locator("[data-test=welcome]")).to_be_visible(timeout=15000)
    assert page.js_errors == []


def test_security_pages_for_the_security_admin_and_the_auditor(page, live_server, database):
    make_user(database, "secadm", ["security_admin"])
    make_user(database, "audi", ["auditor"])
    with database.session() as s:
        audit.record(s, action="catalog.publish", actor_name="someone", object_type="resource", object_id="101001")
    _login(page, live_server, "secadm")
    expect(page.locator("[data-test=welcome]")).to_be_visible(timeout=15000)
    page.goto(live_server + "/#/security/api-clients")
    page.click("[data-test=client-new]")
    pick(page, "[data-test=client-unit]", "szba", "SZBA")
    page.fill("input[name=client-name]", "署内测试系统")
    page.click("[data-test=client-save]")
    secret = page.locator("[data-test=client-secret]")
    expect(secret.locator("[data-test=secret-once]")).to_contain_text("只显示这一次")
    assert re.search(r"共享密钥: [0-9a-f]{64}$", secret.locator("[data-test=secret-text]").inner_text())
    page.keyboard.press("Escape")
    expect(page.locator("[data-test=clients-table]")).to_contain_text("署内测试系统")
    page.goto(live_server + "/#/security/policy")
    expect(page.locator("[data-test=policy-form]")).to_be_visible()
    page.click("[data-test=retention-dry]")
    expect(page.get_by_text("case.discharged：到期 0 条")).to_be_visible()
    page.goto(live_server + "/#/security/roles")
    expect(page.locator("[data-test=role-matrix]")).to_contain_text("查看审计日志")
    page.click("[data-test=user-menu]")
    page.click("[data-test=logout]")
    expect(page.locator(".login-card")).to_be_visible()

    _login(page, live_server, "audi")
    expect(page.locator("[data-test=welcome]")).to_be_visible(timeout=15000)
    page.goto(live_server + "/#/security/audit")
    # Actions are offered and shown by their labels, never as codes like api_client.create.
    page.click("[data-test=audit-action]")
    page.keyboard.type("API 客户端")
    page.locator(".el-select-dropdown__item:visible", has_text="API 客户端").first.click()
    page.click("[data-test=audit-search]")
    expect(page.locator("[data-test=audit-table]")).to_contain_text("API 客户端·新建")
    expect(page.locator("[data-test=audit-table]")).not_to_contain_text("api_client.create")
    page.click("[data-test=audit-verify]")
    expect(page.locator("[data-test=audit-report]")).to_contain_text("审计链完整")
    with page.expect_download() as dl:
        page.click("[data-test=audit-export]")
    assert dl.value.suggested_filename.endswith(".xlsx")
    assert page.js_errors == []


def test_an_admin_without_a_second_factor_is_sent_to_enrol(page, live_server, database):
    from pbshare.security.identity.policy import update_policy

    with database.session() as s:
        update_policy(s, changes={"totp_grace_days": 0}, actor="test")
    make_user(database, "newadmin", ["sys_admin"])
    _login(page, live_server, "newadmin")
    expect(page.locator("[data-test=totp-start]")).to_be_visible()
    assert page.url.endswith("#/account")
    page.goto(live_server + "/#/users")
    expect(page.locator("[data-test=totp-start]")).to_be_visible()
    page.click("[data-test=totp-start]")
    otp = pyotp.TOTP(page.locator("[data-test=totp-secret]").inner_text().strip())
    page.fill("input[name=totp-code]", otp.now())
    page.click("[data-test=totp-confirm]")
    expect(page.locator("[data-test=recovery-codes] span")).to_have_count(10)
    expect(page.locator("[data-test=totp-state]")).to_contain_text("已启用")  # the session is a full one now
    page.goto(live_server + "/#/users")
    expect(page.locator("[data-test=users-table]")).to_contain_text("newadmin")
