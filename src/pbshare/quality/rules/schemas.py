"""What the rule-set routes take and give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pbshare.quality.rules.engine import KINDS, Dimension, Severity

KIND_PATTERN = "^(" + "|".join(KINDS) + ")$"


class RuleIn(BaseModel):
    """One rule as a person writes it; ``params`` per kind, e.g. ``{"builtin": "resident_id"}``,
    ``{"min": 0, "max": 150}``, ``{"values": ["A", "B"]}``, ``{"expression": "end_on >= start_on"}``."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern=KIND_PATTERN, description="规则类型 / rule kind: " + ", ".join(KINDS))
    columns: list[str] = Field(default_factory=list, max_length=20)
    params: dict[str, Any] = Field(default_factory=dict)
    severity: Severity = Severity.error
    dimension: Dimension | None = None
    name: str = Field("", max_length=200)
    enabled: bool = True


class RuleOut(RuleIn):
    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    label: str = Field("", description="显示名称 / the name people see")
    effective_dimension: Dimension


class RuleSetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleIn] = Field(default_factory=list, max_length=500)


class RuleSetOut(BaseModel):
    owner: str = Field(description="resource 或 profile")
    resource_code: str | None = None
    profile_id: str | None = None
    stored: bool = Field(description="已保存（否则为按信息项自动生成） / saved (else derived from info items)")
    columns: list[str] = Field(default_factory=list, description="可用的列 / the columns rules may name")
    rules: list[RuleOut]


class KindOut(BaseModel):
    kind: str
    label_zh: str
    label_en: str
    dimension: Dimension


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expression: str = Field(max_length=500)
    columns: list[str] | None = None
