"""A data admin opens a quality report in chromium (list → report: verdict, scores, rule table with masked
samples), then overrides the verdict with a reason; the page shows the new verdict and who changed it."""

from __future__ import annotations

import polars as pl
import pytest
from playwright.sync_api import expect

from pbshare.collect.runs import flows
from pbshare.quality.reports import service as reports
from pbshare.quality.rules import engine
from pbshare.quality.rules.engine import Rule, Severity
from pbshare.warehouse import service as warehouse
from tests.collect.conftest import people, spec, write_csv
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


def _report(database) -> str:
    frame = pl.DataFrame({"__line": [2, 3, 4, 5], "id_no": ["110101199003071234", "110101199003071235",
                                                           "110101199003071236", "110101199003071237"],
                          "age": [30, 200, 40, -1], "phone": ["x", None, "13812345679", "13812345678"]})
    rules = [Rule(kind="range", columns=("age",), params={"min": 0, "max": 150}, name="年龄范围"),
             Rule(kind="format", columns=("phone",), params={"pattern": "1[3-9][0-9]{9}"}, name="手机号格式",
                  severity=Severity.warning)]
    ev = engine.evaluate(frame, rules, key=["id_no"], personal=["id_no"])
    with database.session() as db:
        return reports.record_report(db, subject_kind="delivery", subject_id="env-0001", resource_code=None,
                                     unit_code=None, evaluation=ev, rows=4, target="case.people").id


def test_open_a_report_and_override_its_verdict(page, live_server, database):
    make_user(database, "dataadmin", ["data_admin"])
    report_id = _report(database)
    res = page.request.post(live_server + "/api/v1/auth/login", data={"username": "dataadmin", "password": PASSWORD})
    assert res.ok, res.text()
    page.goto(live_server + "/#/quality/reports")
    expect(page.locator("[data-test=qr-table]")).to_contain_text("case.people")
    expect(page.locator("[data-test=qr-verdict]").first).to_have_text("不通过")  # 2 of 4 rows over the limit
    page.locator("[data-test=qr-open]").first.click()
    expect(page).to_have_url(f"{live_server}/#/quality/reports/{report_id}")
    expect(page.locator("[data-test=qr-report-verdict]")).to_have_text("不通过")
    expect(page.locator("[data-test=qr-error-rows]")).to_have_text("2")
    expect(page.locator("[data-test=qr-warning-rows]")).to_have_text("1")
    expect(page.locator("[data-test=qr-failed-0]")).to_have_text("2")
    expect(page.locator("[data-test=qr-radar] canvas")).to_have_count(1)
    rules = page.locator("[data-test=qr-rules]")
    expect(rules).to_contain_text("年龄范围")
    rules.locator(".el-table__expand-icon").first.click()
    expect(rules).to_contain_text("110101********1235")  # the business key, masked
    expect(rules).not_to_contain_text("110101199003071235")

    page.click("[data-test=qr-override]")
    dialog = page.locator("[data-test=qr-override-dialog]")
    dialog.locator("[data-test=qr-new-accepted_with_warnings]").click()
    dialog.locator("[data-test=qr-override-save]").click()
    expect(page.locator(".el-message--warning")).to_contain_text("理由")  # no reason: asked for one
    dialog.locator("textarea[data-test=qr-reason]").fill("来源系统年龄字段单位为月，已与数源单位确认")
    dialog.locator("[data-test=qr-override-save]").click()
    expect(page.locator("[data-test=qr-report-verdict]")).to_have_text("通过（有警告）")
    expect(page.locator("[data-test=qr-override-note]")).to_contain_text("dataadmin")
    expect(page.locator("[data-test=qr-override-note]")).to_contain_text("已与数源单位确认")

    page.goto(live_server + "/#/quality/reports")  # the weights of later reports
    page.click("[data-test=qr-weights]")
    box = page.locator("[data-test=qr-weight-validity]")
    box = box if box.evaluate("e => e.tagName") == "INPUT" else box.locator("input")
    expect(box).to_have_value("30")
    box.fill("50")
    page.click("[data-test=qr-weights-save]")
    expect(page.locator(".el-message--success", has_text="评分权重已保存")).to_be_visible()
    assert page.request.get(live_server + "/api/v1/quality/scoring").json()["weights"]["validity"] == 50
    assert page.js_errors == []


def test_the_run_page_links_to_its_quality_report(page, live_server, database, tmp_path):
    make_user(database, "dataadmin", ["data_admin"])
    with database.session() as db:
        warehouse.create_topic(db, database, name="case", title="案件专题库")
    run = flows.run_now(database, spec=spec(write_csv(tmp_path / "si.csv", people(20, bad_ids=2))), run_by="tester",
                        trusted=True)
    res = page.request.post(live_server + "/api/v1/auth/login", data={"username": "dataadmin", "password": PASSWORD})
    assert res.ok, res.text()
    page.goto(f"{live_server}/#/collect/runs/{run.id}")
    page.click("[data-test=run-quality-report]")
    expect(page.locator("[data-test=qr-report-verdict]")).to_have_text("不通过")  # 2 of 20 IDs invalid: 10 % > 5 %
    expect(page.locator("[data-test=qr-error-rows]")).to_have_text("2")
    expect(page.locator("[data-test=qr-rules]")).to_contain_text("身份证号码无效")
    assert page.js_errors == []
