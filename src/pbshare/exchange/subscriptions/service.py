"""Subscriptions to the office's outbound resources (801001–801003) and what each subscriber was sent.

A unit subscribes to a resource with filters (district, case type, events) and the channel it
receives on (one of its connections). Conditional resources wait for the office's approval (a person
approves or refuses with a reason); unconditional ones start at once. Case events
(``subscriptions.events``) become one ``delivery`` envelope per matching subscription through the
outbox (``messaging.enqueue``: at-least-once, retried with backoff, dead-lettered, replayable), and a
row here that points at it; the subscriber's receipt marks the outbox message delivered.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbshare.catalog.resources import service as catalog
from pbshare.core.clock import utcnow
from pbshare.core.errors import AppError, Conflict, Forbidden, Invalid, NotFound
from pbshare.core.i18n import T, current_language
from pbshare.core.lookup import get_or_raise
from pbshare.exchange.cases.events import CASE_EVENT_LABELS, CaseEventKind
from pbshare.exchange.connections import service as connections
from pbshare.exchange.connections.enums import ConnectionState
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.subscriptions.models import Subscription, SubscriptionDelivery
from pbshare.exchange.subscriptions.schemas import (
    DeliveryOut,
    Filters,
    SubscriberSummary,
    SubscriptionIn,
    SubscriptionOut,
)
from pbshare.security.audit import service as audit
from pbshare.security.permissions import Perm
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

PENDING, ACTIVE, REJECTED, ENDED = "pending", "active", "rejected", "ended"
STATE_LABELS = {PENDING: ("待审批", "Awaiting approval"), ACTIVE: ("生效中", "Active"),
                REJECTED: ("已驳回", "Refused"), ENDED: ("已结束", "Ended")}
# Which outbound resource carries which case events.
RESOURCE_EVENTS: dict[str, tuple[str, ...]] = {
    "801001": (CaseEventKind.case_accepted, CaseEventKind.administrator_appointed,
               CaseEventKind.public_display_started, CaseEventKind.public_display_ended),
    "801002": (CaseEventKind.restriction_decided, CaseEventKind.restriction_lifted),
    "801003": (CaseEventKind.discharge_decided,),
}
PROCEDURES = ("清算", "重整", "和解")
DATA_PUSH = "data_push"  # the event of rows pushed by a pipeline (``push_rows``), beside the case events
EVENT_LABELS = {**CASE_EVENT_LABELS, DATA_PUSH: ("数据推送", "Data push")}
PUSH_BATCH_BYTES = 256 * 1024  # records per envelope: well under the channel's 1 MiB once signed (and encrypted)
_DISTRICT = re.compile(r"^\d{6}$")
LIVE_STATES = (ConnectionState.live.value, ConnectionState.testing.value)


def _lang(pair: tuple[str, str]) -> str:
    return pair[1] if current_language.get().startswith("en") else pair[0]


def resource_for_event(kind: str) -> str | None:
    return next((code for code, kinds in RESOURCE_EVENTS.items() if kind in kinds), None)


def _may_manage(principal: Principal) -> bool:
    return principal.is_office and (principal.has(Perm.catalog_write) or principal.has(Perm.exchange_manage))


def _check_filters(filters: Filters, resource_code: str) -> dict[str, Any]:
    bad = [d for d in filters.districts if not _DISTRICT.match(d)]
    if bad:
        raise Invalid(T("行政区划代码须为 6 位数字（如 440304 福田区）：{b}", "District codes are 6 digits (e.g. 440304 "
                        "Futian): {b}", b=", ".join(bad[:5])), code="bad_district", detail={"field": "filters.districts"})
    bad = [p for p in filters.procedures if p not in PROCEDURES]
    if bad:
        raise Invalid(T("案件类型须为 清算、重整 或 和解：{b}", "Case types are 清算, 重整 or 和解: {b}", b=", ".join(bad)),
                      code="bad_procedure", detail={"field": "filters.procedures"})
    allowed = RESOURCE_EVENTS[resource_code]
    bad = [e for e in filters.events if e not in allowed]
    if bad:
        raise Invalid(T("资源 {r} 只有这些事件：{a}", "Resource {r} carries only these events: {a}", r=resource_code,
                        a=", ".join(allowed)), code="bad_event",
                      detail={"field": "filters.events", "allowed": list(allowed)})
    return {"districts": sorted(set(filters.districts)), "procedures": sorted(set(filters.procedures)),
            "events": sorted(set(filters.events))}


def subscribe(db: Session, *, body: SubscriptionIn, principal: Principal, source: str = "office",
              ip: str | None = None) -> Subscription:
    """A unit subscribes to an outbound resource on one of its connections (see the module docstring)."""
    unit = unit_service.find_unit_by_code(db, code=body.unit_code)
    if unit is None:
        raise NotFound(T("单位 {u} 不存在", "There is no unit {u}", u=body.unit_code), code="unit_not_found")
    if not principal.can_see_unit(unit.id):
        raise NotFound(T("单位 {u} 不存在", "There is no unit {u}", u=body.unit_code), code="unit_not_found")
    if principal.is_office and not _may_manage(principal):
        raise Forbidden(T("只有数据管理员可以为单位登记订阅", "Only a data administrator registers subscriptions for units"))
    if body.resource_code not in RESOURCE_EVENTS:
        raise Invalid(T("只能订阅本署的出向资源：{a}", "Only the office's outbound resources can be subscribed to: {a}",
                        a=", ".join(RESOURCE_EVENTS)), code="not_subscribable", detail={"field": "resource_code"})
    try:
        res = catalog.get_resource(db, code=body.resource_code)
    except NotFound:
        raise Invalid(T("目录中没有资源 {r}：请先登记并发布", "Resource {r} is not in the catalog: register and publish it "
                        "first", r=body.resource_code), code="resource_not_in_catalog") from None
    if res.state not in ("published", "revised"):
        raise Conflict(T("资源 {r} 尚未发布，发布后才能订阅", "Resource {r} is not published yet; subscribe once it is",
                         r=body.resource_code), code="resource_not_published")
    filters = _check_filters(body.filters, body.resource_code)
    conns = [c for c in connections.list_connections(db, unit_id=unit.id, channel=body.channel)
             if c.state in LIVE_STATES]
    if not conns:
        raise Invalid(T("单位 {u} 没有 {c} 通道的连接（联调测试或正式运行）：请先在 交换通道 → 接入连接 中建立",
                        "Unit {u} has no {c} connection in testing or live: open one first under 交换通道 → 接入连接",
                        u=unit.code, c=body.channel), code="no_connection", detail={"field": "channel"})
    conn = next((c for c in conns if c.state == ConnectionState.live), conns[0])
    dup = db.scalar(select(Subscription.id).where(Subscription.unit_id == unit.id,
                                                  Subscription.resource_code == body.resource_code,
                                                  Subscription.connection_id == conn.id,
                                                  Subscription.state.in_((PENDING, ACTIVE))))
    if dup:
        raise Conflict(T("单位 {u} 已在该通道订阅资源 {r}（编号 {i}）：请修改或结束原订阅", "Unit {u} already subscribes to "
                         "{r} on this channel (subscription {i}): end it first", u=unit.code, r=body.resource_code,
                         i=dup), code="already_subscribed")
    conditional = res.share_type == "conditional"
    now = utcnow()
    sub = Subscription(unit_id=unit.id, resource_code=body.resource_code, connection_id=conn.id, filters=filters,
                       state=PENDING if conditional else ACTIVE, purpose=body.purpose.strip(), source=source,
                       created_by=principal.username, decided_at=None if conditional else now,
                       decision_reason=None if conditional else "无条件共享，自动生效 / unconditional: starts at once")
    db.add(sub)
    db.flush()
    audit.record(db, action="exchange.subscription.create", principal=principal, object_type="exchange_subscription",
                 object_id=sub.id, ip=ip, detail={"unit": unit.code, "resource": body.resource_code,
                                                  "channel": conn.channel, "state": sub.state})
    return sub


def ensure_active(db: Session, *, unit_code: str, resource_code: str, connection_id: str, purpose: str,
                  actor: str, source: str) -> Subscription:
    """An active subscription the office itself decided on (the hub's registration), made once."""
    unit = unit_service.get_unit_by_code(db, code=unit_code)
    sub = db.scalar(select(Subscription).where(Subscription.unit_id == unit.id,
                                               Subscription.resource_code == resource_code,
                                               Subscription.connection_id == connection_id,
                                               Subscription.state == ACTIVE))
    if sub is None:
        sub = Subscription(unit_id=unit.id, resource_code=resource_code, connection_id=connection_id, filters={},
                           state=ACTIVE, purpose=purpose, source=source, created_by=actor, decided_by=actor,
                           decided_at=utcnow(), decision_reason=purpose)
        db.add(sub)
        db.flush()
    return sub


def get_subscription(db: Session, *, subscription_id: str, principal: Principal | None = None) -> Subscription:
    sub = get_or_raise(db, Subscription, subscription_id, T("订阅不存在", "The subscription does not exist"))
    if principal is not None and not principal.can_see_unit(sub.unit_id):
        raise NotFound(T("订阅不存在", "The subscription does not exist"))
    return sub


def decide(db: Session, *, subscription_id: str, approve: bool, reason: str, principal: Principal,
           ip: str | None = None) -> Subscription:
    """The office approves or refuses a subscription to a conditional resource, with a reason."""
    if not _may_manage(principal):
        raise Forbidden(T("只有本署数据管理员可以审批订阅", "Only the office's data administrator approves subscriptions"))
    sub = get_subscription(db, subscription_id=subscription_id)
    if sub.state != PENDING:
        raise Conflict(T("该订阅状态为“{s}”，不在待审批中", "This subscription is {s}, not awaiting approval",
                         s=_lang(STATE_LABELS[sub.state])), code="not_pending")
    if not reason.strip():
        raise Invalid(T("请填写审批理由", "Give a reason for the decision"), code="reason_required", detail={"field": "reason"})
    sub.state = ACTIVE if approve else REJECTED
    sub.decided_by, sub.decision_reason, sub.decided_at = principal.username, reason.strip()[:500], utcnow()
    audit.record(db, action="exchange.subscription." + ("approve" if approve else "reject"), principal=principal,
                 object_type="exchange_subscription", object_id=sub.id, ip=ip, detail={"reason": reason[:200]})
    db.flush()
    return sub


def end(db: Session, *, subscription_id: str, reason: str, principal: Principal | None, ip: str | None = None) -> Subscription:
    """End a subscription (the unit's own operator or the office); nothing more is sent on it."""
    sub = get_subscription(db, subscription_id=subscription_id, principal=principal)
    if principal is not None and principal.is_office and not _may_manage(principal):
        raise Forbidden(T("只有数据管理员可以结束订阅", "Only a data administrator ends subscriptions"))
    if sub.state in (ENDED, REJECTED):
        raise Conflict(T("该订阅已结束或被驳回", "This subscription has already ended or was refused"), code="already_ended")
    sub.state, sub.ended_at, sub.ended_reason = ENDED, utcnow(), reason.strip()[:500]
    audit.record(db, action="exchange.subscription.end", principal=principal, object_type="exchange_subscription",
                 object_id=sub.id, ip=ip, detail={"reason": reason[:200]})
    db.flush()
    return sub


def end_for_unit(db: Session, *, unit_id: str, reason: str, principal: Principal | None = None) -> int:
    """End every pending or active subscription of a unit (leaving the sharing); how many ended."""
    subs = list(db.scalars(select(Subscription).where(Subscription.unit_id == unit_id,
                                                      Subscription.state.in_((PENDING, ACTIVE)))))
    for sub in subs:
        end(db, subscription_id=sub.id, reason=reason, principal=None)
    if subs:
        audit.record(db, action="exchange.subscription.end_unit", principal=principal, object_type="unit",
                     object_id=unit_id, detail={"ended": len(subs)})
    return len(subs)


def list_subscriptions(db: Session, *, principal: Principal, unit_code: str | None = None,
                       resource_code: str | None = None, state: str | None = None) -> list[Subscription]:
    stmt = select(Subscription).order_by(Subscription.created_at.desc())
    if not principal.is_office:
        stmt = stmt.where(Subscription.unit_id == principal.unit_id)
    if unit_code:
        unit = unit_service.find_unit_by_code(db, code=unit_code)
        stmt = stmt.where(Subscription.unit_id == (unit.id if unit else ""))
    if resource_code:
        stmt = stmt.where(Subscription.resource_code == resource_code)
    if state:
        stmt = stmt.where(Subscription.state == state)
    return list(db.scalars(stmt.limit(500)))


def active_for(db: Session, *, resource_code: str) -> list[Subscription]:
    return list(db.scalars(select(Subscription).where(Subscription.resource_code == resource_code,
                                                      Subscription.state == ACTIVE)
                           .order_by(Subscription.created_at)))


class _Names:
    def __init__(self, db: Session) -> None:
        self.db = db
        self.units: dict[str, tuple[str, str]] = {}
        self.resources: dict[str, tuple[str, str]] = {}

    def unit(self, unit_id: str) -> tuple[str, str]:
        if unit_id not in self.units:
            u = unit_service.get_unit(self.db, unit_id=unit_id)
            self.units[unit_id] = (u.code, u.name)
        return self.units[unit_id]

    def resource(self, code: str) -> tuple[str, str]:
        if code not in self.resources:
            try:
                res = catalog.get_resource(self.db, code=code)
                self.resources[code] = (res.name, res.share_type)
            except NotFound:
                self.resources[code] = (code, "")
        return self.resources[code]


def subscription_out(db: Session, sub: Subscription, names: _Names | None = None) -> SubscriptionOut:
    names = names or _Names(db)
    code, name = names.unit(sub.unit_id)
    res_name, share_type = names.resource(sub.resource_code)
    conn = connections.get_connection(db, connection_id=sub.connection_id)
    rows = list(db.scalars(select(SubscriptionDelivery.outbox_id).where(
        SubscriptionDelivery.subscription_id == sub.id, SubscriptionDelivery.outbox_id.is_not(None))))
    acked = 0
    for oid in rows:
        msg = messaging.find_outbox_message(db, message_id=oid) if oid else None
        acked += bool(msg is not None and msg.state == "delivered")
    return SubscriptionOut(
        id=sub.id, unit_id=sub.unit_id, unit_code=code, unit_name=name, resource_code=sub.resource_code,
        resource_name=res_name, share_type=share_type, connection_id=conn.id, channel=conn.channel,
        connection_state=conn.state, filters=Filters(**(sub.filters or {})), state=sub.state,
        state_label=_lang(STATE_LABELS.get(sub.state, (sub.state, sub.state))), purpose=sub.purpose, source=sub.source,
        decided_by=sub.decided_by, decision_reason=sub.decision_reason, decided_at=sub.decided_at,
        ended_at=sub.ended_at, ended_reason=sub.ended_reason, created_by=sub.created_by, created_at=sub.created_at,
        sent=len(rows), acknowledged=acked)


def subscriptions_out(db: Session, subs: list[Subscription]) -> list[SubscriptionOut]:
    names = _Names(db)
    return [subscription_out(db, s, names) for s in subs]


# what was sent ------------------------------------------------------------------------------
def record_delivery(db: Session, *, sub: Subscription, outbox_id: str | None, envelope_id: str | None,
                    case_id: str | None, case_no: str | None, event: str, event_at: datetime, state: str,
                    note: str | None = None) -> SubscriptionDelivery:
    row = SubscriptionDelivery(subscription_id=sub.id, outbox_id=outbox_id, envelope_id=envelope_id, case_id=case_id,
                               case_no=case_no, event=event, event_at=event_at, state=state,
                               note=(note or "")[:500] or None)
    db.add(row)
    db.flush()
    return row


def _seconds(later: datetime, earlier: datetime) -> float:
    if later.tzinfo is None and earlier.tzinfo is not None:
        earlier = earlier.replace(tzinfo=None)
    elif earlier.tzinfo is None and later.tzinfo is not None:
        later = later.replace(tzinfo=None)
    return round((later - earlier).total_seconds(), 3)


def delivery_out(db: Session, row: SubscriptionDelivery, sub: Subscription, names: _Names) -> DeliveryOut:
    msg = messaging.find_outbox_message(db, message_id=row.outbox_id) if row.outbox_id else None
    state = msg.state if msg is not None else row.state
    acked = msg is not None and msg.state == "delivered"
    late = None
    if msg is not None:
        late = _seconds(msg.delivered_at if acked and msg.delivered_at else utcnow(), row.event_at)
    note = row.note or (msg.last_error if msg is not None else None)
    return DeliveryOut(
        id=row.id, subscription_id=sub.id, unit_code=names.unit(sub.unit_id)[0], resource_code=sub.resource_code,
        case_no=row.case_no, event=row.event, event_label=_lang(EVENT_LABELS.get(row.event, (row.event, row.event))),
        event_at=row.event_at, state=state, acknowledged=acked, envelope_id=row.envelope_id, outbox_id=row.outbox_id,
        attempts=msg.attempts if msg is not None else 0, sent_at=msg.sent_at if msg is not None else None,
        acknowledged_at=msg.delivered_at if acked and msg is not None else None, late_seconds=late, note=note)


def deliveries(db: Session, *, principal: Principal, subscription_id: str | None = None,
               unit_code: str | None = None, case_id: str | None = None, limit: int = 200) -> list[DeliveryOut]:
    """What was sent, newest first: per subscription, per subscriber (unit) or per case."""
    stmt = (select(SubscriptionDelivery, Subscription).join(Subscription,
                                                            Subscription.id == SubscriptionDelivery.subscription_id)
            .order_by(SubscriptionDelivery.created_at.desc()).limit(min(max(limit, 1), 1000)))
    if subscription_id:
        get_subscription(db, subscription_id=subscription_id, principal=principal)
        stmt = stmt.where(SubscriptionDelivery.subscription_id == subscription_id)
    if not principal.is_office:
        stmt = stmt.where(Subscription.unit_id == principal.unit_id)
    if unit_code:
        unit = unit_service.find_unit_by_code(db, code=unit_code)
        stmt = stmt.where(Subscription.unit_id == (unit.id if unit else ""))
    if case_id:
        stmt = stmt.where(SubscriptionDelivery.case_id == case_id)
    names = _Names(db)
    return [delivery_out(db, row, sub, names) for row, sub in db.execute(stmt).all()]


def subscribers(db: Session, *, principal: Principal) -> list[SubscriberSummary]:
    """Per subscribing unit: how much was sent, acknowledged, waiting, failed, and how late the receipts came."""
    out: dict[str, dict[str, Any]] = {}
    subs_per_unit: dict[str, int] = {}
    stmt = select(Subscription.unit_id, func.count()).group_by(Subscription.unit_id)
    if not principal.is_office:
        stmt = stmt.where(Subscription.unit_id == principal.unit_id)
    for unit_id, n in db.execute(stmt).all():
        subs_per_unit[unit_id] = int(n)
    names = _Names(db)
    for unit_id, n in subs_per_unit.items():
        code, name = names.unit(unit_id)
        out[code] = {"unit_code": code, "unit_name": name, "subscriptions": n, "sent": 0, "acknowledged": 0,
                     "waiting": 0, "failed": 0, "lates": []}
    for d in deliveries(db, principal=principal, limit=1000):
        entry = out.get(d.unit_code)
        if entry is None:
            continue
        entry["sent"] += 1
        if d.acknowledged:
            entry["acknowledged"] += 1
            if d.late_seconds is not None:
                entry["lates"].append(d.late_seconds)
        elif d.state in ("dead", "refused", "not_sent"):
            entry["failed"] += 1
        else:
            entry["waiting"] += 1
    result = []
    for entry in out.values():
        lates = entry.pop("lates")
        result.append(SubscriberSummary(**entry, max_late_seconds=max(lates) if lates else None,
                                        avg_late_seconds=round(sum(lates) / len(lates), 3) if lates else None))
    return sorted(result, key=lambda s: s.unit_code)


def deliveries_for_decision(db: Session, *, case_id: str, since: datetime) -> int:
    return int(db.scalar(select(func.count()).select_from(SubscriptionDelivery).where(
        SubscriptionDelivery.case_id == case_id, SubscriptionDelivery.created_at >= since)) or 0)


def enqueue_delivery(db: Session, *, sub: Subscription, payload: dict[str, Any], data_dir: Any) -> tuple[str | None, str | None, str | None]:
    """Queue one delivery on the subscription's connection: (outbox id, envelope id, why not sent)."""
    try:
        with db.begin_nested():
            msg = messaging.enqueue(db, connection_id=sub.connection_id, type="delivery", payload=payload,
                                    data_dir=data_dir, resource=sub.resource_code)
        return msg.id, msg.envelope_id, None
    except AppError as err:
        return None, None, err.message.render("zh-CN")


# rows pushed by a pipeline ---------------------------------------------------------------------
def _row_matches(filters: dict[str, Any], row: dict[str, Any]) -> bool:
    """A subscription's district and case-type filters, where the rows carry them (``debtor_id_no`` or ``id_no``,
    ``procedure``); a row without such a column passes. Event filters name case events: a push is not one."""
    districts = filters.get("districts") or []
    if districts:
        id_no = row.get("debtor_id_no") or row.get("id_no")
        if id_no is not None and str(id_no)[:6] not in districts:
            return False
    procedures = filters.get("procedures") or []
    return not (procedures and row.get("procedure") is not None and row["procedure"] not in procedures)


def _batches(records: list[dict[str, Any]], limit: int) -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for r in records:
        n = len(json.dumps(r, ensure_ascii=False).encode()) + 1
        if current and size + n > limit:
            out.append(current)
            current, size = [], 0
        current.append(r)
        size += n
    if current:
        out.append(current)
    return out


def push_rows(db: Session, *, resource_code: str, rows: list[dict[str, Any]], data_dir: Any, actor: str,
              batch_bytes: int = PUSH_BATCH_BYTES) -> dict[str, int]:
    """Push rows of a resource (a pipeline's table, values in clear) to every active subscriber of it: per
    subscription the rows its filters let through, as ``delivery`` envelopes of at most ``batch_bytes`` of records
    (``{"event": "data_push", "pushed_at", "batch", "batches", "records"}``) through the outbox, each recorded
    as one of the subscription's deliveries. Returns the counts: subscriptions, deliveries queued, not sent (the
    connection cannot send), rows sent."""
    try:
        catalog.get_resource(db, code=resource_code)
    except NotFound:
        raise Invalid(T("目录中没有资源 {r}：请填写已登记的资源代码", "Resource {r} is not in the catalog: give a "
                        "registered resource code", r=resource_code), code="resource_not_in_catalog") from None
    subs = active_for(db, resource_code=resource_code)
    records = json.loads(json.dumps(rows, ensure_ascii=False, default=str))  # dates and decimals as text
    now = utcnow()
    counts = {"subscriptions": len(subs), "queued": 0, "not_sent": 0, "rows": 0}
    for sub in subs:
        mine = [r for r in records if _row_matches(sub.filters or {}, r)]
        chunks = _batches(mine, batch_bytes)
        for n, chunk in enumerate(chunks, start=1):
            payload = {"event": DATA_PUSH, "pushed_at": now.isoformat(), "batch": n, "batches": len(chunks),
                       "records": chunk}
            outbox_id, envelope_id, why = enqueue_delivery(db, sub=sub, payload=payload, data_dir=data_dir)
            record_delivery(db, sub=sub, outbox_id=outbox_id, envelope_id=envelope_id, case_id=None, case_no=None,
                            event=DATA_PUSH, event_at=now, state="queued" if outbox_id else "not_sent",
                            note=why)
            counts["queued" if outbox_id else "not_sent"] += 1
            counts["rows"] += len(chunk) if outbox_id else 0
    audit.record(db, action="exchange.subscription.push", actor_name=actor, object_type="resource",
                 object_id=resource_code, detail={"rows": len(records), **counts})
    return counts
