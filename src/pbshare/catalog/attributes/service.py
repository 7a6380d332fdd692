"""Attribute definitions and the check of a resource's attribute values against them.

Deleting a definition still in use is refused, so this reads the resources' ``extra`` column itself
(resources' validation calls in here; going back through their service would make a cycle).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.catalog.attributes.models import AttributeDef
from pbshare.catalog.resources.models import Resource
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T
from pbshare.core.lookup import one_or_raise
from pbshare.security.audit import service as audit
from pbshare.units.principal import Principal


def attribute_defs(db: Session) -> dict[str, AttributeDef]:
    return {d.code: d for d in db.scalars(select(AttributeDef).order_by(AttributeDef.position, AttributeDef.code))}


def value_problems(values: dict[str, Any], defs: dict[str, AttributeDef], *,
                   strict: bool) -> list[tuple[str, T]]:
    """What is wrong with a resource's attribute values; ``strict`` adds the required ones (publishing)."""
    problems: list[tuple[str, T]] = []
    for code, value in values.items():
        d = defs.get(code)
        path = f"attributes.{code}"
        if d is None:
            problems.append((path, T("未定义的自定义元数据“{c}”，请先在“元数据字段”中定义",
                                     "The custom attribute “{c}” is not defined; define it under Attributes first",
                                     c=code)))
            continue
        if value in (None, ""):
            continue
        ok = True
        if d.type == "number":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif d.type == "boolean":
            ok = isinstance(value, bool)
        elif d.type == "date":
            try:
                date.fromisoformat(str(value))
            except ValueError:
                ok = False
        elif d.type == "enum":
            ok = str(value) in d.options
        else:
            ok = isinstance(value, str)
        if not ok:
            problems.append((path, T("“{c}”的值 {v} 不符合类型 {t}{o}", "The value {v} of “{c}” does not fit type {t}{o}",
                                     c=code, v=value, t=d.type, o=f" {d.options}" if d.options else "")))
    if strict:
        for code, d in defs.items():
            if d.required and values.get(code) in (None, ""):
                problems.append((f"attributes.{code}", T("必填的元数据“{c}”未填写", "The required attribute “{c}” is "
                                                         "empty", c=d.label_zh)))
    return problems


def list_attributes(db: Session) -> list[AttributeDef]:
    return list(attribute_defs(db).values())


def save_attribute(db: Session, *, code: str, label_zh: str, label_en: str, type: str = "string",
                   required: bool = False, options: list[str] | None = None, position: int = 0,
                   principal: Principal | None = None) -> AttributeDef:
    if type == "enum" and not options:
        raise Invalid(T("枚举型字段须列出可选值", "An enum attribute needs its options"), code="options_required")
    d = db.scalar(select(AttributeDef).where(AttributeDef.code == code))
    created = d is None
    if d is None:
        d = AttributeDef(code=code)
        db.add(d)
    d.label_zh, d.label_en, d.type, d.required = label_zh, label_en, type, required
    d.options, d.position = list(options or []), position
    db.flush()
    audit.record(db, action="catalog.attribute.create" if created else "catalog.attribute.update",
                 principal=principal, object_type="catalog_attribute", object_id=code,
                 detail={"type": type, "required": required})
    return d


def delete_attribute(db: Session, *, code: str, principal: Principal | None = None) -> None:
    d = one_or_raise(db, select(AttributeDef).where(AttributeDef.code == code),
                     T("元数据字段 {c} 不存在", "The attribute {c} does not exist", c=code))
    in_use = [r.code for r in db.scalars(select(Resource)) if code in (r.extra or {})]
    if in_use:
        raise Conflict(T("字段 {c} 仍被资源使用：{r}", "The attribute {c} is still used by: {r}", c=code,
                         r=", ".join(in_use[:10])), code="attribute_in_use")
    db.delete(d)
    db.flush()
    audit.record(db, action="catalog.attribute.delete", principal=principal, object_type="catalog_attribute",
                 object_id=code)
