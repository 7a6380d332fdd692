"""A person stops a runaway dataset build from the browser: 取消 ends it, the old table stays whole."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbshare.collect.derived import datasets
from pbshare.collect.derived.schemas import DatasetIn
from pbshare.warehouse import service as warehouse
from tests.collect.test_query_limits import RUNAWAY
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


def test_cancel_a_running_dataset_build(page, live_server, database):
    make_user(database, "dataadmin", ["data_admin"])
    with database.session() as db:
        warehouse.create_topic(db, database, name="case", title="案件专题库")
    with database.session() as db:
        ds = datasets.save_dataset(db, data=DatasetIn(name="runaway", title="失控查询", sql="SELECT 1 AS c",
                                                      target_topic="case"))
        datasets.refresh_dataset(db, database, dataset_id=ds.id)
    with database.session() as db:
        datasets.save_dataset(db, data=DatasetIn(name="runaway", title="失控查询", sql=RUNAWAY, target_topic="case"),
                              dataset_id=ds.id)
    res = page.request.post(live_server + "/api/v1/auth/login", data={"username": "dataadmin", "password": PASSWORD})
    assert res.ok, res.text()
    page.goto(live_server + "/#/collect/datasets")
    row = page.locator("[data-test=datasets-table] .el-table__row", has_text="失控查询")
    row.locator("[data-test=derived-refresh]").click()
    expect(row.locator("[data-test=derived-running]")).to_be_visible()
    row.locator("[data-test=derived-cancel]").click()
    expect(page.locator(".el-message--error")).to_contain_text("已取消", timeout=15_000)
    expect(row.locator("[data-test=derived-refresh]")).to_be_visible()
    assert warehouse.count_rows(database, topic="case", name="runaway") == 1  # the old table, whole
