"""Resources: the working copy and its info items, the publishing lifecycle (draft → consultation →
published → revised → withdrawn), consents, versions and their differences, search.

Other domains read the catalog through ``get_resource`` / ``list_resources`` (``ResourceSpec``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from pbshare.catalog.resources.documents import (
    canonical,
    default_classification,
    diff_documents,
    document_of,
    validate_document,
)
from pbshare.catalog.resources.enums import STATE_LABELS, ResourceState
from pbshare.catalog.resources.models import Consent, InfoItem, Resource, ResourceVersion
from pbshare.catalog.resources.schemas import ConsentOut, ResourceDoc, ResourceOut, ResourceSpec, RoundOut
from pbshare.core.clock import LOCAL_TZ, utcnow
from pbshare.core.errors import Conflict, Forbidden, Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.core.lookup import one_or_raise
from pbshare.core.pagination import PageParams, paginate
from pbshare.security.audit import service as audit
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

if TYPE_CHECKING:
    from pbshare.units.models import Unit

# The states in which a resource has a version in effect.
IN_EFFECT = (ResourceState.published.value, ResourceState.revised.value)


def _username(principal: Principal | None) -> str:
    """Who to name as having recorded or published something; scripts without a user are "system"."""
    return (principal.username if principal is not None else None) or "system"


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
    return one_or_raise(db, select(Resource).where(Resource.code == code),
                        T("目录资源 {c} 不存在", "There is no catalog resource {c}", c=code), code="resource_not_found")


def create_resource(db: Session, *, doc: dict | ResourceDoc, principal: Principal | None = None) -> Resource:
    doc = validate_document(db, doc)
    if find_resource(db, code=doc.code):
        raise Conflict(T("资源代码 {c} 已存在", "The resource code {c} already exists", c=doc.code),
                       code="resource_exists")
    res = new_draft(db, doc)
    db.flush()
    audit.record(db, action="catalog.resource.create", principal=principal, object_type="resource",
                 object_id=res.code, detail={"name": res.name})
    return res


def update_resource(db: Session, *, code: str, doc: dict | ResourceDoc, principal: Principal | None = None) -> Resource:
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


def delete_resource(db: Session, *, code: str, principal: Principal | None = None) -> None:
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


def _opinion(unit: Unit, role: str, c: Consent | None) -> dict:
    return {"unit_code": unit.code, "unit_name": unit.name, "role": role,
            "agreed": c.agreed if c else None, "decided_on": c.decided_on if c else None,
            "comment": c.comment if c else None, "recorded_by": c.recorded_by if c else None,
            "on_behalf": bool(c and c.on_behalf), "evidence": c.evidence if c else None,
            "evidence_name": c.evidence_name if c else None}


def consents(db: Session, res: Resource) -> list[dict]:
    """Every required party with its opinion in the current round (None: not yet given)."""
    given = {c.unit_id: c for c in db.scalars(select(Consent).where(Consent.resource_id == res.id,
                                                                    Consent.round == res.consultation_round))}
    return [_opinion(unit, role, given.get(unit.id)) for unit, role in required_parties(db, res)]


def earlier_rounds(db: Session, res: Resource) -> list[dict]:
    """The consultation rounds before the current one, newest first, each with the opinions given in it (a
    round ends when the draft is edited and sent again; its opinions stay readable)."""
    rows = db.scalars(select(Consent).where(Consent.resource_id == res.id, Consent.round < res.consultation_round)
                      .order_by(Consent.round.desc(), Consent.recorded_at))
    rounds: dict[int, list[dict]] = {n: [] for n in range(res.consultation_round - 1, 0, -1)}
    for c in rows:
        rounds.setdefault(c.round, []).append(_opinion(c.unit, c.role, c))
    return [{"round": n, "consents": given} for n, given in rounds.items()]


def consent_evidence(db: Session, *, code: str, round_no: int, unit_code: str) -> tuple[str, bytes]:
    """The file attached to an opinion the office recorded on a unit's behalf: (file name, content)."""
    res = get_resource_row(db, code=code)
    unit = unit_service.get_unit_by_code(db, code=unit_code)
    consent = db.scalar(select(Consent).where(Consent.resource_id == res.id, Consent.round == round_no,
                                              Consent.unit_id == unit.id))
    if consent is None or consent.evidence_file is None:
        raise NotFound(T("该意见没有附件", "This opinion has no attached evidence"), code="no_evidence")
    return consent.evidence_name or "evidence", consent.evidence_file


