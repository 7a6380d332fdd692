"""Where a warehouse table came from."""

from __future__ import annotations

import enum


class TableOrigin(enum.StrEnum):
    import_ = "import"  # 数据导入
    dataset = "dataset"  # SQL 数据集
    transform = "transform"  # 无代码加工
    manual = "manual"  # 手工建表
