"""The resource document: its canonical form (the sample catalog's shape), the checks beyond field
types, and the differences between two documents of one resource.

Import, export, versions and the API all speak this shape, so it is kept apart from the lifecycle.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from pbshare.catalog.attributes import service as attribute_service
from pbshare.catalog.attributes.models import AttributeDef
from pbshare.catalog.resources.models import Resource
from pbshare.catalog.resources.schemas import InfoItemDoc, ResourceDoc
from pbshare.core.errors import Invalid
from pbshare.core.i18n import T
from pbshare.units import service as unit_service


def default_classification(code: str) -> str:
    return code[:-3] if len(code) > 3 else code


def canonical(doc: ResourceDoc) -> dict:
    """The resource as the sample catalog writes it: optional fields only when they say something."""
    out: dict[str, Any] = {"code": doc.code, "name": doc.name}
    if doc.classification and doc.classification != default_classification(doc.code):
        out["classification"] = doc.classification
    if doc.abstract:
        out["abstract"] = doc.abstract
    out["provider"] = doc.provider
    out["direction"] = doc.direction.value
    if doc.receivers:
        out["receivers"] = list(doc.receivers)
    out["share_type"] = doc.share_type.value
    if doc.share_condition:
        out["share_condition"] = doc.share_condition
    out["method"] = [m.value for m in doc.method]
    out["open_scope"] = doc.open_scope.value
    out["frequency"] = doc.frequency.value
    out["format"] = doc.format.value
    out["key"] = list(doc.key)
    if doc.related:
        out["related"] = list(doc.related)
    if doc.attributes:
        out["attributes"] = dict(doc.attributes)
    out["items"] = [item_canonical(i) for i in doc.items]
    return out


def item_canonical(item: InfoItemDoc) -> dict:
    out: dict[str, Any] = {"code": item.code, "name": item.name, "type": item.type.value}
    if item.length is not None:
        out["length"] = item.length
    if item.description:
        out["description"] = item.description
    if item.pii:
        out["pii"] = True
    if item.id_kind:
        out["id_kind"] = item.id_kind.value
    if item.values is not None:
        out["values"] = list(item.values)
    return out


def document_of(res: Resource) -> dict:
    """The working copy of a resource as a canonical document."""
    return {
        k: v for k, v in canonical(ResourceDoc(
            code=res.code, name=res.name, classification=res.classification, abstract=res.abstract,
            provider=res.provider.code, direction=res.direction, receivers=res.receivers or [],
            share_type=res.share_type, share_condition=res.share_condition, method=res.methods or [],
            open_scope=res.open_scope, frequency=res.frequency, format=res.format, key=res.key or [],
            related=res.related or [], attributes=res.extra or {},
            items=[InfoItemDoc(code=i.code, name=i.name, type=i.type, length=i.length, description=i.description,
                               pii=i.pii, id_kind=i.id_kind, values=i.values) for i in res.items],
        )).items()
    }


def document_problems(doc: ResourceDoc, *, unit_codes: set[str], defs: dict[str, AttributeDef],
                      strict: bool = False) -> list[tuple[str, T]]:
    """What is wrong with a resource beyond its field types. ``strict``: the rules for publishing."""
    p: list[tuple[str, T]] = []
    if doc.provider not in unit_codes:
        p.append(("provider", T("提供单位 {u} 不存在，请先登记该单位", "The provider unit {u} does not exist; register it "
                                "first", u=doc.provider)))
    for r in doc.receivers:
        if r not in unit_codes:
            p.append(("receivers", T("接收单位 {u} 不存在", "The receiving unit {u} does not exist", u=r)))
    if doc.direction == "inbound" and doc.receivers:
        p.append(("receivers", T("汇入资源（inbound）不填接收单位", "An inbound resource has no receivers")))
    if doc.direction == "outbound" and not doc.receivers:
        p.append(("receivers", T("推送资源（outbound）至少要有一个接收单位", "An outbound resource needs at least one "
                                 "receiver")))
    classification = doc.classification or default_classification(doc.code)
    if not doc.code.startswith(classification):
        p.append(("classification", T("资源代码 {c} 应以分类代码 {k} 开头", "The resource code {c} must start with its "
                                      "classification code {k}", c=doc.code, k=classification)))
    if doc.share_type == "conditional" and not doc.share_condition:
        p.append(("share_condition", T("有条件共享须写明共享条件", "A conditional resource needs its share condition")))
    seen: set[str] = set()
    for n, item in enumerate(doc.items):
        if item.code in seen:
            p.append((f"items[{n}].code", T("信息项代码 {c} 重复", "The item code {c} appears twice", c=item.code)))
        seen.add(item.code)
        if item.type == "enum" and not item.values:
            p.append((f"items[{n}].values", T("枚举型信息项 {c} 须列出取值", "The enum item {c} needs its allowed values",
                                              c=item.code)))
        if item.values is not None and item.type != "enum":
            p.append((f"items[{n}].values", T("只有枚举型信息项可以列出取值（{c}）", "Only enum items list allowed "
                                              "values ({c})", c=item.code)))
    for k in doc.key:
        if k not in seen:
            p.append(("key", T("业务主键 {k} 不是本资源的信息项", "The key {k} is not one of the resource's items", k=k)))
    if strict:
        if not doc.items:
            p.append(("items", T("发布前至少要有一个信息项", "Add at least one info item before publishing")))
        if not doc.key:
            p.append(("key", T("发布前须指定业务主键", "Choose the business key before publishing")))
    p.extend(attribute_service.value_problems(doc.attributes, defs, strict=strict))
    return p


def validate_document(db: Session, data: dict | ResourceDoc, *, strict: bool = False) -> ResourceDoc:
    """Parse and check one resource; raise ``Invalid`` listing every problem (``detail``: field, reason)."""
    if isinstance(data, ResourceDoc):
        doc = data
    else:
        try:
            doc = ResourceDoc.model_validate(data)
        except ValidationError as exc:
            raise Invalid(T("资源内容有误，请检查标出的字段", "The resource has errors; check the marked fields"),
                          code="invalid_resource", detail=pydantic_problems(exc)) from None
    units = unit_service.unit_codes(db)
    problems = document_problems(doc, unit_codes=units, defs=attribute_service.attribute_defs(db), strict=strict)
    if problems:
        raise Invalid(T("资源内容有误：{m}", "The resource has errors: {m}", m=problems[0][1].render()),
                      code="invalid_resource",
                      detail=[{"field": f, "reason": m.render()} for f, m in problems])
    return doc


def pydantic_problems(exc: ValidationError) -> list[dict]:
    out = []
    for err in exc.errors():
        loc = err.get("loc", ())
        path = ""
        for part in loc:
            path += f"[{part}]" if isinstance(part, int) else (("." if path else "") + str(part))
        out.append({"field": path, "reason": T("格式不正确：{m}", "Not valid: {m}", m=err.get("msg")).render()})
    return out


_FIELD_ORDER = ["name", "classification", "abstract", "provider", "direction", "receivers", "share_type",
                "share_condition", "method", "open_scope", "frequency", "format", "key", "related", "attributes"]
_ITEM_FIELDS = ["name", "type", "length", "description", "pii", "id_kind", "values"]


def diff_documents(before: dict, after: dict) -> dict:
    """Field-by-field and item-by-item differences between two documents of one resource."""
    fields = [{"field": f, "before": before.get(f), "after": after.get(f)}
              for f in _FIELD_ORDER if before.get(f) != after.get(f)]
    old: dict[str, dict] = {i["code"]: i for i in before.get("items", [])}
    new: dict[str, dict] = {i["code"]: i for i in after.get("items", [])}
    items = []
    for code in [*old, *[c for c in new if c not in old]]:
        if code not in old:
            items.append({"code": code, "change": "added", "name": new[code]["name"], "fields": []})
        elif code not in new:
            items.append({"code": code, "change": "removed", "name": old[code]["name"], "fields": []})
        else:
            a, b = old[code], new[code]
            changed = [{"field": f, "before": a.get(f), "after": b.get(f)}
                       for f in _ITEM_FIELDS if a.get(f) != b.get(f)]
            if changed:
                items.append({"code": code, "change": "changed", "name": b["name"], "fields": changed})
    order_before = [i["code"] for i in before.get("items", []) if i["code"] in new]
    order_after = [i["code"] for i in after.get("items", []) if i["code"] in old]
    return {"fields": fields, "items": items, "reordered": order_before != order_after}