def can_publish(db: Session, res: Resource) -> bool:
    return res.state == ResourceState.consultation and all(c["agreed"] for c in consents(db, res))


def resource_out(db: Session, res: Resource) -> ResourceOut:
    """The working copy, the version in effect and where the resource stands in its lifecycle."""
    published = document_at(db, code=res.code, version=res.version) if res.version else None
    return ResourceOut(
        id=res.id, state=res.state, version=res.version, consultation_round=res.consultation_round,
        publish_date=res.publish_date, provider_name=res.provider.name,
        document=ResourceDoc(**document_of(res)), published=ResourceDoc(**published) if published else None,
        consents=[ConsentOut(**c) for c in consents(db, res)] if res.consultation_round else [],
        earlier_rounds=[RoundOut(round=r["round"], consents=[ConsentOut(**c) for c in r["consents"]])
                        for r in earlier_rounds(db, res)],
        can_publish=can_publish(db, res), updated_at=res.updated_at,
    )


def start_consultation(db: Session, *, code: str, principal: Principal | None = None) -> Resource:
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


EVIDENCE_MAX_BYTES = 700 * 1024  # sent inside the JSON body, which is capped at 1 MB


def record_consent(db: Session, *, code: str, unit_code: str, agreed: bool, decided_on: date,
                   comment: str | None = None, principal: Principal | None = None, evidence: str | None = None,
                   evidence_name: str | None = None, evidence_file: bytes | None = None) -> Consent:
    """Record one party's opinion. A unit operator may answer only for its own unit; when the office records a
    unit's opinion on its behalf (from a letter or a meeting) it is marked so and needs the evidence: what the
    opinion came in (``evidence``), and optionally the scanned document (``evidence_file``)."""
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
    on_behalf = principal is not None and principal.unit_code != unit.code
    evidence = (evidence or "").strip() or None
    if on_behalf and (evidence is None or len(evidence) < 4):
        raise Invalid(T("代 {u} 登记意见时，请写明依据（如来函文号、会议纪要），至少 4 个字",
                        "When recording the opinion of {u} on its behalf, say what it came in (a letter's number, "
                        "minutes of a meeting), at least 4 characters", u=unit.name), code="evidence_required")
    if evidence_file is not None and len(evidence_file) > EVIDENCE_MAX_BYTES:
        raise Invalid(T("附件超过 700 KB，请压缩或只上传关键页", "The attachment is over 700 KB; compress it or attach "
                        "the key pages only"), code="evidence_too_large")
    consent = db.scalar(select(Consent).where(Consent.resource_id == res.id, Consent.round == res.consultation_round,
                                              Consent.unit_id == unit.id))
    if consent is None:
        consent = Consent(resource_id=res.id, round=res.consultation_round, unit_id=unit.id)
        db.add(consent)
    consent.role, consent.agreed, consent.decided_on, consent.comment = role, agreed, decided_on, comment
    consent.recorded_by = _username(principal)
    consent.recorded_at = utcnow()
    consent.on_behalf = on_behalf
    consent.evidence = evidence if on_behalf else None
    consent.evidence_name = (evidence_name or "evidence")[:200] if on_behalf and evidence_file else None
    consent.evidence_file = evidence_file if on_behalf else None
    db.flush()
    audit.record(db, action="catalog.resource.consent", principal=principal, object_type="resource",
                 object_id=res.code, detail={"unit": unit.code, "agreed": agreed, "round": res.consultation_round,
                                             "on_behalf": on_behalf})
    return consent


def publish(db: Session, *, code: str, note: str | None = None, principal: Principal | None = None,
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
        published_by=_username(principal),
    )
    db.add(version)
    db.flush()
    audit.record(db, action="catalog.resource.publish", principal=principal, object_type="resource",
                 object_id=res.code, detail={"version": res.version, "direct": without_consultation})
    return version


def withdraw(db: Session, *, code: str, reason: str, principal: Principal | None = None) -> Resource:
    res = get_resource_row(db, code=code)
    if res.state not in (ResourceState.published, ResourceState.revised):
        raise Conflict(T("只有已发布的资源可以撤销", "Only a published resource can be withdrawn"), code="bad_state")
    res.state = ResourceState.withdrawn.value
    db.flush()
    audit.record(db, action="catalog.resource.withdraw", principal=principal, object_type="resource",
                 object_id=res.code, detail={"reason": reason})
    return res


