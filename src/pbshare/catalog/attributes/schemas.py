"""Attribute definition shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from pbshare.catalog.attributes.models import AttributeDef


class AttributeIn(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]{0,63}$")
    label_zh: str = Field(min_length=1, max_length=100)
    label_en: str = Field(min_length=1, max_length=100)
    type: str = Field("string", pattern=r"^(string|text|number|date|boolean|enum)$")
    required: bool = False
    options: list[str] = Field(default_factory=list)
    position: int = 0


class AttributeOut(AttributeIn):
    id: str

    @classmethod
    def of(cls, d: AttributeDef) -> AttributeOut:
        return cls(id=d.id, code=d.code, label_zh=d.label_zh, label_en=d.label_en, type=d.type,
                   required=d.required, options=d.options or [], position=d.position)
