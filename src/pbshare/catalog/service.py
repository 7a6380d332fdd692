"""Catalog logic: the audited side of the unit registry, resources and their info items, the publishing lifecycle
(draft → consultation → published → revised → withdrawn), versions and their differences,
editions and the admin's extra metadata attributes.

Other domains read the catalog through ``get_resource`` / ``list_resources`` (``ResourceSpec``).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pbshare.catalog.models import (
    AttributeDef,
    Consent,
    Edition,
    InfoItem,
    Resource,
    ResourceState,
    ResourceVersion,
)
from pbshare.catalog.schemas import InfoItemDoc, ResourceDoc, ResourceSpec
from pbshare.core.clock import LOCAL_TZ, utcnow
from pbshare.core.errors import Conflict, Forbidden, Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.core.pagination import PageParams, paginate
from pbshare.security.audit import service as audit
from pbshare.units import service as unit_service

if TYPE_CHECKING:
    from pbshare.units.models import Unit

STATE_LABELS = {
    "draft": ("草稿", "Draft"), "consultation": ("征求意见中", "In consultation"),
    "published": ("已发布", "Published"), "revised": ("修订中", "Being revised"),
    "withdrawn": ("已撤销", "Withdrawn"),
}
# Which lifecycle step may follow which (the API and UI offer only these).
EDITABLE_STATES = {ResourceState.draft, ResourceState.consultation, ResourceState.published, ResourceState.revised}


# ---------------------------------------------------------------- units


def save_unit(db: Session, *, code: str, name: str, kind: str = "other", credit_code: str | None = None,
              state: str | None = None, description: str | None = None, contacts: list[dict] | None = None,
              systems: list[dict] | None = None, principal: Any = None) -> Unit:
    """Create or update a unit with everything the registry keeps; audited as a configuration change."""
    existed = unit_service.find_unit_by_code(db, code=code) is not None
    unit = unit_service.upsert_unit(db, code=code, name=name, kind=kind, credit_code=credit_code, state=state)
    if credit_code == "":
        unit.credit_code = None
    unit.description = description
    if contacts is not None:
        unit.contacts = [dict(c) for c in contacts]
    if systems is not None:
        unit.systems = [dict(s) for s in systems]
    db.flush()
    audit.record(db, action="catalog.unit.update" if existed else "catalog.unit.create", principal=principal,
                 object_type="unit", object_id=unit.id, detail={"code": code, "state": unit.state})
    return unit


def count_resources_by_unit(db: Session) -> dict[str, int]:
    rows = db.execute(select(Resource.provider_unit_id, func.count()).group_by(Resource.provider_unit_id)).all()
    return dict(rows)


# ---------------------------------------------------------------- documents


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


def _attr_problems(doc: ResourceDoc, defs: dict[str, AttributeDef], *, strict: bool) -> list[tuple[str, T]]:
    problems: list[tuple[str, T]] = []
    for code, value in doc.attributes.items():
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
            if d.required and doc.attributes.get(code) in (None, ""):
                problems.append((f"attributes.{code}", T("必填的元数据“{c}”未填写", "The required attribute “{c}” is "
                                                         "empty", c=d.label_zh)))
    return problems


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
    p.extend(_attr_problems(doc, defs, strict=strict))
    return p


def attribute_defs(db: Session) -> dict[str, AttributeDef]:
    return {d.code: d for d in db.scalars(select(AttributeDef).order_by(AttributeDef.position, AttributeDef.code))}


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
    problems = document_problems(doc, unit_codes=units, defs=attribute_defs(db), strict=strict)
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


# ---------------------------------------------------------------- resources


def _apply(db: Session, res: Resource, doc: ResourceDoc, units: dict[str, Unit] | None = None) -> None:
    provider = units[doc.provider] if units and doc.provider in units else unit_service.get_unit_by_code(db, code=doc.provider)
    res.name, res.abstract = doc.name, doc.abstract
    res.classification = doc.classification or default_classification(doc.code)
    res.provider_unit_id, res.provider = provider.id, provider
    res.direction, res.receivers = doc.direction.value, list(doc.receivers)
    res.share_type, res.share_condition = doc.share_type.value, doc.share_condition
    res.methods = [m.value for m in doc.method]
    res.open_scope, res.frequency, res.format = doc.open_scope.value, doc.frequency.value, doc.format.value
    res.key, res.related, res.extra = list(doc.key), list(doc.related), dict(doc.attributes)
    existing = {i.code: i for i in res.items}
    keep: list[InfoItem] = []
    for n, it in enumerate(doc.items):
        item = existing.pop(it.code, None) or InfoItem(code=it.code)
        item.position, item.name, item.type, item.length = n, it.name, it.type.value, it.length
        item.description, item.pii = it.description, it.pii
        item.id_kind = it.id_kind.value if it.id_kind else None
        item.values = list(it.values) if it.values is not None else None
        keep.append(item)
    res.items = keep
    res.updated_at = utcnow()


def resource_codes(db: Session) -> set[str]:
    return set(db.scalars(select(Resource.code)))


def find_resource(db: Session, *, code: str) -> Resource | None:
    return db.scalar(select(Resource).where(Resource.code == code))


def get_resource_row(db: Session, *, code: str) -> Resource:
    res = find_resource(db, code=code)
    if res is None:
        raise NotFound(T("目录资源 {c} 不存在", "There is no catalog resource {c}", c=code), code="resource_not_found")
    return res


def create_resource(db: Session, *, doc: dict | ResourceDoc, principal: Any = None) -> Resource:
    doc = validate_document(db, doc)
    if find_resource(db, code=doc.code):
        raise Conflict(T("资源代码 {c} 已存在", "The resource code {c} already exists", c=doc.code),
                       code="resource_exists")
    res = new_draft(db, doc)
    db.flush()
    audit.record(db, action="catalog.resource.create", principal=principal, object_type="resource",
                 object_id=res.code, detail={"name": res.name})
    return res


def update_resource(db: Session, *, code: str, doc: dict | ResourceDoc, principal: Any = None) -> Resource:
    """Edit the working copy. A published resource becomes ``revised`` (its published version stays in
    effect); editing during consultation voids that round's consents and returns it to draft."""
    res = get_resource_row(db, code=code)
    doc = validate_document(db, doc)
    if doc.code != code:
        raise Invalid(T("资源代码不能修改（{a} → {b}）", "The resource code cannot change ({a} → {b})", a=code, b=doc.code),
                      code="code_changed")
    if res.state == ResourceState.withdrawn:
        raise Conflict(T("已撤销的资源须先恢复为草稿再修改", "Reinstate the withdrawn resource as a draft before "
                         "editing it"), code="resource_withdrawn")
    if not apply_changes(db, res, doc):
        return res
    db.flush()
    audit.record(db, action="catalog.resource.update", principal=principal, object_type="resource",
                 object_id=res.code, detail={"state": res.state})
    return res


