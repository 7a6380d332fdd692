"""A data admin creates a resource in the browser, the source unit's operator and the office record
their consents, and the admin publishes it; then the catalog pages for lineage and units render."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from pbshare.demo import catalog as demo_catalog
from pbshare.demo import service as demo_service
from pbshare.metadata import service as metadata_service
from tests.conftest import make_user
from tests.e2e.conftest import signed_in
from tests.e2e.widgets import answer, confirm_box

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _patient_expect():
    # Logins hash with argon2id and the machine is shared: allow more than the 5 s default.
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


def _login(browser, base: str, username: str):
    return signed_in(browser, base, username)


def _pick(page, select: str, option: str) -> None:
    page.click(f"[data-test={select}]")
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def test_create_consult_and_publish_a_resource(browser, live_server, database):
    with database.session() as s:
        demo_service.load_units(s)
    make_user(database, "dadmin", ["data_admin"])
    make_user(database, "pnr_op", ["unit_operator"], unit_code="SZPNR")

    ctx, page = _login(browser, live_server, "dadmin")
    page.click("[data-test='nav-/catalog']")
    expect(page.locator(".page-title")).to_contain_text("共享目录")
    page.click("[data-test=cat-new]")
    page.fill("[data-test=ed-code]", "201009")
    page.fill("[data-test=ed-name]", "不动产查封登记信息")
    page.fill("[data-test=ed-abstract]", "债务人名下不动产查封、解封登记")
    _pick(page, "ed-provider", "深圳市规划和自然资源局")
    page.click("[data-test=ed-add-item]")
    page.fill("[data-test=item-code-0]", "seal_no")
    page.fill("[data-test=item-name-0]", "查封文号")
    page.fill("[data-test=item-length-0]", "64")
    # checking before the share condition is filled: the problem stands at that field, not as a field path
    page.click("[data-test=ed-check]")
    condition = page.locator(".el-form-item", has=page.locator("[data-test=ed-condition]"))
    expect(condition.locator(".el-form-item__error")).to_have_text("有条件共享须写明共享条件")
    expect(condition).to_be_in_viewport()
    expect(page.locator("[data-test=editor-problems]")).to_have_count(0)
    page.fill("[data-test=ed-condition]", "仅用于个人破产案件财产调查")
    _pick(page, "ed-key", "seal_no")
    page.click("[data-test=ed-save]")
    expect(page.locator("[data-test=res-title]")).to_contain_text("201009 不动产查封登记信息")
    expect(page.locator("[data-test=res-state]")).to_have_text("草稿")

    page.click("[data-test=res-consult]")
    # sending to consultation asks first, naming the parties
    expect(confirm_box(page)).to_contain_text("深圳市规划和自然资源局")
    answer(page, yes=True)
    expect(page.locator("[data-test=res-state]")).to_have_text("征求意见中")
    page.click("#tab-consult")
    consents = page.locator("[data-test=consents]")
    expect(consents).to_contain_text("深圳市规划和自然资源局")
    expect(consents).to_contain_text("深圳市政务服务和数据管理局")
    expect(page.locator("[data-test=res-publish]")).to_be_disabled()
    # publishing waits for the consents, and its tooltip says whose
    page.hover("[data-test=res-publish-wrap]")
    expect(page.locator(".el-popper:visible", has_text="尚未同意")).to_contain_text("深圳市规划和自然资源局")
    # the office records the data authority's consent on its behalf: only with the evidence, and marked so
    page.click("[data-test=consent-SZGDATA]")
    page.fill("[data-test=consent-comment]", "同意纳入目录")
    expect(page.locator("[data-test=on-behalf-hint]")).to_be_visible()
    expect(page.locator("[data-test=consent-save]")).to_be_disabled()
    page.fill("[data-test=consent-evidence]", "深政数函〔2026〕12号")
    page.click("[data-test=consent-save]")
    expect(consents).to_contain_text("同意纳入目录")
    expect(consents.locator("tr", has_text="政务服务和数据管理局").locator("[data-test=on-behalf]")).to_be_visible()

    # the source unit's operator sees only its own unit's button and agrees
    ctx2, op = _login(browser, live_server, "pnr_op")
    op.goto(live_server + "/#/catalog")
    expect(op.locator("[data-test=cat-waiting]")).to_contain_text("201009 不动产查封登记信息")
    op.locator("[data-test=cat-waiting] button").first.click()
    op.click("#tab-consult")
    expect(op.locator("[data-test=consent-SZPNR]")).to_be_visible()
    expect(op.locator("[data-test=consent-SZGDATA]")).to_have_count(0)
    op.click("[data-test=consent-SZPNR]")
    op.fill("[data-test=consent-comment]", "同意共享")
    op.click("[data-test=consent-save]")
    expect(op.locator("[data-test=consents]")).to_contain_text("同意共享")
    expect(op.locator("[data-test=consents] tr", has_text="规划和自然资源局").locator("[data-test=on-behalf]")).to_have_count(0)
    assert op.js_errors == []
    ctx2.close()

    page.reload()
    expect(page.locator("[data-test=res-publish]")).to_be_enabled()
    page.click("[data-test=res-publish]")
    page.locator(".el-message-box input").fill("首次发布")
    page.locator(".el-message-box__btns .el-button--primary").click()
    expect(page.locator("[data-test=res-state]")).to_have_text("已发布")
    expect(page.get_by_text("已发布 v1")).to_be_visible()  # the message says what happened
    page.click("#tab-versions")
    expect(page.locator("[data-test=versions]")).to_contain_text("首次发布")

    # the catalog list finds it
    page.goto(live_server + "/#/catalog")
    page.fill("[data-test=cat-search]", "查封")
    page.keyboard.press("Enter")
    expect(page.locator("[data-test=cat-table]")).to_contain_text("已发布")
    assert page.js_errors == []
    ctx.close()


def test_revision_diff_units_sources_and_lineage_pages(browser, live_server, database, settings, tmp_path):
    unit_db = tmp_path / "psb.db"
    with sqlite3.connect(unit_db) as conn:
        conn.execute("CREATE TABLE vehicle (plate_no TEXT PRIMARY KEY, owner_name TEXT)")
        conn.execute("INSERT INTO vehicle VALUES ('粤B12345', '演示·李四')")
    with database.session() as s:
        metadata_service.add_source(s, data_dir=settings.resolved_data_dir, name="psb_file", url=f"sqlite:///{unit_db}")
        demo_service.load_units(s)

        demo_catalog.load_catalog(s)
        metadata_service.record_lineage(s, target="case.debtor_assets", sources=["case.property", "file:tax.csv"],
                                        via_kind="job", via_id="nightly")
    make_user(database, "dadmin2", ["data_admin"])
    ctx, page = _login(browser, live_server, "dadmin2")
    page.goto(live_server + "/#/catalog/r/101001/edit")
    page.fill("[data-test=item-length-0]", "80")
    page.click("[data-test=ed-save]")
    expect(page.locator("[data-test=res-state]")).to_have_text("修订中")
    page.click("#tab-versions")
    page.click("[data-test=cmp-run]")
    expect(page.locator("[data-test=diff]")).to_contain_text("case_no")
    expect(page.locator("[data-test=diff]")).to_contain_text("64 → 80")

    page.goto(live_server + "/#/units")
    expect(page.locator("[data-test=units-table]")).to_contain_text("深圳市中级人民法院")
    # registered as integrated, but no live connection yet: not shown as connected
    expect(page.locator("[data-test=unit-state-SZCOURT]")).to_have_text("未连通")
    page.goto(live_server + "/#/metadata/sources")
    page.click("[data-test=src-harvest-psb_file]")
    expect(page.locator("[data-test=src-tables]")).to_contain_text("vehicle")
    page.goto(live_server + "/#/metadata/dictionary")
    page.fill("[data-test=dict-q]", "owner_name")
    page.click("[data-test=dict-search]")
    expect(page.locator("[data-test=dict-results]")).to_contain_text("source:psb_file.vehicle.owner_name")
    page.goto(live_server + "/#/metadata/lineage")
    expect(page.locator("[data-test=lin-edges]")).to_contain_text("file:tax.csv")
    expect(page.locator("[data-test=lin-chart] canvas")).to_have_count(1)

    page.click("[data-test=lang-switch]")
    page.click("[data-test=lang-en]")
    page.goto(live_server + "/#/catalog")
    expect(page.locator(".page-title")).to_contain_text("Sharing catalog")
    expect(page.locator(".el-menu").first).to_contain_text("Data sources")
    assert page.js_errors == []
    ctx.close()
