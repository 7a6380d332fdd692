"""Routes of messaging: the REST channel itself (``router``), and the outbox, dead letters, inbox and
refusals for the office (``mailbox_router``).

Two routers so that ``pbshare.api`` mounts the connections' routes between them, where they have
always been.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pbshare.core.errors import Forbidden
from pbshare.core.http import DataDir, DbSession, takes_write_lock
from pbshare.core.i18n import T
from pbshare.exchange.channel import InboxUnavailable
from pbshare.exchange.deps import ExchangeManager, UnitSystem
from pbshare.exchange.messaging import service
from pbshare.exchange.messaging.schemas import InboxOut, OutboxOut, RejectedOut

router = APIRouter(prefix="/exchange", tags=["exchange channels"])
mailbox_router = APIRouter(prefix="/exchange", tags=["exchange channels"])


# the REST channel -------------------------------------------------------------------------------
@router.post("/messages", summary="提交信封 / submit an envelope (REST channel, signed request)",
             responses={200: {"description": "receipt or response envelope"}, 422: {"description": "error envelope"},
                        503: {"description": "error envelope inbox_unavailable: send the same envelope later"}})
@takes_write_lock
async def submit_message(request: Request, principal: UnitSystem, db: DbSession, data_dir: DataDir,
                         wait: str | None = Query(None, pattern="^response$")) -> JSONResponse:
    if principal.via != "signature":
        raise Forbidden(T("只有单位系统（API 客户端，签名请求）可以提交信封", "Only a unit's system (an API client "
                          "with signed requests) can submit envelopes"), code="api_client_only")
    body = await request.body()
    peer = request.client.host if request.client else None

    def take() -> Any:
        outcome = service.receive(db, raw=body, channel="rest", data_dir=data_dir, peer=peer,
                                  caller_unit=principal.unit_code)
        db.commit()  # the receipt is an acknowledgement: it leaves only after the inbox row is durable
        return outcome

    try:
        # In a worker thread, not on the event loop: receiving waits for the audit chain's lock, and the
        # request holding it commits through the event loop (a wait here would deadlock the server).
        outcome = await run_in_threadpool(take)
    except Exception as exc:
        if not service.is_outage(exc):
            raise
        # The database failed, not the message: nothing was taken; the unit sends the same envelope again.
        with contextlib.suppress(Exception):
            db.rollback()
        unavailable = InboxUnavailable(type(exc).__name__, office=service.office_code())
        return JSONResponse(unavailable.reply, status_code=503, headers={"Retry-After": "5"})
    answer = outcome.response if wait == "response" and outcome.response is not None else outcome.reply
    if outcome.status == "rejected":
        status = 413 if outcome.error and outcome.error.code == "too_large" else 422
    else:
        status = 200
    return JSONResponse(answer if answer is not None else {"type": "ack", "status": outcome.status},
                        status_code=status)


@router.get("/messages", summary="拉取待收消息 / pull envelopes waiting for the caller's unit")
def pull_messages(principal: UnitSystem, db: DbSession, data_dir: DataDir,
                  limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    items = service.pull(db, unit_id=principal.unit_id, data_dir=data_dir, limit=limit)
    db.commit()
    return {"items": items, "count": len(items)}


# outbox, dead letters, inbox, refusals ---------------------------------------------------------
@mailbox_router.get("/outbox", response_model=list[OutboxOut], summary="发件箱 / outbox")
def list_outbox(principal: ExchangeManager, db: DbSession, state: str | None = Query(None, max_length=16),
                connection_id: str | None = Query(None, max_length=36)) -> list[OutboxOut]:
    rows = service.list_outbox(db, states=(state,) if state else None, connection_id=connection_id)
    return [OutboxOut.model_validate(r, from_attributes=True) for r in rows]


@mailbox_router.get("/dead-letters", response_model=list[OutboxOut], summary="死信 / dead letters")
def list_dead_letters(principal: ExchangeManager, db: DbSession,
                      connection_id: str | None = Query(None, max_length=36)) -> list[OutboxOut]:
    return [OutboxOut.model_validate(r, from_attributes=True)
            for r in service.dead_letters(db, connection_id=connection_id)]


@mailbox_router.post("/dead-letters/{outbox_id}/replay", response_model=OutboxOut,
                     summary="重发死信 / replay a dead letter")
def replay_dead_letter(outbox_id: str, principal: ExchangeManager, db: DbSession) -> OutboxOut:
    return OutboxOut.model_validate(service.replay(db, outbox_id=outbox_id, principal=principal),
                                    from_attributes=True)


@mailbox_router.get("/inbox", response_model=list[InboxOut], summary="收件箱（不含内容）/ inbox (metadata only)")
def list_inbox(principal: ExchangeManager, db: DbSession,
               connection_id: str | None = Query(None, max_length=36)) -> list[InboxOut]:
    return [InboxOut.model_validate(r, from_attributes=True)
            for r in service.list_inbox(db, connection_id=connection_id)]


@mailbox_router.get("/rejected", response_model=list[RejectedOut], summary="拒收消息 / refused messages, with reasons")
def list_rejected(principal: ExchangeManager, db: DbSession,
                  connection_id: str | None = Query(None, max_length=36)) -> list[RejectedOut]:
    return [RejectedOut.model_validate(r, from_attributes=True)
            for r in service.list_rejected(db, connection_id=connection_id)]


@mailbox_router.get("/rejected/{rejected_id}/raw", summary="拒收消息原文 / the refused bytes (audited)")
def rejected_raw(rejected_id: str, request: Request, principal: ExchangeManager, db: DbSession,
                 data_dir: DataDir) -> dict[str, str]:
    text = service.read_rejected_raw(db, rejected_id=rejected_id, data_dir=data_dir, principal=principal,
                                ip=request.client.host if request.client else None)
    return {"raw": text}
