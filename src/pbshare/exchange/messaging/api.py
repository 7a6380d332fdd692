"""Routes of messaging: the REST channel itself (``router``), and the outbox, dead letters, inbox and
refusals for the office (``mailbox_router``).

Two routers so that ``pbshare.api`` mounts the connections' routes between them, where they have
always been.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pbshare.core.errors import Forbidden
from pbshare.core.http import DataDir, DbSession, takes_write_lock
from pbshare.core.i18n import T
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import InboxUnavailable
from pbshare.exchange.deps import ExchangeManager, UnitSystem
from pbshare.exchange.hub import Received, inbox_writer
from pbshare.exchange.messaging import service
from pbshare.exchange.messaging.schemas import InboxOut, OutboxOut, RejectedOut

router = APIRouter(prefix="/exchange", tags=["exchange channels"])
mailbox_router = APIRouter(prefix="/exchange", tags=["exchange channels"])


# the REST channel -------------------------------------------------------------------------------
@router.post("/messages", summary="提交信封 / submit an envelope (REST channel, signed request)",
             responses={200: {"description": "receipt or response envelope"}, 422: {"description": "error envelope"},
                        503: {"description": "error envelope inbox_unavailable: send the same envelope later"}})
@takes_write_lock
async def submit_message(request: Request, principal: UnitSystem, data_dir: DataDir,
                         wait: str | None = Query(None, pattern="^response$")) -> JSONResponse:
    if principal.via != "signature":
        raise Forbidden(T("只有单位系统（API 客户端，签名请求）可以提交信封", "Only a unit's system (an API client "
                          "with signed requests) can submit envelopes"), code="api_client_only")
    body = await request.body()
    peer = request.client.host if request.client else None
    writer = inbox_writer(request.app.state.db, channel="rest", data_dir=data_dir, max_bytes=env_mod.MAX_BYTES)
    try:
        # In a worker thread, not on the event loop: the inbox commits there, together with the envelopes of
        # the other requests that came in meanwhile (a group commit); the receipt leaves only after it.
        [outcome] = await run_in_threadpool(writer.receive, [(body, peer, principal.unit_code)])
    except Exception as exc:
        if not service.is_outage(exc):
            raise
        # The database failed, not the message: nothing was taken; the unit sends the same envelope again.
        unavailable = InboxUnavailable(type(exc).__name__, office=service.office_code())
        return JSONResponse(unavailable.reply, status_code=503, headers={"Retry-After": "5"})
    answer = outcome.response if wait == "response" and outcome.response is not None else outcome.reply
    if outcome.status == "rejected":
        status = 413 if outcome.error and outcome.error.code == "too_large" else 422
    else:
        status = 200
    return JSONResponse(answer if answer is not None else {"type": "ack", "status": outcome.status},
                        status_code=status)


MAX_BATCH = 500  # envelopes in one batched request (the request is also bounded to the channel's byte limit)


@router.post("/messages/batch", summary="批量提交信封 / submit many envelopes in one signed request (REST channel)",
             responses={200: {"description": "one answer per envelope, in order: receipt or error envelope"},
                        422: {"description": "error envelope: the body is not {\"envelopes\": [...]}"},
                        503: {"description": "error envelope inbox_unavailable: send the same request later"}})
@takes_write_lock
async def submit_batch(request: Request, principal: UnitSystem, db: DbSession, data_dir: DataDir) -> JSONResponse:
    """``{"envelopes": [envelope, ...]}``: each envelope is checked, stored and answered as if posted alone
    (its own signature, its own receipt or error), all in one transaction; the answer lists them in order."""
    if principal.via != "signature":
        raise Forbidden(T("只有单位系统（API 客户端，签名请求）可以提交信封", "Only a unit's system (an API client "
                          "with signed requests) can submit envelopes"), code="api_client_only")
    body = await request.body()
    peer = request.client.host if request.client else None
    try:
        parsed = env_mod.loads(body)
        envelopes = parsed.get("envelopes") if isinstance(parsed, dict) else None
        if not isinstance(envelopes, list) or not 1 <= len(envelopes) <= MAX_BATCH:
            raise env_mod.EnvelopeError("bad_batch", T(
                "批量请求须为 JSON 对象，其 envelopes 字段为 1 至 {m} 个信封的数组",
                "A batched request must be a JSON object whose envelopes field is a list of 1 to {m} envelopes",
                m=MAX_BATCH))
    except env_mod.EnvelopeError as err:
        refused = await run_in_threadpool(service.refuse, db, raw=body, channel="rest", err=err, data_dir=data_dir,
                                          peer=peer)
        return JSONResponse(refused.reply, status_code=422)
    # Each element was read by the strict parser, so its canonical form exists: that is what the inbox reads.
    raws: list[Received] = [(env_mod.dumps(e), peer, principal.unit_code) for e in envelopes]
    writer = inbox_writer(request.app.state.db, channel="rest", data_dir=data_dir, max_bytes=env_mod.MAX_BYTES)
    try:
        outcomes = await run_in_threadpool(writer.receive, raws)
    except Exception as exc:
        if not service.is_outage(exc):
            raise
        unavailable = InboxUnavailable(type(exc).__name__, office=service.office_code())
        return JSONResponse(unavailable.reply, status_code=503, headers={"Retry-After": "5"})
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return JSONResponse({"items": [o.reply if o.reply is not None else {"type": "ack", "status": o.status}
                                   for o in outcomes], **counts})


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