def apply_changes(db: Session, res: Resource, doc: ResourceDoc, units: dict[str, Unit] | None = None) -> bool:
    """Write a checked document into an existing working copy and move the state on; False if
    nothing changed. (No audit: callers record it.)"""
    before = document_of(res)
    _apply(db, res, doc, units)
    if document_of(res) == before:
        return False
    if res.state == ResourceState.published:
        res.state = ResourceState.revised.value
    elif res.state == ResourceState.consultation:
        res.state = ResourceState.revised.value if res.version else ResourceState.draft.value
    return True


def new_draft(db: Session, doc: ResourceDoc, units: dict[str, Unit] | None = None) -> Resource:
    """A draft from a checked document (no audit: callers record it)."""
    res = Resource(code=doc.code, state=ResourceState.draft.value, version=0, consultation_round=0, items=[])
    _apply(db, res, doc, units)
    db.add(res)
    return res


def delete_resource(db: Session, *, code: str, principal: Any = None) -> None:
    res = get_resource_row(db, code=code)
    if res.version:
        raise Conflict(T("已发布过的资源不能删除，请改为撤销", "A resource that was published cannot be deleted; withdraw it "
                         "instead"), code="resource_published")
    db.delete(res)
    db.flush()
    audit.record(db, action="catalog.resource.delete", principal=principal, object_type="resource", object_id=code)


