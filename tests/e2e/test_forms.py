"""The form designer in Debian's chromium (issue 15's "done when"): design a form by drag and drop with a
conditional field, publish it, enter a record at phone width, find it with a filter, change a field's type
with the one bad value shown first, and export the records to Excel."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


def _drag(page, source: str, target: str) -> None:
    page.locator(source).scroll_into_view_if_needed()
    page.locator(source).drag_to(page.locator(target))


def _pick(page, select: str, option: str) -> None:
    page.locator(select).click()
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def _field(page, cell: str, label: str) -> None:
    page.click(f"[data-test=fm-cell-{cell}]")
    page.fill("[data-test=fm-prop-label]", label)


# One run (PostgreSQL); tests/forms runs the same records path on SQLite and PostgreSQL through the API.
@pytest.mark.parametrize("backend", ["postgresql"])
def test_design_publish_enter_filter_change_type_export(page, live_server, database, backend):
    make_user(database, "dataadmin", ["data_admin"])
    res = page.request.post(live_server + "/api/v1/auth/login", data={"username": "dataadmin", "password": PASSWORD})
    assert res.ok, res.text()
    csrf = {"X-CSRF-Token": res.json()["csrf_token"]}

    # design: a new model, four components dragged onto the canvas, two columns, a conditional field
    page.goto(live_server + "/#/forms")
    page.click("[data-test=fm-new-model]")
    page.fill("[data-test=fm-model-title]", "车辆登记")
    page.fill("[data-test=fm-model-code]", "cars")
    page.click("[data-test=fm-model-create]")
    expect(page.locator("[data-test=fm-palette-text]")).to_be_visible()
    for kind in ("text", "boolean", "text", "text"):
        _drag(page, f"[data-test=fm-palette-{kind}]", "[data-test=fm-drop-s1] .fm-drop")
    expect(page.locator("[data-test^=fm-cell-]")).to_have_count(4)
    _field(page, "text_1", "姓名")
    page.click("[data-test=fm-prop-required]")
    _field(page, "boolean_1", "有车")
    _field(page, "text_2", "车牌")
    _pick(page, "[data-test=fm-cond-field-visible_when]", "有车")
    _pick(page, "[data-test=fm-cond-op-visible_when]", "已勾选")
    _pick(page, "[data-test=fm-cond-field-required_when]", "有车")
    _pick(page, "[data-test=fm-cond-op-required_when]", "已勾选")
    _field(page, "text_3", "编号")
    # a pattern that is not one: saving (with another field selected) selects 编号 again and says so at its pattern
    page.fill("[data-test=fm-prop-regex]", "[0-9")
    page.click("[data-test=fm-cell-text_1]")
    page.click("[data-test=fm-save]")
    pattern = page.locator(".el-form-item", has=page.locator("[data-test=fm-prop-regex]"))
    expect(pattern.locator(".el-form-item__error")).to_contain_text("正则表达式无效")
    expect(page.locator("[data-test=fm-prop-label]")).to_have_value("编号")
    page.fill("[data-test=fm-prop-regex]", "")
    page.click("[data-test=fm-columns-2]")
    # drag 编号 before 姓名 on the canvas: the order follows
    _drag(page, "[data-test=fm-cell-text_3]", "[data-test=fm-cell-text_1]")
    expect(page.locator("[data-test^=fm-cell-]").first).to_contain_text("编号")

    # preview at phone width: the plate shows only once 有车 is checked
    page.click("[data-test=fm-preview]")
    page.click("[data-test=fm-preview-phone]")
    frame = page.locator("[data-test=fm-preview-frame]")
    assert 360 <= frame.locator("[data-test=fm-form]").bounding_box()["width"] <= 380
    expect(frame.locator("[data-test=fm-field-text_2]")).to_have_count(0)
    frame.locator("[data-test=fm-field-boolean_1] .el-checkbox").click()
    expect(frame.locator("[data-test=fm-field-text_2]")).to_be_visible()
    page.keyboard.press("Escape")

    # publish: the draft's diff is shown first
    page.click("[data-test=fm-publish]")
    expect(page.locator("[data-test=fm-diff]")).to_contain_text("车牌")
    page.click("[data-test=fm-publish-confirm]")
    expect(page.locator(".page-title")).to_contain_text("v1")

    # enter a record at phone width: the conditional plate is required once 有车 is checked
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server + "/#/forms/cars/new")
    page.fill("[data-test=fm-input-text_1]", "演示·张三")
    page.fill("[data-test=fm-input-text_3]", "12")
    expect(page.locator("[data-test=fm-field-text_2]")).to_have_count(0)
    page.locator("[data-test=fm-field-boolean_1] .el-checkbox").click()
    page.click("[data-test=fm-submit]")
    expect(page.locator("[data-test=fm-field-text_2] .el-form-item__error")).to_contain_text("车牌")
    page.fill("[data-test=fm-input-text_2]", "粤B12345")
    page.click("[data-test=fm-submit]")
    expect(page.locator("[data-test=fm-records]")).to_contain_text("演示·张三")

    # another record with a 编号 that is not a number
    other = page.request.post(live_server + "/api/v1/forms/models/cars/records", headers=csrf,
                              data={"values": {"text_1": "演示·李四", "text_3": "x7"}})
    assert other.ok, other.text()

    # find it with a filter
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    expect(page.locator("[data-test=fm-records]")).to_contain_text("演示·李四")
    page.click("[data-test=fm-add-filter]")
    _pick(page, "[data-test=fm-filter-0] [data-test=fm-filter-field]", "姓名")
    _pick(page, "[data-test=fm-filter-0] [data-test=fm-filter-op]", "包含")
    page.fill("[data-test=fm-filter-0] [data-test=fm-filter-value]", "张")
    page.click("[data-test=fm-search]")
    expect(page.locator("[data-test=fm-records]")).not_to_contain_text("演示·李四")
    expect(page.locator("[data-test=fm-records]")).to_contain_text("粤B12345")

    # change 编号 to an integer: the one bad value is shown and the change waits until it is fixed
    page.goto(live_server + "/#/forms/cars/design")
    page.click("[data-test=fm-cell-text_3]")
    page.click("[data-test=fm-change-type]")
    _pick(page, "[data-test=fm-new-type]", "整数")
    page.click("[data-test=fm-type-check]")
    expect(page.locator("[data-test=fm-type-result]")).to_contain_text("共 2 条记录，1 条可以转换")
    expect(page.locator("[data-test=fm-bad-values]")).to_contain_text("x7")
    expect(page.locator("[data-test=fm-type-apply]")).to_be_disabled()
    rec_id = other.json()["id"]
    fixed = page.request.patch(live_server + f"/api/v1/forms/models/cars/records/{rec_id}", headers=csrf,
                               data={"values": {"text_3": "7"}})
    assert fixed.ok, fixed.text()
    page.click("[data-test=fm-type-check]")
    expect(page.locator("[data-test=fm-type-result]")).to_contain_text("共 2 条记录，2 条可以转换")
    page.click("[data-test=fm-type-apply]")
    expect(page.locator("[data-test=fm-prop-type]")).to_have_text("整数")

    # export to Excel
    page.goto(live_server + "/#/forms/cars/records")
    expect(page.locator("[data-test=fm-records]")).to_contain_text("演示·李四")
    with page.expect_download() as dl:
        page.click("[data-test=fm-export]")
    with open(dl.value.path(), "rb") as fh:
        sheet = load_workbook(io.BytesIO(fh.read())).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1:5] == ("编号", "姓名", "有车", "车牌")
    assert sorted(r[2] for r in rows[1:]) == ["演示·张三", "演示·李四"]
    assert not page.js_errors
