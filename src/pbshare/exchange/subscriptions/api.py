"""Routes of subscriptions (``router``) and of the decisions on a case that feed them (``decisions_router``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from pbshare.core.clock import utcnow
from pbshare.core.http import DataDir, DbSession, takes_write_lock
from pbshare.exchange.cases import service as cases
from pbshare.exchange.deps import CaseReader
from pbshare.exchange.subscriptions import service
from pbshare.exchange.subscriptions.schemas import (
    DecisionCreate,
    DecisionEnd,
    DecisionIn,
    DecisionOut,
    DeliveryOut,
    EndIn,
    SubscriberSummary,
    SubscriptionIn,
    SubscriptionOut,
)
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])
decisions_router = APIRouter(prefix="/cases", tags=["cases"])

# Anyone who reads the catalog sees subscriptions (a unit operator: only its own unit's); the service
# checks who may register, approve or end one.
SubscriptionReader = Annotated[Principal, Depends(require(Perm.catalog_read))]
CaseWriter = Annotated[Principal, Depends(require(Perm.cases_write))]


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("", response_model=list[SubscriptionOut], summary="订阅列表 / subscriptions")
def list_subscriptions(principal: SubscriptionReader, db: DbSession,
                       unit: str | None = Query(None, max_length=32), resource: str | None = Query(None, max_length=32),
                       state: str | None = Query(None, pattern="^(pending|active|rejected|ended)$")) -> list[SubscriptionOut]:
    subs = service.list_subscriptions(db, principal=principal, unit_code=unit, resource_code=resource, state=state)
    return service.subscriptions_out(db, subs)


@router.post("", response_model=SubscriptionOut, status_code=201,
             summary="订阅本署出向资源 / subscribe a unit to an outbound resource (conditional: awaits approval)")
@takes_write_lock
def create_subscription(body: SubscriptionIn, request: Request, principal: SubscriptionReader,
                        db: DbSession) -> SubscriptionOut:
    sub = service.subscribe(db, body=body, principal=principal,
                            source="office" if principal.is_office else "portal", ip=_ip(request))
    return service.subscription_out(db, sub)


@router.get("/subscribers", response_model=list[SubscriberSummary],
            summary="各订阅单位的推送情况 / per subscriber: sent, acknowledged, waiting, failed, lateness")
def subscribers(principal: SubscriptionReader, db: DbSession) -> list[SubscriberSummary]:
    return service.subscribers(db, principal=principal)


@router.get("/deliveries", response_model=list[DeliveryOut],
            summary="推送记录 / what was sent, when, acknowledged or not, how late")
def deliveries(principal: SubscriptionReader, db: DbSession, unit: str | None = Query(None, max_length=32),
               subscription_id: str | None = Query(None, max_length=36), case_id: str | None = Query(None, max_length=36),
               limit: int = Query(200, ge=1, le=1000)) -> list[DeliveryOut]:
    return service.deliveries(db, principal=principal, subscription_id=subscription_id, unit_code=unit,
                              case_id=case_id, limit=limit)


@router.get("/{subscription_id}", response_model=SubscriptionOut, summary="一条订阅 / one subscription")
def get_subscription(subscription_id: str, principal: SubscriptionReader, db: DbSession) -> SubscriptionOut:
    return service.subscription_out(db, service.get_subscription(db, subscription_id=subscription_id,
                                                                 principal=principal))


@router.post("/{subscription_id}/decision", response_model=SubscriptionOut,
             summary="审批有条件共享的订阅 / approve or refuse, with a reason")
@takes_write_lock
def decide(subscription_id: str, body: DecisionIn, request: Request, principal: SubscriptionReader,
           db: DbSession) -> SubscriptionOut:
    sub = service.decide(db, subscription_id=subscription_id, approve=body.approve, reason=body.reason,
                         principal=principal, ip=_ip(request))
    return service.subscription_out(db, sub)


@router.post("/{subscription_id}/end", response_model=SubscriptionOut, summary="结束订阅 / end a subscription")
@takes_write_lock
def end(subscription_id: str, body: EndIn, request: Request, principal: SubscriptionReader,
        db: DbSession) -> SubscriptionOut:
    sub = service.end(db, subscription_id=subscription_id, reason=body.reason, principal=principal, ip=_ip(request))
    return service.subscription_out(db, sub)


# decisions on a case ---------------------------------------------------------------------------
@decisions_router.get("/{case_id}/decisions", response_model=list[DecisionOut],
                      summary="案件的决定（管理人、行为限制、免责、公示）/ a case's decisions")
def list_decisions(case_id: str, principal: CaseReader, db: DbSession) -> list[DecisionOut]:
    cases.get_case(db, case_id=case_id)
    return [DecisionOut.model_validate(d, from_attributes=True) for d in cases.list_decisions(db, case_id=case_id)]


@decisions_router.post("/{case_id}/decisions", response_model=DecisionOut, status_code=201,
                       summary="登记决定并推送给订阅单位 / record a decision; its event goes to the subscribers")
@takes_write_lock
def create_decision(case_id: str, body: DecisionCreate, principal: CaseWriter, db: DbSession,
                    data_dir: DataDir) -> DecisionOut:
    started = utcnow()
    detail = {k: v for k, v in {
        "restriction": body.restriction, "administrator": body.administrator, "result": body.result,
        "probation_from": body.probation_from.isoformat() if body.probation_from else None,
        "probation_to": body.probation_to.isoformat() if body.probation_to else None,
        "display_until": body.display_until.isoformat() if body.display_until else None}.items() if v is not None}
    row = cases.decide(db, case_id=case_id, kind=body.kind, decision_no=body.decision_no,
                       effective_on=body.effective_on, detail=detail, principal=principal, data_dir=data_dir)
    out = DecisionOut.model_validate(row, from_attributes=True)
    out.deliveries = service.deliveries_for_decision(db, case_id=case_id, since=started)
    return out


@decisions_router.post("/{case_id}/decisions/{decision_id}/end", response_model=DecisionOut,
                       summary="解除限制或结束公示 / lift a restriction or end a display")
@takes_write_lock
def end_decision(case_id: str, decision_id: str, body: DecisionEnd, principal: CaseWriter, db: DbSession,
                 data_dir: DataDir) -> DecisionOut:
    if cases.get_decision(db, decision_id=decision_id).case_id != case_id:
        cases.get_case(db, case_id="")  # 404 in the same words as an unknown case
    started = utcnow()
    row = cases.end_decision(db, decision_id=decision_id, ended_on=body.ended_on, principal=principal,
                             data_dir=data_dir)
    out = DecisionOut.model_validate(row, from_attributes=True)
    out.deliveries = service.deliveries_for_decision(db, case_id=case_id, since=started)
    return out
