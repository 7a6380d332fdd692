"""Issue 16's "done when": in chromium a data admin builds a bar chart from a topic table by drag and drop with a
"contains" filter and a date-range filter, puts it on a dashboard beside a KPI card, views the dashboard at
375 px (tiles stacked, nothing wider than the phone) and exports it to PDF and Excel; the report viewer's home
page shows the built-in dashboards with live figures from the demo data."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import insert

from pbshare.demo import service as demo_service
from pbshare.exchange.cases import service as cases_service
from pbshare.warehouse import service as warehouse
from tests.conftest import PASSWORD, make_user
from tests.reports.conftest import rows

pytestmark = pytest.mark.browser


def _pick(page, select: str, option: str) -> None:
    page.click(select)
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()
    expect(page.locator(".el-select-dropdown__item:visible")).to_have_count(0)


def _debts(database, settings) -> None:
    with database.session() as db:
        warehouse.create_topic(db, database, name="rpt", title="报表测试")
        warehouse.create_table(db, database, topic="rpt", name="debts", title="债权", fields=[
            {"name": "name", "title": "名称"}, {"name": "district", "title": "区"}, {"name": "unit", "title": "单位"},
            {"name": "amount", "type": "decimal", "title": "金额"},
            {"name": "accepted_on", "type": "date", "title": "受理日期"}, {"name": "note", "title": "备注"},
            {"name": "id_no", "title": "身份证号", "pii": True, "id_kind": "cn_ric"}])
    table = warehouse.topic_store(database).reflect_table("rpt", "debts")
    with database.warehouse_engine.begin() as conn:
        conn.execute(insert(table), rows(settings))


def _new_report(page, live_server, title: str) -> None:
    page.goto(live_server + "/#/reports/builder")
    page.fill("[data-test=report-title]", title)
    _pick(page, "[data-test=source]", "rpt.debts")
    expect(page.locator("[data-test=field-amount]")).to_be_visible()


def _drag(page, field: str, zone: str) -> None:
    page.locator(f"[data-test=field-{field}]").scroll_into_view_if_needed()
    page.drag_and_drop(f"[data-test=field-{field}]", f"[data-test=zone-{zone}]")


def test_bar_chart_by_drag_and_drop_on_a_dashboard_at_375px_exported(page, live_server, database, settings):
    _debts(database, settings)
    make_user(database, "builder", ["data_admin"])
    assert page.request.post(live_server + "/api/v1/auth/login",
                             data={"username": "builder", "password": PASSWORD}).ok

    # the query page: a pivot of district × unit with totals, exported to CSV
    page.goto(live_server + "/#/reports/query")
    _pick(page, "[data-test=source]", "rpt.debts")
    expect(page.locator("[data-test=field-amount]")).to_be_visible()
    _drag(page, "district", "rows")
    _drag(page, "unit", "cols")
    _drag(page, "amount", "values")
    page.click("[data-test=run]")
    pivot = page.locator("[data-test=result] [data-test=pivot]")
    expect(pivot).to_contain_text("市法院")
    expect(pivot.locator("tr", has_text="南山区")).to_contain_text("3000")  # 300 + 600 + 900 + 1200, its total
    with page.expect_download() as dl:
        page.click("[data-test=export-csv]")
    assert "南山区" in Path(dl.value.path()).read_text(encoding="utf-8-sig")

    _new_report(page, live_server, "一季度各区债权")
    _drag(page, "district", "rows")
    _drag(page, "amount", "values")
    _drag(page, "name", "filters")
    _drag(page, "accepted_on", "filters")
    expect(page.locator("[data-test=filter-name]")).to_be_visible()
    page.fill("[data-test=value-name]", "债权")  # contains (the default for text)
    page.fill("[data-test=value-accepted_on]", "2026-01-01")  # between (the default for dates)
    page.fill("[data-test=value2-accepted_on]", "2026-03-31")
    page.click("[data-test=type-bar]")
    with page.expect_response(re.compile(r"/api/v1/query$")) as resp:
        page.click("[data-test=preview]")
    assert {r["district"]: r["sum_amount"] for r in resp.value.json()["rows"]} == {"福田区": 800, "罗湖区": 1000,
                                                                                   "南山区": 1200}
    expect(page.locator("[data-test=chart-bar] canvas")).to_be_visible()
    page.click("[data-test=type-map]")  # the same figures on the districts of Shenzhen
    expect(page.locator("[data-test=chart-map] canvas")).to_be_visible()
    page.click("[data-test=type-bar]")
    expect(page.locator("[data-test=chart-bar] canvas")).to_be_visible()
    page.click("[data-test=save-report]")
    expect(page).to_have_url(re.compile(r"/#/reports/builder/[0-9a-f-]+$"))

    _new_report(page, live_server, "债权笔数")
    _drag(page, "name", "values")
    page.click("[data-test=type-kpi]")
    page.click("[data-test=preview]")
    expect(page.locator("[data-test=kpi] .num")).to_have_text("12")
    page.click("[data-test=save-report]")
    expect(page).to_have_url(re.compile(r"/#/reports/builder/[0-9a-f-]+$"))

    page.goto(live_server + "/#/reports/dashboards")
    page.click("#tab-mine")
    page.click("[data-test=new-dashboard]")
    page.fill("[data-test=dashboard-name]", "债权看板")
    page.click("[data-test=create-dashboard]")
    expect(page.locator("[data-test=dashboard-title]")).to_have_text("债权看板")
    page.click("[data-test=edit-layout]")
    for title in ("一季度各区债权", "债权笔数"):
        _pick(page, "[data-test=add-tile]", title)
        page.click("[data-test=add-tile-btn]")
    page.click("[data-test=save-layout]")
    expect(page.locator("[data-test=grid] [data-test=kpi] .num")).to_have_text("12")
    expect(page.locator("[data-test=grid] [data-test=chart-bar] canvas")).to_be_visible()

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    expect(page.locator("[data-test=grid] [data-test=kpi] .num")).to_have_text("12")
    bar, kpi = page.locator("[data-test=tile-0]").bounding_box(), page.locator("[data-test=tile-1]").bounding_box()
    assert bar and kpi and kpi["y"] >= bar["y"] + bar["height"] - 1  # stacked, in reading order
    assert bar["width"] <= 375 and abs(bar["x"] - kpi["x"]) < 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 376

    with page.expect_download() as dl:
        page.click("[data-test=export-pdf]")
    assert Path(dl.value.path()).read_bytes()[:4] == b"%PDF"
    with page.expect_download() as dl:
        page.click("[data-test=export-xlsx]")
    wb = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    assert wb.sheetnames == ["一季度各区债权", "债权笔数"] and wb["债权笔数"]["A2"].value == 12
    assert page.js_errors == []


def test_viewer_home_shows_builtin_dashboards_with_demo_figures(page, live_server, database, settings):
    with database.session() as db:
        demo_service.run(db, data_dir=settings.resolved_data_dir, cases=12, database=database)
    with database.session() as db:
        total = sum(cases_service.cases_by_stage(db).values())
    assert page.request.post(live_server + "/api/v1/auth/login",
                             data={"username": "viewer", "password": demo_service.DEMO_PASSWORD}).ok
    page.goto(live_server + "/#/")
    expect(page.locator("[data-test=builtin]")).to_be_visible()
    expect(page.locator("[data-test=kpi-cases_total] .num")).to_have_text(str(total))
    expect(page.locator("[data-test=builtin] canvas").first).to_be_visible()
    page.get_by_role("tab", name="查询请求").click()
    expect(page.locator("[data-test=kpi-requests_total] .num")).to_have_text(re.compile(r"^\d+$"))
    assert page.js_errors == []
