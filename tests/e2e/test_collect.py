"""The import wizard in Debian's chromium: upload a GBK CSV, preview its problems, run with progress,
see the quarantine, then re-run the saved profile from the profiles page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbshare.warehouse import service as warehouse
from tests.collect.conftest import people, write_csv
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import browser, live_server, page  # noqa: F401 - shared browser fixtures

pytestmark = pytest.mark.browser


def test_import_a_csv_through_the_wizard(page, live_server, database, tmp_path):  # noqa: F811
    make_user(database, "dataadmin", ["data_admin"])
    with database.session() as db:
        warehouse.create_topic(db, database, name="case", title="案件专题库")
    csv_path = write_csv(tmp_path / "si_202301.csv", people(30, bad_ids=3), encoding="gbk", title="社保缴费明细")
    page.goto(live_server + "/")
    page.fill("input[name=username]", "dataadmin")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-test=login-submit]")
    expect(page.locator("[data-test=welcome]")).to_be_visible(timeout=15_000)
    page.goto(live_server + "/#/collect/import")
    page.set_input_files("[data-test=import-file]", str(csv_path))
    expect(page.locator(".el-alert--success")).to_contain_text("si_202301.csv")
    expect(page.locator("[data-test=target-table]")).to_have_value("si_202301")
    page.fill("[data-test=target-table]", "si_monthly")
    page.click("[data-test=to-preview]")
    expect(page.locator("[data-test=preview-problems]")).to_contain_text("3")
    expect(page.locator("[data-test=preview-table]")).to_contain_text("身份证号码无效")
    expect(page.locator("[data-test=preview-table]")).to_contain_text("****")  # IDs masked in the preview
    page.click("[data-test=to-mapping]")
    first_target = page.locator("[data-test=mapping-table] input").first
    expect(first_target).to_have_value("c1")
    first_target.fill("debtor_name")  # the user names the field in the mapping step
    page.click("[data-test=to-target]")
    page.click("[data-test=save-profile] .el-switch")
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
    expect(page.locator("[data-test=run-status]")).to_contain_text("成功", timeout=30_000)
    page.goto(live_server + "/#/warehouse")
    expect(page.locator("[data-test=wh-tables]")).to_contain_text("si_monthly")
    page.click("[data-test=browse-si_monthly]")
    expect(page.locator("[data-test=wh-rows]")).to_contain_text("演示·人员")
    assert warehouse.count_rows(database, topic="case", name="si_monthly") == 54  # appended twice
    with database.session() as db:
        names = [c["name"] for c in warehouse.get_table(db, topic="case", name="si_monthly").columns]
    assert "debtor_name" in names
    assert page.js_errors == []
