"""Kinds of request, states of an item, verification results and reminders, with their labels."""

from __future__ import annotations

import enum


class RequestKind(enum.StrEnum):
    query = "query"  # 查询: what does the unit hold about this person
    verification = "verification"  # 核查: does the unit confirm these values


class ItemState(enum.StrEnum):
    draft = "draft"  # 草稿
    submitted = "submitted"  # 已提交
    dispatched = "dispatched"  # 已发送
    accepted = "accepted"  # 已受理
    rejected = "rejected"  # 已退回
    answered = "answered"  # 已答复
    checked = "checked"  # 已核验
    closed = "closed"  # 已办结
    withdrawn = "withdrawn"  # 已撤回


class VerifyResult(enum.StrEnum):
    match = "match"  # 一致
    mismatch = "mismatch"  # 不一致
    not_found = "not_found"  # 未查到


class ReminderKind(enum.StrEnum):
    nearing = "nearing"  # 即将到期 (one working day left)
    overdue = "overdue"  # 已逾期


REQUEST_KIND_LABELS = {
    RequestKind.query: ("查询", "Query"),
    RequestKind.verification: ("核查", "Verification"),
}

ITEM_STATE_LABELS = {
    ItemState.draft: ("草稿", "Draft"),
    ItemState.submitted: ("已提交", "Submitted"),
    ItemState.dispatched: ("待受理", "Sent, awaiting the unit"),
    ItemState.accepted: ("已受理", "Accepted"),
    ItemState.rejected: ("已退回", "Rejected"),
    ItemState.answered: ("已答复", "Answered"),
    ItemState.checked: ("已核验", "Checked"),
    ItemState.closed: ("已办结", "Closed"),
    ItemState.withdrawn: ("已撤回", "Withdrawn"),
}

VERIFY_RESULT_LABELS = {
    VerifyResult.match: ("一致", "Match"),
    VerifyResult.mismatch: ("不一致", "Mismatch"),
    VerifyResult.not_found: ("未查到", "Not found"),
}

REMINDER_LABELS = {
    ReminderKind.nearing: ("即将到期", "Due soon"),
    ReminderKind.overdue: ("已逾期", "Overdue"),
}

# Waiting on the unit: these count as "to do" in the portal and can become overdue.
OPEN_STATES = (ItemState.submitted, ItemState.dispatched, ItemState.accepted)