def required_parties(db: Session, res: Resource) -> list[tuple[Unit, str]]:
    """Who must consent: the source unit (for outbound resources, the receivers) and the data authority."""
    parties: list[tuple[Unit, str]] = []
    if res.provider.code != unit_service.OFFICE_CODE:
        parties.append((res.provider, "source"))
    if res.direction == "outbound":
        for code in res.receivers or []:
            unit = unit_service.find_unit_by_code(db, code=code)
            if unit is not None and all(u.id != unit.id for u, _ in parties):
                parties.append((unit, "receiver"))
    authority = unit_service.data_authority(db)
    if all(u.id != authority.id for u, _ in parties):
        parties.append((authority, "authority"))
    return parties


def consents(db: Session, res: Resource) -> list[dict]:
    """Every required party with its opinion in the current round (None: not yet given)."""
    given = {c.unit_id: c for c in db.scalars(select(Consent).where(Consent.resource_id == res.id,
                                                                    Consent.round == res.consultation_round))}
    out = []
    for unit, role in required_parties(db, res):
        c = given.get(unit.id)
        out.append({"unit_code": unit.code, "unit_name": unit.name, "role": role,
                    "agreed": c.agreed if c else None, "decided_on": c.decided_on if c else None,
                    "comment": c.comment if c else None, "recorded_by": c.recorded_by if c else None})
    return out


def can_publish(db: Session, res: Resource) -> bool:
    return res.state == ResourceState.consultation and all(c["agreed"] for c in consents(db, res))


def start_consultation(db: Session, *, code: str, principal: Any = None) -> Resource:
    res = get_resource_row(db, code=code)
    if res.state not in (ResourceState.draft, ResourceState.revised):
        raise Conflict(T("只有草稿或修订中的资源可以征求意见（当前：{s}）", "Only a draft or a revision can go to "
                         "consultation (now: {s})", s=STATE_LABELS[res.state][0]), code="bad_state")
    validate_document(db, document_of(res), strict=True)
    res.state = ResourceState.consultation.value
    res.consultation_round += 1
    db.flush()
    audit.record(db, action="catalog.resource.consult", principal=principal, object_type="resource",
                 object_id=res.code, detail={"round": res.consultation_round})
    return res


def record_consent(db: Session, *, code: str, unit_code: str, agreed: bool, decided_on: date,
                   comment: str | None = None, principal: Any = None) -> Consent:
    """Record one party's opinion. A unit operator may answer only for its own unit."""
    res = get_resource_row(db, code=code)
    if res.state != ResourceState.consultation:
        raise Conflict(T("该资源不在征求意见阶段", "The resource is not in consultation"), code="bad_state")
    unit = unit_service.get_unit_by_code(db, code=unit_code)
    if principal is not None and not principal.can_see_unit(unit.id):
        raise Forbidden(T("只能代表本单位（{u}）表达意见", "You can give the opinion of your own unit ({u}) only",
                          u=principal.unit_code), code="not_your_unit")
    role = next((r for u, r in required_parties(db, res) if u.id == unit.id), None)
    if role is None:
        raise Invalid(T("{u} 不是该资源需要征求意见的单位", "{u} is not a party to this resource's consultation",
                        u=unit.name), code="not_a_party")
    if not agreed and not comment:
        raise Invalid(T("不同意时请写明理由", "Give the reason when you do not agree"), code="comment_required")
    consent = db.scalar(select(Consent).where(Consent.resource_id == res.id, Consent.round == res.consultation_round,
                                              Consent.unit_id == unit.id))
    if consent is None:
        consent = Consent(resource_id=res.id, round=res.consultation_round, unit_id=unit.id)
        db.add(consent)
    consent.role, consent.agreed, consent.decided_on, consent.comment = role, agreed, decided_on, comment
    consent.recorded_by = getattr(principal, "username", None) or "system"
    consent.recorded_at = utcnow()
    db.flush()
    audit.record(db, action="catalog.resource.consent", principal=principal, object_type="resource",
                 object_id=res.code, detail={"unit": unit.code, "agreed": agreed, "round": res.consultation_round})
    return consent