def reinstate(db: Session, *, code: str, principal: Principal | None = None) -> Resource:
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
    return one_or_raise(db, select(ResourceVersion).where(ResourceVersion.resource_id == res.id,
                                                          ResourceVersion.version == version),
                        T("资源 {c} 没有第 {v} 版", "Resource {c} has no version {v}", c=res.code, v=version),
                        code="version_not_found")


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


def _filtered(stmt: Select[Resource], *, q: str | None = None, provider: str | None = None,
              direction: str | None = None, frequency: str | None = None, share_type: str | None = None,
              state: str | None = None, classification: str | None = None) -> Select[Resource]:
    if q:
        # what the user typed is matched literally: "%" and "_" are not wildcards
        stmt = stmt.where(or_(Resource.code.contains(q, autoescape=True), Resource.name.contains(q, autoescape=True),
                              Resource.abstract.contains(q, autoescape=True)))
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
        stmt = stmt.where(Resource.classification.startswith(classification, autoescape=True))
    return stmt


def list_resources(db: Session, *, q: str | None = None, provider: str | None = None, direction: str | None = None,
                   frequency: str | None = None, share_type: str | None = None, state: str | None = None,
                   published_only: bool = False) -> list[ResourceSpec]:
    """Every matching resource (current version, as ``get_resource``), ordered by code.
    ``published_only``: those with a version in effect (published or being revised)."""
    stmt = _filtered(select(Resource), q=q, provider=provider, direction=direction, frequency=frequency,
                     share_type=share_type, state=state).order_by(Resource.code)
    if published_only:
        stmt = stmt.where(Resource.state.in_(IN_EFFECT))
    return [_current_spec(db, r) for r in db.scalars(stmt)]


def search_resources(db: Session, *, params: PageParams, **filters: str | None) -> tuple[list[Resource], int]:
    """One page of working copies for the catalog list."""
    return paginate(db, _filtered(select(Resource), **filters).order_by(Resource.code), params)


def search_items(db: Session, *, q: str, limit: int = 200) -> list[dict]:
    """Info items whose code or name matches, for the data dictionary."""
    rows = db.execute(select(InfoItem, Resource.code, Resource.name).join(Resource)
                      .where(or_(InfoItem.code.contains(q, autoescape=True), InfoItem.name.contains(q, autoescape=True),
                                 InfoItem.description.contains(q, autoescape=True)))
                      .order_by(Resource.code, InfoItem.position).limit(limit)).all()
    return [{"resource": code, "resource_name": name, "code": i.code, "name": i.name, "type": i.type,
             "length": i.length, "pii": i.pii, "id_kind": i.id_kind, "description": i.description}
            for i, code, name in rows]


def count_by_state(db: Session) -> dict[str, int]:
    """How many resources are in each state (every state listed, zero or not)."""
    out: dict[str, int] = {s.value: 0 for s in ResourceState}
    for state in db.scalars(select(Resource.state)):
        out[state] = out.get(state, 0) + 1
    return out


def count_by_provider(db: Session) -> dict[str, int]:
    """How many resources each unit provides, by unit id."""
    rows = db.execute(select(Resource.provider_unit_id, func.count()).group_by(Resource.provider_unit_id)).all()
    return {unit_id: n for unit_id, n in rows}


def open_consultations(db: Session, *, principal: Principal) -> list[dict]:
    """Resources in consultation with every party's opinion; a unit sees those it is a party to."""
    out = []
    for res in db.scalars(select(Resource).where(Resource.state == ResourceState.consultation.value)
                          .order_by(Resource.code)):
        parties = consents(db, res)
        if not principal.is_office and all(p["unit_code"] != principal.unit_code for p in parties):
            continue
        out.append({"code": res.code, "name": res.name, "round": res.consultation_round, "consents": parties})
    return out


# ---------------------------------------------------------------- for editions and transfer


def version_ids_in_effect(db: Session) -> list[str]:
    """The versions in effect now (published or being revised), in resource code order: what an edition freezes."""
    return list(db.scalars(select(ResourceVersion.id).join(Resource, Resource.id == ResourceVersion.resource_id)
                           .where(Resource.state.in_(IN_EFFECT), ResourceVersion.version == Resource.version)
                           .order_by(Resource.code)))


