"""The platform's side of the hub protocol (docs/hub.md): register our published open resources in the
hub's catalog, push their data to the hub's subscribers, subscribe to other units' resources.

All of it travels on the platform's ``govhub`` connection to the hub unit ``SZGDATA`` through the
outbox (signed, retried, dead-lettered like any message). Registering a resource also gives the hub
an active subscription to it here, so every case event of that resource is pushed to the hub, which
fans it out to its own subscribers. The hub's answers (``response`` envelopes) come back by pull and
update the registration or subscription; data we subscribed to arrives as ``delivery`` envelopes and
lands like any delivery.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.catalog.resources import service as catalog
from pbshare.core.clock import utcnow
from pbshare.core.errors import Conflict, Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.exchange.connections import service as connections
from pbshare.exchange.connections.enums import ConnectionState
from pbshare.exchange.govhub.models import HubRegistration, HubSubscription
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.subscriptions import service as subscriptions
from pbshare.security.audit import service as audit
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

HUB_UNIT = "SZGDATA"
CHANNEL = "govhub"
OPEN_SCOPES = ("public", "open", "conditional_open")


def hub_connection(db: Session) -> Any:
    unit = unit_service.find_unit_by_code(db, code=HUB_UNIT)
    conns = [c for c in connections.list_connections(db, unit_id=unit.id, channel=CHANNEL)
             if c.state == ConnectionState.live] if unit else []
    if not conns:
        raise Conflict(T("没有与市政务信息资源共享平台（{u}）正式运行的 govhub 连接：请先在 交换通道 → 接入连接 中建立并上线",
                         "There is no live govhub connection to the government sharing hub ({u}): open one under "
                         "交换通道 → 接入连接 and put it live first", u=HUB_UNIT), code="no_hub_connection")
    return conns[0]


def publishable(db: Session) -> list[dict[str, Any]]:
    """Our published open resources: what may be registered in the hub's catalog."""
    out = []
    for doc in catalog.catalog_documents(db, published_only=True):
        if doc.get("provider") == unit_service.OFFICE_CODE and doc.get("open_scope") in OPEN_SCOPES:
            out.append(doc)
    return out


def _entry(doc: dict[str, Any]) -> dict[str, Any]:
    return {"code": doc["code"], "name": doc.get("name"), "abstract": doc.get("abstract"),
            "share_type": doc.get("share_type"), "share_condition": doc.get("share_condition"),
            "frequency": doc.get("frequency"), "key": doc.get("key") or [],
            "items": [{"code": i.get("code"), "name": i.get("name"), "type": i.get("type")}
                      for i in doc.get("items") or []]}


def register_resources(db: Session, *, codes: list[str] | None, principal: Principal | None,
                       data_dir: Path) -> list[HubRegistration]:
    """Register (again) our published open resources in the hub's catalog; the hub gets their pushes from now."""
    conn = hub_connection(db)
    docs = {d["code"]: d for d in publishable(db)}
    wanted = codes or sorted(docs)
    missing = [c for c in wanted if c not in docs]
    if missing:
        raise Invalid(T("只能登记本署已发布的开放资源：{m} 不是", "Only the office's published open resources can be "
                        "registered: {m} is not", m=", ".join(missing)), code="not_registrable",
                      detail={"registrable": sorted(docs)})
    if not wanted:
        raise Invalid(T("没有可登记的已发布开放资源", "There is no published open resource to register"),
                      code="nothing_to_register")
    msg = messaging.enqueue(db, connection_id=conn.id, type="request", resource="hub.catalog", data_dir=data_dir,
                            payload={"op": "register", "resources": [_entry(docs[c]) for c in wanted]})
    rows = []
    actor = principal.username if principal else "system"
    for code in wanted:
        row = db.scalar(select(HubRegistration).where(HubRegistration.resource_code == code))
        if row is None:
            row = HubRegistration(resource_code=code)
            db.add(row)
        row.state, row.envelope_id, row.version, row.note = "sent", msg.envelope_id, int(docs[code].get("version") or 0), None
        rows.append(row)
        if code in subscriptions.RESOURCE_EVENTS:
            subscriptions.ensure_active(db, unit_code=HUB_UNIT, resource_code=code, connection_id=conn.id,
                                        purpose="登记到市政务信息资源共享平台，由平台转发给其订阅单位 / registered with the "
                                                "government sharing hub, which forwards to its subscribers",
                                        actor=actor, source="hub")
    db.flush()
    audit.record(db, action="govhub.register", principal=principal, object_type="govhub_registration",
                 object_id=msg.envelope_id, detail={"resources": wanted})
    return rows


