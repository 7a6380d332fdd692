"""Delivery comparison in Debian's chromium: the list, one comparison (counts, flags, filter by kind,
old → new highlighted, masked identifiers), and a record's history on the history page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from playwright.sync_api import expect

from pbshare.compare import service as compare
from pbshare.warehouse import service as warehouse
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _deliver(database, rows: list[tuple[str, str, str]], n: int) -> None:
    frame = pl.DataFrame({"rec_no": [r[0] for r in rows], "name": [r[1] for r in rows], "id_no": [r[2] for r in rows]})
    with database.session() as db:
        compare.compare_delivery(db, resource_code=None, unit_code=None, target="case.people", delivery_id=f"run-{n}",
                                 delivery_kind="import_run", frame=frame, key=["rec_no"],
                                 data_dir=database.settings.resolved_data_dir, at=T0 + timedelta(days=n))


def test_open_a_comparison_and_a_record_history(page, live_server, database):
    make_user(database, "dataadmin", ["data_admin"])
    with database.session() as db:
        warehouse.create_topic(db, database, name="case", title="案件专题库")
    _deliver(database, [("1", "演示·张三", "440301199001011234"), ("2", "演示·李四", "44030119900202123X"),
                        ("3", "演示·王五", "440301199003031235")], 0)
    _deliver(database, [("1", "演示·张三", "440301199001011234"), ("2", "演示·李四改", "44030119900202123X"),
                        ("4", "演示·赵六", "440301199004041236")], 1)
    res = page.request.post(live_server + "/api/v1/auth/login", data={"username": "dataadmin", "password": PASSWORD})
    assert res.ok, res.text()
    page.goto(live_server + "/#/compare")
    # the table by its topic's title (the table itself is not registered here), chosen by that name in the filter
    expect(page.locator("[data-test=cmp-list]")).to_contain_text("案件专题库 · people")
    page.click("[data-test=cmp-filter-target]")
    page.locator(".el-select-dropdown__item:visible", has_text="案件专题库 · people").click()
    expect(page.locator("[data-test=cmp-list]")).to_contain_text("案件专题库 · people")
    page.locator("[data-test^=cmp-open-]").first.click()
    expect(page.locator("[data-test=cmp-delivery]")).to_have_text("run-1")
    expect(page.locator("[data-test=cmp-added]")).to_contain_text("1")
    expect(page.locator("[data-test=cmp-removed]")).to_contain_text("1")
    expect(page.locator("[data-test=cmp-changed]")).to_contain_text("1")
    expect(page.locator("[data-test=cmp-unchanged]")).to_contain_text("1")
    expect(page.locator("[data-test=cmp-flag-mass_change]")).to_be_visible()  # 2 of 3 records changed or went
    rows = page.locator("[data-test=cmp-rows]")
    expect(rows).to_contain_text("演示·赵六")
    expect(rows).to_contain_text("440301********1236")  # identifiers masked
    page.locator("[data-test=cmp-kind] label", has_text="变更").click()
    change = page.locator("[data-test=cmp-change-name]")
    expect(change).to_have_count(1)
    expect(change.locator(".cmp-old")).to_have_text("演示·李四")
    expect(change.locator(".cmp-new")).to_have_text("演示·李四改")
    expect(rows).not_to_contain_text("演示·赵六")

    page.goto(live_server + "/#/compare-history")
    page.fill("[data-test=hist-key-rec_no]", "2")
    page.click("[data-test=hist-show]")
    versions = page.locator("[data-test=hist-versions]")
    expect(versions).to_contain_text("演示·李四改")
    expect(versions).to_contain_text("run-0")
    expect(versions.locator(".el-timeline-item")).to_have_count(2)