def version_documents(db: Session, *, version_ids: list[str]) -> list[dict]:
    """The frozen documents of these versions, in resource code order."""
    rows = db.execute(select(ResourceVersion, Resource.code).join(Resource, Resource.id == ResourceVersion.resource_id)
                      .where(ResourceVersion.id.in_(version_ids)).order_by(Resource.code)).all()
    return [{"code": code, "version": v.version, "published_at": v.published_at, "document": v.document}
            for v, code in rows]


def catalog_documents(db: Session, *, published_only: bool = False) -> list[dict]:
    """Every resource's document in code order: the working copy, or (``published_only``) the version in effect."""
    documents = []
    for res in db.scalars(select(Resource).order_by(Resource.code)):
        if published_only:
            if res.state not in (ResourceState.published, ResourceState.revised):
                continue
            documents.append(document_at(db, code=res.code, version=res.version))
        else:
            documents.append(document_of(res))
    return documents


def publication_dates(db: Session) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """When each resource's first version was published, and when its version in effect was (by code)."""
    dated = select(Resource.code, ResourceVersion.published_at).join(
        ResourceVersion, ResourceVersion.resource_id == Resource.id)
    first = {code: at for code, at in db.execute(dated.where(ResourceVersion.version == 1))}
    latest = {code: at for code, at in db.execute(dated.where(ResourceVersion.version == Resource.version))}
    return first, latest


def states_by_code(db: Session) -> dict[str, str]:
    return {code: state for code, state in db.execute(select(Resource.code, Resource.state))}


def resources_by_code(db: Session, *, codes: list[str]) -> dict[str, Resource]:
    """The working copies of these codes that exist (asked 500 at a time, under every database's bind limit)."""
    found: dict[str, Resource] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start:start + 500]
        found.update({r.code: r for r in db.scalars(select(Resource).where(Resource.code.in_(chunk)))})
    return found


# ---------------------------------------------------------------- a unit leaving the sharing


def received_by(db: Session, *, unit_code: str) -> list[dict]:
    """The resources that name ``unit_code`` among their receivers (in the working copy or the version in
    effect), each with what removing it would do: ``action`` is ``publish`` (a new version without the unit;
    the old ones stay as history), ``draft`` (the working copy changes, published with the revision under
    way) or ``kept`` (it is the only receiver of an outbound resource: a person decides)."""
    out = []
    for res in db.scalars(select(Resource).order_by(Resource.code)):
        current = list(res.receivers or [])
        in_effect = list((document_at(db, code=res.code, version=res.version).get("receivers") or [])
                         if res.version else [])
        if unit_code not in current and unit_code not in in_effect:
            continue
        remaining = [c for c in current if c != unit_code]
        if res.direction == "outbound" and not remaining:
            action = "kept"
        elif res.state == ResourceState.published and unit_code in current:
            action = "publish"
        else:
            action = "draft"
        out.append({"code": res.code, "name": res.name, "state": res.state, "version": res.version,
                    "action": action, "remaining": remaining})
    return out


def remove_receiver(db: Session, *, unit_code: str, reason: str, principal: Principal | None = None) -> list[dict]:
    """A unit left the sharing: take it off the receivers of every resource that names it, as ``received_by``
    says. A published resource gets a new version at once (no consultation: the unit's leaving is a fact);
    its earlier versions, which name the unit, stay readable. Audited per resource."""
    done = []
    for entry in received_by(db, unit_code=unit_code):
        if entry["action"] == "kept":
            done.append(entry)
            continue
        res = get_resource_row(db, code=entry["code"])
        if unit_code in (res.receivers or []):
            doc = ResourceDoc(**{**document_of(res), "receivers": entry["remaining"]})
            _apply(db, res, doc)
            db.flush()
        if entry["action"] == "publish":
            version = publish(db, code=res.code, note=f"接收单位 {unit_code} 退出共享 / {unit_code} left the "
                              f"sharing: {reason}"[:500], principal=principal, without_consultation=True)
            entry = {**entry, "version": version.version}
        audit.record(db, action="catalog.resource.receiver_left", principal=principal, object_type="resource",
                     object_id=res.code, detail={"unit": unit_code, "action": entry["action"],
                                                 "version": entry["version"], "reason": reason[:200]})
        done.append(entry)
    return done


def _audit_names(db: Session, codes: list[str]) -> dict[str, tuple[str, str | None]]:
    """Catalog resources an audit record points at (by code) by their names, linked to the resource."""
    rows = db.execute(select(Resource.code, Resource.name).where(Resource.code.in_(codes)))
    return {code: (name, f"/catalog/r/{code}") for code, name in rows}


audit.register_namer("resource", _audit_names)