def subscribe_remote(db: Session, *, resource_code: str, principal: Principal | None,
                     data_dir: Path) -> HubSubscription:
    """Subscribe, through the hub, to another unit's resource; its data then arrives as deliveries."""
    conn = hub_connection(db)
    try:
        res = catalog.get_resource(db, code=resource_code)
    except NotFound:
        raise Invalid(T("目录中没有资源 {r}：请先在共享目录中登记，订阅来的数据才能入库",
                        "Resource {r} is not in the catalog: register it first so what comes can land",
                        r=resource_code), code="resource_not_in_catalog") from None
    existing = db.scalar(select(HubSubscription).where(HubSubscription.resource_code == resource_code,
                                                       HubSubscription.state.in_(("requested", "active"))))
    if existing is not None:
        raise Conflict(T("已通过共享平台订阅资源 {r}", "Resource {r} is already subscribed through the hub",
                         r=resource_code), code="already_subscribed")
    msg = messaging.enqueue(db, connection_id=conn.id, type="request", resource="hub.subscribe", data_dir=data_dir,
                            payload={"resource": resource_code})
    provider = unit_service.get_unit(db, unit_id=res.provider_unit_id).code
    row = HubSubscription(resource_code=resource_code, publisher=provider, state="requested",
                          envelope_id=msg.envelope_id, requested_by=principal.username if principal else "system")
    db.add(row)
    db.flush()
    audit.record(db, action="govhub.subscribe", principal=principal, object_type="govhub_subscription",
                 object_id=row.id, detail={"resource": resource_code})
    return row


@messaging.on_message("response")
def on_hub_response(db: Session, env: dict[str, Any], conn: Any) -> dict[str, Any] | None:
    """The hub answers a registration or a subscription (``correlation_id`` = our request's id)."""
    if env.get("sender") != HUB_UNIT or not env.get("correlation_id"):
        return None
    payload = env.get("payload") or {}
    status = str(payload.get("status") or "")
    for reg in db.scalars(select(HubRegistration).where(HubRegistration.envelope_id == env["correlation_id"])):
        done = reg.resource_code in (payload.get("resources") or [])
        reg.state = "registered" if done else "refused"
        reg.registered_at = utcnow() if done else reg.registered_at
        reg.note = None if done else str(payload.get("reason") or "共享平台未登记 / not registered by the hub")[:500]
    sub = db.scalar(select(HubSubscription).where(HubSubscription.envelope_id == env["correlation_id"]))
    if sub is not None:
        sub.state = "active" if status == "active" else "refused" if status == "refused" else sub.state
        sub.hub_subscription_id = payload.get("subscription_id") or sub.hub_subscription_id
        sub.note = str(payload.get("reason") or "")[:500] or None
        sub.confirmed_at = utcnow()
    return None


def registrations(db: Session) -> list[dict[str, Any]]:
    rows = {r.resource_code: r for r in db.scalars(select(HubRegistration))}
    out = []
    for doc in publishable(db):
        r = rows.get(doc["code"])
        out.append({"resource_code": doc["code"], "name": doc.get("name"), "state": r.state if r else "not_registered",
                    "registered_at": r.registered_at if r else None, "note": r.note if r else None})
    return out


def remote_subscriptions(db: Session) -> list[dict[str, Any]]:
    return [{"id": s.id, "resource_code": s.resource_code, "publisher": s.publisher, "state": s.state,
             "hub_subscription_id": s.hub_subscription_id, "note": s.note, "requested_by": s.requested_by,
             "created_at": s.created_at, "confirmed_at": s.confirmed_at}
            for s in db.scalars(select(HubSubscription).order_by(HubSubscription.created_at.desc()))]
