"""Quarantine you can fix where you see it, in Debian's chromium: a file imported through the wizard has
one bad ID number; the data admin types the right one into the masked cell, re-checks and loads the row."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbshare.warehouse import service as warehouse
from tests.collect.conftest import people, write_csv
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


def test_fix_a_bad_id_in_the_grid_recheck_and_load(page, live_server, database, tmp_path):
    make_user(database, "dataadmin", ["data_admin"])
    with database.session() as db:
        warehouse.create_topic(db, database, name="case", title="案件专题库")
    rows = people(5, bad_ids=1)  # the first data row (line 3, under a title and the header) has a wrong check digit
    path = write_csv(tmp_path / "si_fix.csv", rows, title="社保缴费明细")
    res = page.request.post(live_server + "/api/v1/auth/login", data={"username": "dataadmin", "password": PASSWORD})
    assert res.ok, res.text()
    page.goto(live_server + "/#/collect/import")
    page.set_input_files("[data-test=import-file] input[type=file]", str(path))
    expect(page.locator(".el-alert--success")).to_contain_text("si_fix.csv")
    page.click("[data-test=to-preview]")
    page.click("[data-test=to-mapping]")
    page.click("[data-test=to-target]")
    page.click("[data-test=start-import]")
    expect(page.locator("[data-test=run-status]")).to_contain_text("成功", timeout=30_000)
    expect(page.locator("[data-test=wizard-quarantined]")).to_have_text("1")
    page.click("[data-test=view-run]")
    expect(page.locator("[data-test=run-quarantined]")).to_have_text("1")
    expect(page.locator("[data-test=run-loaded]")).to_have_text("4")
    expect(page.locator("[data-test=q-reason-3]")).to_contain_text("身份证号码无效")
    expect(page.locator("[data-test=q-masked-hint]")).to_be_visible()

    cell = page.locator('[data-test="q-cell-3-公民身份号码"]')
    expect(cell).to_have_value("")  # the mask is only a placeholder: it cannot be saved back
    expect(cell).to_have_attribute("placeholder", rows[0][1][:6] + "********" + rows[0][1][-4:])
    cell.fill(rows[0][1][:17] + "Y")  # a typo first: still bad, with its reason
    page.click("[data-test=q-recheck]")
    expect(page.locator("[data-test=q-state-3]")).to_contain_text("仍有问题")
    expect(page.locator("[data-test=q-reason-3]")).to_contain_text("身份证号码无效")
    expect(page.locator("[data-test=q-load]")).to_be_disabled()
    right = people(1, seed=2024)[0][1]
    cell.fill(right)
    page.click("[data-test=q-recheck]")
    expect(page.locator("[data-test=q-state-3]")).to_contain_text("可以装载")
    page.click("[data-test=q-load]")
    expect(page.locator(".el-message--success").last).to_contain_text("已装载 1 行")
    expect(page.locator("[data-test=run-quarantined]")).to_have_text("0")
    expect(page.locator("[data-test=run-loaded]")).to_have_text("5")
    expect(page.locator("[data-test=run-fixed]")).to_contain_text("已修正装载 1 行")
    expect(page.locator("[data-test=quarantine-table]")).to_have_count(0)  # nothing left to fix
    assert warehouse.count_rows(database, topic="case", name="si_fix") == 5
    assert page.js_errors == []