def publish(db: Session, *, code: str, note: str | None = None, principal: Any = None,
            without_consultation: bool = False) -> ResourceVersion:
    """Freeze the working copy as the next version. Needs every party's consent, unless the resource
    comes from an already agreed official catalog (``without_consultation``, used by import)."""
    res = get_resource_row(db, code=code)
    if not without_consultation:
        if res.state != ResourceState.consultation:
            raise Conflict(T("须先征求意见，各方同意后才能发布", "Consult the parties first; publish once all agree"),
                           code="bad_state")
        missing = [c["unit_name"] for c in consents(db, res) if not c["agreed"]]
        if missing:
            raise Conflict(T("以下单位尚未同意：{u}", "These parties have not agreed yet: {u}", u="、".join(missing)),
                           code="consent_missing", detail={"missing": missing})
    doc = validate_document(db, document_of(res), strict=True)
    res.version += 1
    res.state = ResourceState.published.value
    res.publish_date = utcnow().astimezone(LOCAL_TZ).date()
    version = ResourceVersion(
        resource_id=res.id, version=res.version, document=canonical(doc), note=note,
        consents=[] if without_consultation else [
            {**c, "decided_on": c["decided_on"].isoformat() if c["decided_on"] else None} for c in consents(db, res)],
        published_by=getattr(principal, "username", None) or "system",
    )
    db.add(version)
    db.flush()
    audit.record(db, action="catalog.resource.publish", principal=principal, object_type="resource",
                 object_id=res.code, detail={"version": res.version, "direct": without_consultation})
    return version


def withdraw(db: Session, *, code: str, reason: str, principal: Any = None) -> Resource:
    res = get_resource_row(db, code=code)
    if res.state not in (ResourceState.published, ResourceState.revised):
        raise Conflict(T("只有已发布的资源可以撤销", "Only a published resource can be withdrawn"), code="bad_state")
    res.state = ResourceState.withdrawn.value
    db.flush()
    audit.record(db, action="catalog.resource.withdraw", principal=principal, object_type="resource",
                 object_id=res.code, detail={"reason": reason})
    return res


def reinstate(db: Session, *, code: str, principal: Any = None) -> Resource:
    """A withdrawn resource becomes editable again (as a revision of its last version)."""
    res = get_resource_row(db, code=code)
    if res.state != ResourceState.withdrawn:
        raise Conflict(T("该资源未被撤销", "The resource is not withdrawn"), code="bad_state")
    res.state = ResourceState.revised.value if res.version else ResourceState.draft.value
    db.flush()
    audit.record(db, action="catalog.resource.reinstate", principal=principal, object_type="resource",
                 object_id=res.code)
    return res


def _version_row(db: Session, res: Resource, version: int) -> ResourceVersion:
    row = db.scalar(select(ResourceVersion).where(ResourceVersion.resource_id == res.id,
                                                  ResourceVersion.version == version))
    if row is None:
        raise NotFound(T("资源 {c} 没有第 {v} 版", "Resource {c} has no version {v}", c=res.code, v=version),
                       code="version_not_found")
    return row


def list_versions(db: Session, *, code: str) -> list[ResourceVersion]:
    res = get_resource_row(db, code=code)
    return list(db.scalars(select(ResourceVersion).where(ResourceVersion.resource_id == res.id)
                           .order_by(ResourceVersion.version.desc())))


def get_version(db: Session, *, code: str, version: int) -> ResourceVersion:
    return _version_row(db, get_resource_row(db, code=code), version)


def document_at(db: Session, *, code: str, version: str | int) -> dict:
    """``version``: a number, or ``draft`` for the working copy."""
    res = get_resource_row(db, code=code)
    if str(version) == "draft":
        return document_of(res)
    try:
        number = int(version)
    except ValueError:
        raise Invalid(T("版本号应为数字或 draft", "A version is a number or 'draft'"), code="bad_version") from None
    return dict(_version_row(db, res, number).document)


_FIELD_ORDER = ["name", "classification", "abstract", "provider", "direction", "receivers", "share_type",
                "share_condition", "method", "open_scope", "frequency", "format", "key", "related", "attributes"]
