"""Kinds and states of collect, in their own module so no one needs a table class to name them."""

from __future__ import annotations

import enum


class SourceKind(enum.StrEnum):
    csv = "csv"  # CSV 文件
    excel = "excel"  # Excel 工作簿
    database = "database"  # 数据库表或查询
    api = "api"  # REST 接口（JSON，分页）


class LoadMode(enum.StrEnum):
    append = "append"  # 追加
    overwrite = "replace"  # 覆盖 (named so it does not hide ``str.replace``)
    upsert = "upsert"  # 按业务主键更新或插入


class RunStatus(enum.StrEnum):
    queued = "queued"  # 排队中
    running = "running"  # 运行中
    succeeded = "succeeded"  # 成功
    failed = "failed"  # 失败
