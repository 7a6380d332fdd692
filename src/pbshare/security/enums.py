"""Roles, their labels and the three separated administrator roles (三员分立)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    sys_admin = "sys_admin"  # 系统管理员
    security_admin = "security_admin"  # 安全管理员
    auditor = "auditor"  # 安全审计员
    case_handler = "case_handler"  # 案件经办人
    data_admin = "data_admin"  # 数据管理员
    report_viewer = "report_viewer"  # 报表查看人
    unit_operator = "unit_operator"  # 数源单位操作员
    api_client = "api_client"  # 数源单位系统


ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.sys_admin: ("系统管理员", "System administrator"),
    Role.security_admin: ("安全管理员", "Security administrator"),
    Role.auditor: ("安全审计员", "Auditor"),
    Role.case_handler: ("案件经办人", "Case handler"),
    Role.data_admin: ("数据管理员", "Data administrator"),
    Role.report_viewer: ("报表查看人", "Report viewer"),
    Role.unit_operator: ("数源单位操作员", "Unit operator"),
    Role.api_client: ("数源单位系统", "Unit system (API client)"),
}

# 三员分立: one person holds at most one of these.
SEPARATED_ROLES = frozenset({Role.sys_admin, Role.security_admin, Role.auditor})
