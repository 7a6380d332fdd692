"""A data admin builds a pipeline in chromium (two steps, reordered by dragging; a push step's parameters shown and
checked on save), schedules it monthly on the last day with the picker and sees the next ten fire times, runs it
now and watches its progress (the running step's own bar moving) and logs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


def _pick(page, select: str, option: str) -> None:
    page.click(select)
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()
    expect(page.locator(".el-select-dropdown__item:visible")).to_have_count(0)  # closed before the next pick


def test_build_schedule_monthly_run_now_and_watch(page, live_server, database):
    make_user(database, "dataadmin", ["data_admin"])
    res = page.request.post(live_server + "/api/v1/auth/login", data={"username": "dataadmin", "password": PASSWORD})
    assert res.ok, res.text()
    page.goto(live_server + "/#/jobs/pipelines")
    page.click("[data-test=new-pipeline]")
    page.fill("[data-test=pipeline-name]", "月末整理")
    for i, (name, seconds) in enumerate([("短等待", "1"), ("长等待", "4")]):
        page.click("[data-test=add-step]")
        _pick(page, f"[data-test=step-kind-{i}]", "等待")
        page.fill(f"[data-test=step-name-{i}]", name)
        page.fill(f"[data-test=param-{i}-seconds] input", seconds)
    # drag the second step above the first
    page.drag_and_drop("[data-test=step-1]", "[data-test=step-0]")
    expect(page.locator("[data-test=step-name-0]")).to_have_value("长等待")
    expect(page.locator("[data-test=step-name-1]")).to_have_value("短等待")
    # the step kinds that reach other domains are in the builder with their parameters, checked on save
    page.click("[data-test=add-step]")
    _pick(page, "[data-test=step-kind-2]", "推送给订阅方")
    expect(page.locator("[data-test=step-2]")).to_contain_text("目录资源代码")
    page.fill("[data-test=param-2-resource]", "801 002")
    page.click("[data-test=save-pipeline]")
    expect(page.locator(".el-message--error")).to_contain_text("第 3 步")
    _pick(page, "[data-test=step-kind-2]", "与上次交付比对")
    expect(page.locator("[data-test=step-2]")).to_contain_text("业务主键")
    page.locator("[data-test=step-2] button", has_text="✕").click()
    expect(page.locator("[data-test=step-2]")).to_have_count(0)
    page.click("[data-test=save-pipeline]")
    expect(page.locator("[data-test=pipelines-table]")).to_contain_text("长等待 → 短等待")

    page.click("[data-test=schedule-月末整理]")
    expect(page).to_have_url(re.compile(r"/#/jobs/schedules\?pipeline="))  # the new-schedule dialog opens
    page.click("[data-test=kind-monthly]")
    _pick(page, "[data-test=picker-day]", "最后一天")
    page.fill("[data-test=picker-time]", "03:00")
    preview = page.locator("[data-test=picker-preview]")
    expect(preview).to_contain_text("每月最后一天 03:00")
    expect(page.locator("[data-test=next-fire]")).to_have_count(10)
    expect(page.locator("[data-test=next-fire]").first).to_contain_text("03:00")
    page.fill("[data-test=picker-time]", "27:00")  # a mistake says what to write
    expect(page.locator("[data-test=picker-problem]")).to_contain_text("时:分")
    page.fill("[data-test=picker-time]", "03:00")
    expect(page.locator("[data-test=next-fire]")).to_have_count(10)
    page.click("[data-test=save-schedule]")
    table = page.locator("[data-test=schedules-table]")
    expect(table).to_contain_text("每月最后一天 03:00")

    table.locator("[data-test=schedule-run-now]").first.click()
    expect(page.locator("[data-test=run-state]")).to_have_text("运行中")
    expect(page.locator("[data-test=run-step-state-0]")).to_have_text("运行中")
    # the running step reports how far it is, and the bar moves while it runs
    expect(page.locator("[data-test=run-step-count-0]")).to_contain_text("/ 4 秒")
    bar = page.locator("[data-test=run-step-progress-0]")
    first = int(bar.get_attribute("aria-valuenow") or "0")
    assert first < 100
    page.wait_for_function("""(first) => {
        const el = document.querySelector('[data-test=run-step-progress-0]');
        return el && Number(el.getAttribute('aria-valuenow')) > first;
    }""", arg=first, timeout=10_000)
    expect(page.locator("[data-test=run-state]")).to_have_text("成功", timeout=30_000)
    expect(page.locator("[data-test=run-progress]")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("[data-test=run-log-0]")).to_contain_text("waited 4 s")
    expect(page.locator("[data-test=run-log-1]")).to_contain_text("waited 1 s")
    page.goto(live_server + "/#/jobs/runs")
    expect(page.locator("[data-test=runs-table]")).to_contain_text("月末整理")
    expect(page.locator("[data-test=runs-table]")).to_contain_text("成功")
    page.goto(live_server + "/#/jobs/calendar")
    expect(page.locator("[data-test=calendar-entry]").first).to_contain_text("03:00 月末整理")
    page.goto(live_server + "/#/")
    expect(page.locator("[data-test=jobs-failed-count]")).to_have_text("0")
    assert page.js_errors == []


def test_a_compare_step_shows_its_comparison_on_the_run_page(page, live_server, database):
    """A pipeline that compares a table with its last snapshot: the first run says the history starts, the second
    shows the counts and links to the comparison."""
    from sqlalchemy import text

    from pbshare.jobs import service
    from pbshare.jobs.schemas import PipelineIn
    from pbshare.warehouse import service as warehouse

    def make(db) -> None:
        warehouse.create_topic(db, database, name="jobt", title="jobs test", exist_ok=True)
        warehouse.create_manual_table(db, database, topic="jobt", name="things", title="things", key=["code"],
                                      fields=[{"name": "code", "type": "string", "length": 8},
                                              {"name": "size", "type": "integer"}])
        service.create_pipeline(db, data=PipelineIn(name="比对物品", steps=[
            {"kind": "compare", "name": "比对物品表", "params": {"table": "jobt.things"}}]))

    database.write(make)

    def load(rows) -> None:
        with database.warehouse_engine.begin() as conn:
            conn.execute(text('DELETE FROM "jobt"."things"'))
            for code, size in rows:
                conn.execute(text('INSERT INTO "jobt"."things" (code, size) VALUES (:c, :s)'), {"c": code, "s": size})

    make_user(database, "dataadmin", ["data_admin"])
    res = page.request.post(live_server + "/api/v1/auth/login", data={"username": "dataadmin", "password": PASSWORD})
    assert res.ok, res.text()
    load([("a", 1), ("b", 2)])
    page.goto(live_server + "/#/jobs/pipelines")
    page.click("[data-test=run-比对物品]")
    expect(page.locator("[data-test=run-state]")).to_have_text("成功", timeout=30_000)
    expect(page.locator("[data-test=run-summary-0]")).to_contain_text("首次快照")

    load([("a", 1), ("b", 3), ("c", 4)])
    page.goto(live_server + "/#/jobs/pipelines")
    page.click("[data-test=run-比对物品]")
    expect(page.locator("[data-test=run-state]")).to_have_text("成功", timeout=30_000)
    summary = page.locator("[data-test=run-summary-0]")
    for words in ("新增 1", "删除 0", "变化 1", "未变 1"):
        expect(summary).to_contain_text(words)
    summary.locator("a", has_text="比对结果").click()
    expect(page).to_have_url(re.compile(r"/#/compare/"))
    assert page.js_errors == []
