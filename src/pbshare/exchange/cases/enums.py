"""Stages of a bankruptcy case, with their labels."""

from __future__ import annotations

import enum


class CaseStage(enum.StrEnum):
    accepted = "accepted"  # 已受理
    trial = "trial"  # 审理中
    declared = "declared"  # 已宣告破产
    probation = "probation"  # 免责考察期
    discharged = "discharged"  # 已免责
    closed = "closed"  # 已终结


CASE_STAGE_LABELS = {
    CaseStage.accepted: ("已受理", "Accepted"),
    CaseStage.trial: ("审理中", "In trial"),
    CaseStage.declared: ("已宣告破产", "Declared bankrupt"),
    CaseStage.probation: ("免责考察期", "Probation"),
    CaseStage.discharged: ("已免责", "Discharged"),
    CaseStage.closed: ("已终结", "Closed"),
}
