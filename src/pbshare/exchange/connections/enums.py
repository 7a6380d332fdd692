"""States of a connection, with their labels (apart from the table, so messaging needs no connection model)."""

from __future__ import annotations

import enum


class ConnectionState(enum.StrEnum):
    draft = "draft"  # 草稿
    testing = "testing"  # 联调测试
    live = "live"  # 正式运行
    suspended = "suspended"  # 暂停
    terminated = "terminated"  # 已终止


CONNECTION_STATE_LABELS = {
    ConnectionState.draft: ("草稿", "Draft"),
    ConnectionState.testing: ("联调测试", "Joint testing"),
    ConnectionState.live: ("正式运行", "Live"),
    ConnectionState.suspended: ("暂停", "Suspended"),
    ConnectionState.terminated: ("已终止", "Terminated"),
}
