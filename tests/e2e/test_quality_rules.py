"""A data admin opens quality → 规则集 in the browser, picks a demo resource, sees the rules derived from
its info items, adds a rule, is told exactly what is wrong with it, fixes it and saves the set; then
gives an import profile a rule set of its own."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbshare.collect.profiles import service as profiles
from pbshare.collect.profiles.schemas import ProfileIn
from pbshare.demo import catalog as demo_catalog
from pbshare.quality.rules import service as rules_service
from pbshare.warehouse import service as warehouse
from tests.conftest import make_user
from tests.e2e.conftest import signed_in

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _patient_expect():
    # Logins hash with argon2id and the machine is shared: allow more than the 5 s default.
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


def test_edit_and_save_a_resource_rule_set(browser, live_server, database, settings):
    with database.session() as s:
        demo_catalog.load_catalog(s, data_dir=settings.resolved_data_dir, database=database)
        warehouse.create_topic(s, database, name="si", title="社保")
        profile_id = profiles.create_profile(s, data=ProfileIn(
            name="si_monthly", title="社保月报", source_kind="csv", source={}, target_topic="si", target_table="paid",
            mapping=[{"target": "id_no", "source": "身份证号", "id_kind": "cn_ric"},
                     {"target": "amount", "source": "金额", "type": "decimal"}])).id
        s.commit()
    make_user(database, "dq", ["data_admin"])
    context, page = signed_in(browser, live_server, "dq", width=1400)
    errors = page.js_errors

    page.goto(live_server + "/#/quality/rules")
    expect(page.locator(".page-title")).to_contain_text("质量规则集")
    page.click("[data-test=rule-resource]")
    page.locator(".el-select-dropdown__item:visible", has_text="101001").first.click()
    rows = page.locator("[data-test=rules-table] .el-table__body tr")
    expect(rows).to_have_count(9)
    expect(page.locator("[data-test=rule-set-state]")).to_contain_text("自动生成")

    page.click("[data-test=rule-add]")
    expect(rows).to_have_count(10)
    params = page.locator("input[data-test=rule-params], [data-test=rule-params] input").nth(9)
    params.fill('{"min_share": 0.9')
    page.click("[data-test=rule-save]")
    expect(page.locator("[data-test=rule-problem]")).to_contain_text("第 10 条规则的参数不是有效的 JSON")

    params.fill("{}")
    page.locator("[data-test=rule-kind]").nth(9).click()
    page.locator(".el-select-dropdown__item:visible", has_text="字段间条件").first.click()
    params.fill('{"expression": "accepted_on >= (SELECT 1)"}')
    page.click("[data-test=rule-save]")
    expect(page.locator("[data-test=rule-problem]")).to_contain_text("第 10 条规则")
    expect(page.locator("[data-test=rule-problem]")).to_contain_text("不允许")

    params.fill('{"expression": "accepted_on <= \'2030-12-31\'"}')
    page.click("[data-test=rule-save]")
    expect(page.locator("[data-test=rule-set-state]")).to_contain_text("已保存")

    # an import profile's own set: empty until saved; its columns are the mapping's targets
    page.locator("[data-test=rule-owner] label", has_text="导入配置").click()
    page.click("[data-test=rule-profile]")
    page.locator(".el-select-dropdown__item:visible", has_text="社保月报").first.click()
    expect(page.locator("[data-test=rule-set-state]")).to_contain_text("未保存")
    expect(rows).to_have_count(0)
    page.click("[data-test=rule-add]")
    expect(rows).to_have_count(1)
    page.locator("input[data-test=rule-params], [data-test=rule-params] input").nth(0).fill('{"builtin": "resident_id"}')
    page.locator("[data-test=rule-kind]").nth(0).click()
    page.locator(".el-select-dropdown__item:visible", has_text="格式").first.click()
    page.click("[data-test=rule-save]")
    expect(page.locator("[data-test=rule-set-state]")).to_contain_text("已保存")
    assert not errors, errors
    context.close()

    with database.session() as s:
        stored = rules_service.rules_for_resource(s, resource_code="101001")
    assert len(stored) == 10 and stored[-1].kind == "cross_field"
    assert stored[-1].params == {"expression": "accepted_on <= '2030-12-31'"}
    with database.session() as s:
        mine = rules_service.rules_for_profile(s, profile_id=profile_id)
    assert [(r.kind, r.columns, r.params) for r in mine] == [("format", ("id_no",), {"builtin": "resident_id"})]
