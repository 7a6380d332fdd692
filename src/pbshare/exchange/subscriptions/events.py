"""Case events → deliveries of the office's outbound resources to their subscribers.

Registered with ``cases.events.on_case_event`` when this module is imported (``subscriptions``'s
package does so), it runs in the transaction of the change: for each active subscription to the
event's resource whose filters match (district: the first six digits of the debtor's ID number; case
type: the case's procedure; events), one ``delivery`` envelope is queued on the subscription's
connection. The payload is one record in the resource's info items plus ``event`` and ``event_at``.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from pbshare.exchange.cases import service as cases
from pbshare.exchange.cases.events import CaseEvent, CaseEventKind, on_case_event
from pbshare.exchange.subscriptions import service

log = logging.getLogger("pbshare.exchange.subscriptions")


def _record(db: Session, event: CaseEvent, resource: str, id_no: str) -> dict[str, Any]:
    case = cases.get_case(db, case_id=event.case_id)
    base: dict[str, Any] = {"event": event.kind, "event_at": event.occurred_at.isoformat(), "case_no": case.case_no,
                            "debtor_name": case.debtor.name, "debtor_id_no": id_no}
    decision = cases.get_decision(db, decision_id=event.decision_id) if event.decision_id else None
    detail = dict(decision.detail or {}) if decision is not None else {}
    if resource == "801001":
        base.update({"procedure": case.procedure, "accepted_on": case.accepted_on.isoformat()})
        if decision is not None and decision.kind == "administrator":
            base.update({"administrator": detail.get("administrator"), "appointed_on": decision.effective_on.isoformat()})
        if decision is not None and decision.kind == "public_display":
            ended = decision.ended_on.isoformat() if decision.ended_on else None
            base.update({"display_decision_no": decision.decision_no, "display_from": decision.effective_on.isoformat(),
                         "display_to": ended or detail.get("display_until")})
    elif resource == "801002" and decision is not None:
        base.update({"decision_no": decision.decision_no, "restriction": detail.get("restriction"),
                     "effective_on": decision.effective_on.isoformat(),
                     "lifted_on": decision.ended_on.isoformat() if decision.ended_on else None})
    elif resource == "801003" and decision is not None:
        base.update({"decision_no": decision.decision_no, "result": detail.get("result"),
                     "probation_from": detail.get("probation_from"), "probation_to": detail.get("probation_to")})
    return base


def _matches(filters: dict[str, Any], *, kind: str, district: str, procedure: str) -> bool:
    if filters.get("events") and kind not in filters["events"]:
        return False
    if filters.get("districts") and district not in filters["districts"]:
        return False
    return not (filters.get("procedures") and procedure not in filters["procedures"])


@on_case_event
def fan_out(db: Session, event: CaseEvent) -> None:
    resource = service.resource_for_event(event.kind)
    if resource is None:
        return
    subs = service.active_for(db, resource_code=resource)
    if not subs:
        return
    case = cases.get_case(db, case_id=event.case_id)
    id_no = cases.debtor_id_no(db, debtor_id=case.debtor_id, data_dir=event.data_dir)
    payload = _record(db, event, resource, id_no)
    district = id_no[:6]
    for sub in subs:
        if not _matches(sub.filters or {}, kind=event.kind, district=district, procedure=case.procedure):
            continue
        outbox_id, envelope_id, why = service.enqueue_delivery(db, sub=sub, payload=payload, data_dir=event.data_dir)
        service.record_delivery(db, sub=sub, outbox_id=outbox_id, envelope_id=envelope_id, case_id=case.id,
                                case_no=case.case_no, event=event.kind, event_at=event.occurred_at,
                                state="queued" if outbox_id else "not_sent", note=why)
        if why:
            log.warning("a %s delivery for subscription %s was not sent: the connection cannot send", resource, sub.id)


__all__ = ["CaseEventKind", "fan_out"]
