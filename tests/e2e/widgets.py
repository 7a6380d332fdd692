"""Driving the shared widgets of app/pickers.js, app/guard.js and app/tables.js from a browser test."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect


def pick(page: Page, picker: str, typed: str, option: str) -> None:
    """Type ``typed`` into the searchable picker ``picker`` (a selector) and choose the option showing ``option``."""
    page.click(picker)
    page.locator(f"{picker} input").press_sequentially(typed, delay=30)
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def confirm_box(page: Page) -> Locator:
    """The open confirmation box of guard.js's confirmAction."""
    box = page.locator(".el-message-box.guard-confirm")
    expect(box).to_be_visible()
    return box


def answer(page: Page, *, yes: bool) -> None:
    """Confirm (the danger button) or cancel the open confirmation box."""
    box = confirm_box(page)
    if yes:
        box.locator(".el-message-box__btns .el-button--danger, .el-message-box__btns .el-button--primary").first.click()
    else:
        box.get_by_role("button", name="取消").click()
    expect(box).to_be_hidden()
