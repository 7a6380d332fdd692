"""The publishing lifecycle's states, apart from the tables so transfer and routes need no models."""

from __future__ import annotations

import enum


class ResourceState(enum.StrEnum):
    draft = "draft"  # 草稿
    consultation = "consultation"  # 征求意见
    published = "published"  # 已发布
    revised = "revised"  # 修订中（已发布版本仍有效）
    withdrawn = "withdrawn"  # 已撤销

STATE_LABELS = {
    "draft": ("草稿", "Draft"), "consultation": ("征求意见中", "In consultation"),
    "published": ("已发布", "Published"), "revised": ("修订中", "Being revised"),
    "withdrawn": ("已撤销", "Withdrawn"),
}