_ITEM_FIELDS = ["name", "type", "length", "description", "pii", "id_kind", "values"]


def diff_documents(before: dict, after: dict) -> dict:
    """Field-by-field and item-by-item differences between two documents of one resource."""
    fields = [{"field": f, "before": before.get(f), "after": after.get(f)}
              for f in _FIELD_ORDER if before.get(f) != after.get(f)]
    old = {i["code"]: i for i in before.get("items", [])}
    new = {i["code"]: i for i in after.get("items", [])}
    items = []
    for code in [*old, *[c for c in new if c not in old]]:
        a, b = old.get(code), new.get(code)
        if a is None:
            items.append({"code": code, "change": "added", "name": b["name"], "fields": []})
        elif b is None:
            items.append({"code": code, "change": "removed", "name": a["name"], "fields": []})
        else:
            changed = [{"field": f, "before": a.get(f), "after": b.get(f)} for f in _ITEM_FIELDS if a.get(f) != b.get(f)]
            if changed:
                items.append({"code": code, "change": "changed", "name": b["name"], "fields": changed})
    order_before = [i["code"] for i in before.get("items", []) if i["code"] in new]
    order_after = [i["code"] for i in after.get("items", []) if i["code"] in old]
    return {"fields": fields, "items": items, "reordered": order_before != order_after}


def diff_versions(db: Session, *, code: str, from_version: str | int, to_version: str | int) -> dict:
    return {"from": str(from_version), "to": str(to_version),
            **diff_documents(document_at(db, code=code, version=from_version),
                             document_at(db, code=code, version=to_version))}


def _spec(res: Resource, doc: dict, from_version: int | None) -> ResourceSpec:
    return ResourceSpec(**doc, id=res.id, state=res.state, version=res.version, provider_unit_id=res.provider_unit_id,
                        publish_date=res.publish_date, from_version=from_version)


def get_resource(db: Session, *, code: str) -> ResourceSpec:
    """The resource as other domains use it: the latest published version, or the working copy if it
    was never published. ``.items`` (code, name, type, length, pii, id_kind, values) and ``.key``."""
    res = get_resource_row(db, code=code)
    return _current_spec(db, res)


def _current_spec(db: Session, res: Resource) -> ResourceSpec:
    if res.version:
        return _spec(res, _version_row(db, res, res.version).document, res.version)
    return _spec(res, document_of(res), None)


def _filtered(stmt, *, q: str | None = None, provider: str | None = None, direction: str | None = None,
              frequency: str | None = None, share_type: str | None = None, state: str | None = None,
              classification: str | None = None):
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Resource.code.like(like), Resource.name.like(like), Resource.abstract.like(like)))
    if provider:
        stmt = stmt.where(Resource.provider.has(code=provider))
    if direction:
        stmt = stmt.where(Resource.direction == direction)
    if frequency:
        stmt = stmt.where(Resource.frequency == frequency)
    if share_type:
        stmt = stmt.where(Resource.share_type == share_type)
    if state:
        stmt = stmt.where(Resource.state == state)
    if classification:
        stmt = stmt.where(Resource.classification.like(f"{classification}%"))
    return stmt


def list_resources(db: Session, *, q: str | None = None, provider: str | None = None, direction: str | None = None,
                   frequency: str | None = None, share_type: str | None = None, state: str | None = None,
                   published_only: bool = False) -> list[ResourceSpec]:
    """Every matching resource (current version, as ``get_resource``), ordered by code.
    ``published_only``: those with a version in effect (published or being revised)."""
    stmt = _filtered(select(Resource), q=q, provider=provider, direction=direction, frequency=frequency,
                     share_type=share_type, state=state).order_by(Resource.code)
    if published_only:
        stmt = stmt.where(Resource.state.in_([ResourceState.published.value, ResourceState.revised.value]))
    return [_current_spec(db, r) for r in db.scalars(stmt)]


def search_resources(db: Session, *, params: PageParams, **filters: Any) -> tuple[list[Resource], int]:
    """One page of working copies for the catalog list."""
    return paginate(db, _filtered(select(Resource), **filters).order_by(Resource.code), params)


