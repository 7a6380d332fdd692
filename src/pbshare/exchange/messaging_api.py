"""Routes of the exchange channels: the REST channel itself, connections, dead letters, refusals."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from pbshare.core.errors import Forbidden
from pbshare.core.http import UNIT_OF_WORK, takes_write_lock
from pbshare.core.i18n import T, current_language
from pbshare.exchange import connections, messaging
from pbshare.exchange.channel import ChannelConfig
from pbshare.exchange.connections import snapshot
from pbshare.exchange.messaging_models import CONNECTION_STATE_LABELS, ConnectionState, ExchangeConnection
from pbshare.exchange.messaging_schemas import (
    ChannelOut,
    ConnectionCreated,
    ConnectionIn,
    ConnectionOut,
    CredentialsOut,
    InboxOut,
    OutboxOut,
    RejectedOut,
    StateIn,
    TestMessageIn,
    TrafficOut,
)
from pbshare.exchange.registry import available_channels, channel_class
from pbshare.security.audit import service as audit
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

router = APIRouter(prefix="/exchange", tags=["exchange channels"])


def _lang_pick(pair: tuple[str, str]) -> str:
    return pair[1] if current_language.get().startswith("en") else pair[0]


def _channel_label(name: str) -> str:
    try:
        return _lang_pick(channel_class(name).label) or name
    except (KeyError, ImportError):
        return name


def connection_out(db: Session, conn: ExchangeConnection, traffic: dict[str, dict[str, int]]) -> ConnectionOut:
    unit = unit_service.get_unit(db, unit_id=conn.unit_id)
    t = traffic.get(conn.id, {})
    return ConnectionOut(
        id=conn.id, unit_id=unit.id, unit_code=unit.code, unit_name=unit.name, channel=conn.channel,
        channel_label=_channel_label(conn.channel), name=conn.name, state=conn.state,
        state_label=_lang_pick(CONNECTION_STATE_LABELS[ConnectionState(conn.state)]), settings=conn.settings or {},
        sig_alg=conn.sig_alg, key_id=conn.key_id, keys_revoked=conn.secret_sealed is None, encrypt=conn.encrypt,
        health=conn.health, health_detail=conn.health_detail, health_checked_at=conn.health_checked_at,
        last_seen_at=conn.last_seen_at, created_at=conn.created_at,
        traffic=TrafficOut(inbound=t.get("in", 0), outbound=t.get("out", 0), delivered=t.get("delivered", 0),
                           rejected=t.get("rejected", 0), dead=t.get("dead", 0)),
    )


def _data_dir(request: Request):
    return request.app.state.settings.resolved_data_dir


# the REST channel -------------------------------------------------------------------------------
@router.post("/messages", summary="提交信封 / submit an envelope (REST channel, signed request)",
             responses={200: {"description": "receipt or response envelope"}, 422: {"description": "error envelope"}})
@takes_write_lock
async def submit_message(request: Request, wait: str | None = Query(None, pattern="^response$"),
                         principal: Principal = Depends(require(Perm.exchange_send)),
                         db: Session = UNIT_OF_WORK) -> JSONResponse:
    if principal.via != "signature":
        raise Forbidden(T("只有单位系统（API 客户端，签名请求）可以提交信封", "Only a unit's system (an API client "
                          "with signed requests) can submit envelopes"), code="api_client_only")
    body = await request.body()
    peer = request.client.host if request.client else None
    outcome = messaging.receive(db, raw=body, channel="rest", data_dir=_data_dir(request), peer=peer,
                                caller_unit=principal.unit_code)
    db.commit()  # the receipt is an acknowledgement: it leaves only after the inbox row is durable
    answer = outcome.response if wait == "response" and outcome.response is not None else outcome.reply
    if outcome.status == "rejected":
        status = 413 if outcome.error and outcome.error.code == "too_large" else 422
    else:
        status = 200
    return JSONResponse(answer if answer is not None else {"type": "ack", "status": outcome.status},
                        status_code=status)


@router.get("/messages", summary="拉取待收消息 / pull envelopes waiting for the caller's unit")
def pull_messages(request: Request, limit: int = Query(100, ge=1, le=500),
                  principal: Principal = Depends(require(Perm.exchange_send)),
                  db: Session = UNIT_OF_WORK) -> dict[str, Any]:
    items = messaging.pull(db, unit_id=principal.unit_id, data_dir=_data_dir(request), limit=limit)
    db.commit()
    return {"items": items, "count": len(items)}


# connections --------------------------------------------------------------------------------
@router.get("/channels", response_model=list[ChannelOut], summary="可用通道 / installed channels")
def list_channels(principal: Principal = Depends(require(Perm.exchange_manage))) -> list[ChannelOut]:
    return [ChannelOut(name=n, label=_channel_label(n)) for n in available_channels()]


@router.get("/connections", response_model=list[ConnectionOut], summary="连接列表 / connections")
def list_connections(state: str | None = Query(None, max_length=16), channel: str | None = Query(None, max_length=32),
                     principal: Principal = Depends(require(Perm.exchange_manage)),
                     db: Session = UNIT_OF_WORK) -> list[ConnectionOut]:
    traffic = connections.traffic(db)
    rows = connections.list_connections(db, channel=channel, states=(state,) if state else None)
    return [connection_out(db, c, traffic) for c in rows]


@router.post("/connections", response_model=ConnectionCreated, status_code=201,
             summary="新建连接（密钥只显示这一次）/ open a connection (keys shown once)")
def create_connection(body: ConnectionIn, request: Request,
                      principal: Principal = Depends(require(Perm.exchange_manage)),
                      db: Session = UNIT_OF_WORK) -> ConnectionCreated:
    conn, creds = connections.create_connection(
        db, data_dir=_data_dir(request), unit_code=body.unit_code, channel=body.channel, name=body.name,
        settings=body.settings, sig_alg=body.sig_alg, unit_public_key=body.unit_public_key, encrypt=body.encrypt,
        principal=principal)
    return ConnectionCreated(connection=connection_out(db, conn, {}),
                             credentials=CredentialsOut(**creds.__dict__))


@router.get("/connections/{connection_id}", response_model=ConnectionOut, summary="连接详情 / one connection")
def get_connection(connection_id: str, principal: Principal = Depends(require(Perm.exchange_manage)),
                   db: Session = UNIT_OF_WORK) -> ConnectionOut:
    return connection_out(db, connections.get_connection(db, connection_id=connection_id), connections.traffic(db))


@router.post("/connections/{connection_id}/state", response_model=ConnectionOut,
             summary="变更连接状态 / move a connection to another state")
def change_state(connection_id: str, body: StateIn, principal: Principal = Depends(require(Perm.exchange_manage)),
                 db: Session = UNIT_OF_WORK) -> ConnectionOut:
    conn = connections.transition(db, connection_id=connection_id, to=body.to, principal=principal,
                                  reason=body.reason)
    return connection_out(db, conn, connections.traffic(db))


@router.post("/connections/{connection_id}/rotate-keys", response_model=CredentialsOut,
             summary="更换密钥（只显示这一次）/ new keys (shown once)")
def rotate_keys(connection_id: str, request: Request, principal: Principal = Depends(require(Perm.exchange_manage)),
                db: Session = UNIT_OF_WORK) -> CredentialsOut:
    creds = connections.rotate_keys(db, data_dir=_data_dir(request), connection_id=connection_id,
                                    principal=principal)
    return CredentialsOut(**creds.__dict__)


@router.post("/connections/{connection_id}/health", response_model=ConnectionOut,
             summary="立即检查连通性 / check health now")
async def check_health(connection_id: str, request: Request,
                       principal: Principal = Depends(require(Perm.exchange_manage))) -> ConnectionOut:
    database = request.app.state.db
    settings = request.app.state.settings

    def load():
        with database.session() as db:
            return snapshot(db, connections.get_connection(db, connection_id=connection_id))

    info = await asyncio.to_thread(load)
    channel = channel_class(info.channel)(ChannelConfig.from_settings(settings))
    try:
        health = await asyncio.wait_for(channel.health(info), timeout=10)
        ok, detail = health.ok, health.detail
    except Exception as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    finally:
        await channel.close()

    def save():
        with database.session(immediate=True) as db:
            connections.record_health(db, connection_id=connection_id, ok=ok, detail=detail)
            conn = connections.get_connection(db, connection_id=connection_id)
            return connection_out(db, conn, connections.traffic(db))

    return await asyncio.to_thread(save)


@router.post("/connections/{connection_id}/test-message", response_model=OutboxOut, status_code=201,
             summary="发送联调测试消息 / send a joint-testing message")
def send_test_message(connection_id: str, body: TestMessageIn, request: Request,
                      principal: Principal = Depends(require(Perm.exchange_manage)),
                      db: Session = UNIT_OF_WORK) -> OutboxOut:
    msg = messaging.enqueue(db, connection_id=connection_id, type="delivery", payload=body.payload,
                            data_dir=_data_dir(request), test=True)
    audit.record(db, action="exchange.test_message", principal=principal, object_type="exchange_connection",
                 object_id=connection_id, detail={"envelope_id": msg.envelope_id})
    return OutboxOut.model_validate(msg, from_attributes=True)


# outbox, dead letters, inbox, refusals ---------------------------------------------------------
@router.get("/outbox", response_model=list[OutboxOut], summary="发件箱 / outbox")
def list_outbox(state: str | None = Query(None, max_length=16), connection_id: str | None = Query(None, max_length=36),
                principal: Principal = Depends(require(Perm.exchange_manage)),
                db: Session = UNIT_OF_WORK) -> list[OutboxOut]:
    rows = messaging.list_outbox(db, states=(state,) if state else None, connection_id=connection_id)
    return [OutboxOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/dead-letters", response_model=list[OutboxOut], summary="死信 / dead letters")
def list_dead_letters(connection_id: str | None = Query(None, max_length=36),
                      principal: Principal = Depends(require(Perm.exchange_manage)),
                      db: Session = UNIT_OF_WORK) -> list[OutboxOut]:
    return [OutboxOut.model_validate(r, from_attributes=True)
            for r in messaging.dead_letters(db, connection_id=connection_id)]


@router.post("/dead-letters/{outbox_id}/replay", response_model=OutboxOut, summary="重发死信 / replay a dead letter")
def replay_dead_letter(outbox_id: str, principal: Principal = Depends(require(Perm.exchange_manage)),
                       db: Session = UNIT_OF_WORK) -> OutboxOut:
    return OutboxOut.model_validate(messaging.replay(db, outbox_id=outbox_id, principal=principal),
                                    from_attributes=True)


@router.get("/inbox", response_model=list[InboxOut], summary="收件箱（不含内容）/ inbox (metadata only)")
def list_inbox(connection_id: str | None = Query(None, max_length=36),
               principal: Principal = Depends(require(Perm.exchange_manage)),
               db: Session = UNIT_OF_WORK) -> list[InboxOut]:
    return [InboxOut.model_validate(r, from_attributes=True)
            for r in messaging.list_inbox(db, connection_id=connection_id)]


@router.get("/rejected", response_model=list[RejectedOut], summary="拒收消息 / refused messages, with reasons")
def list_rejected(connection_id: str | None = Query(None, max_length=36),
                  principal: Principal = Depends(require(Perm.exchange_manage)),
                  db: Session = UNIT_OF_WORK) -> list[RejectedOut]:
    return [RejectedOut.model_validate(r, from_attributes=True)
            for r in messaging.list_rejected(db, connection_id=connection_id)]


@router.get("/rejected/{rejected_id}/raw", summary="拒收消息原文 / the refused bytes (audited)")
def rejected_raw(rejected_id: str, request: Request, principal: Principal = Depends(require(Perm.exchange_manage)),
                 db: Session = UNIT_OF_WORK) -> dict[str, str]:
    text = messaging.rejected_raw(db, rejected_id=rejected_id, data_dir=_data_dir(request))
    audit.record(db, action="exchange.rejected.read", principal=principal, object_type="exchange_rejected",
                 object_id=rejected_id, ip=request.client.host if request.client else None)
    return {"raw": text}