def search_items(db: Session, *, q: str, limit: int = 200) -> list[dict]:
    """Info items whose code or name matches, for the data dictionary."""
    like = f"%{q}%"
    rows = db.execute(select(InfoItem, Resource.code, Resource.name).join(Resource)
                      .where(or_(InfoItem.code.like(like), InfoItem.name.like(like), InfoItem.description.like(like)))
                      .order_by(Resource.code, InfoItem.position).limit(limit)).all()
    return [{"resource": code, "resource_name": name, "code": i.code, "name": i.name, "type": i.type,
             "length": i.length, "pii": i.pii, "id_kind": i.id_kind, "description": i.description}
            for i, code, name in rows]


# ---------------------------------------------------------------- editions


def create_edition(db: Session, *, name: str, edition_date: date, description: str | None = None,
                   principal: Any = None) -> Edition:
    """Freeze the versions in effect now (published or being revised) under a name such as "2022 年版"."""
    if db.scalar(select(Edition.id).where(Edition.name == name)):
        raise Conflict(T("目录版本“{n}”已存在", "The catalog edition “{n}” already exists", n=name), code="edition_exists")
    rows = db.execute(select(ResourceVersion.id).join(Resource, Resource.id == ResourceVersion.resource_id)
                      .where(Resource.state.in_([ResourceState.published.value, ResourceState.revised.value]),
                             ResourceVersion.version == Resource.version)
                      .order_by(Resource.code)).scalars().all()
    if not rows:
        raise Conflict(T("还没有已发布的资源，无法形成目录版本", "Nothing is published yet; an edition needs published "
                         "resources"), code="nothing_published")
    edition = Edition(name=name, edition_date=edition_date, description=description, version_ids=list(rows),
                      created_by=getattr(principal, "username", None) or "system")
    db.add(edition)
    db.flush()
    audit.record(db, action="catalog.edition.create", principal=principal, object_type="edition",
                 object_id=edition.id, detail={"name": name, "resources": len(rows)})
    return edition


def list_editions(db: Session) -> list[Edition]:
    return list(db.scalars(select(Edition).order_by(Edition.edition_date.desc(), Edition.name)))


def get_edition(db: Session, *, edition_id: str) -> Edition:
    edition = db.get(Edition, edition_id) or db.scalar(select(Edition).where(Edition.name == edition_id))
    if edition is None:
        raise NotFound(T("目录版本不存在", "The catalog edition does not exist"), code="edition_not_found")
    return edition


def edition_documents(db: Session, edition: Edition) -> list[dict]:
    rows = db.execute(select(ResourceVersion, Resource.code).join(Resource, Resource.id == ResourceVersion.resource_id)
                      .where(ResourceVersion.id.in_(edition.version_ids)).order_by(Resource.code)).all()
    return [{"code": code, "version": v.version, "published_at": v.published_at, "document": v.document}
            for v, code in rows]


# ---------------------------------------------------------------- custom attributes


def list_attributes(db: Session) -> list[AttributeDef]:
    return list(attribute_defs(db).values())


def save_attribute(db: Session, *, code: str, label_zh: str, label_en: str, type: str = "string",
                   required: bool = False, options: list[str] | None = None, position: int = 0,
                   principal: Any = None) -> AttributeDef:
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


def delete_attribute(db: Session, *, code: str, principal: Any = None) -> None:
    d = db.scalar(select(AttributeDef).where(AttributeDef.code == code))
    if d is None:
        raise NotFound(T("元数据字段 {c} 不存在", "The attribute {c} does not exist", c=code))
    in_use = [r.code for r in db.scalars(select(Resource)) if code in (r.extra or {})]
    if in_use:
        raise Conflict(T("字段 {c} 仍被资源使用：{r}", "The attribute {c} is still used by: {r}", c=code,
                         r=", ".join(in_use[:10])), code="attribute_in_use")
    db.delete(d)
    db.flush()
    audit.record(db, action="catalog.attribute.delete", principal=principal, object_type="catalog_attribute",
                 object_id=code)
