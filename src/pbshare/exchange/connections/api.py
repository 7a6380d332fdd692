"""Routes of connections: installed channels, opening and moving connections, keys, health, test messages."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query

from pbshare.catalog.deps import CatalogReader
from pbshare.core.db import Database
from pbshare.core.http import DatabaseDep, DataDir, DbSession, SettingsDep
from pbshare.exchange.channel import ChannelConfig
from pbshare.exchange.connections import service
from pbshare.exchange.connections.schemas import (
    ChannelOut,
    ConnectionCreated,
    ConnectionIn,
    ConnectionOut,
    CredentialsOut,
    StateIn,
    TestMessageIn,
)
from pbshare.exchange.deps import ExchangeManager
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.messaging.schemas import OutboxOut

router = APIRouter(prefix="/exchange", tags=["exchange channels"])


def _fresh_view(database: Database, connection_id: str) -> ConnectionOut:
    with database.session() as db:
        return service.connection_out(db, service.get_connection(db, connection_id=connection_id),
                                      messaging.traffic(db))


@router.get("/channels", response_model=list[ChannelOut], summary="可用通道 / installed channels")
def list_channels(principal: ExchangeManager) -> list[ChannelOut]:
    return service.channels_out()


@router.get("/connections", response_model=list[ConnectionOut], summary="连接列表 / connections")
def list_connections(principal: ExchangeManager, db: DbSession, state: str | None = Query(None, max_length=16),
                     channel: str | None = Query(None, max_length=32)) -> list[ConnectionOut]:
    traffic = messaging.traffic(db)
    rows = service.list_connections(db, channel=channel, states=(state,) if state else None)
    return [service.connection_out(db, c, traffic) for c in rows]


@router.post("/connections", response_model=ConnectionCreated, status_code=201,
             summary="新建连接（密钥只显示这一次）/ open a connection (keys shown once)")
def create_connection(body: ConnectionIn, principal: ExchangeManager, db: DbSession,
                      data_dir: DataDir) -> ConnectionCreated:
    conn, creds = service.create_connection(
        db, data_dir=data_dir, unit_code=body.unit_code, channel=body.channel, name=body.name,
        settings=body.settings, sig_alg=body.sig_alg, unit_public_key=body.unit_public_key, encrypt=body.encrypt,
        principal=principal)
    return ConnectionCreated(connection=service.connection_out(db, conn, {}),
                             credentials=CredentialsOut(**creds.__dict__))


@router.get("/connections/live-units", response_model=list[str],
            summary="有正式运行连接的单位代码 / codes of the units with a live connection")
def live_units(principal: CatalogReader, db: DbSession) -> list[str]:
    return service.live_unit_codes(db)


@router.get("/connections/{connection_id}", response_model=ConnectionOut, summary="连接详情 / one connection")
def get_connection(connection_id: str, principal: ExchangeManager, db: DbSession) -> ConnectionOut:
    return service.connection_out(db, service.get_connection(db, connection_id=connection_id), messaging.traffic(db))


@router.post("/connections/{connection_id}/state", response_model=ConnectionOut,
             summary="变更连接状态 / move a connection to another state")
def change_state(connection_id: str, body: StateIn, principal: ExchangeManager, db: DbSession) -> ConnectionOut:
    conn = service.transition(db, connection_id=connection_id, to=body.to, principal=principal, reason=body.reason,
                              override_reason=body.override_reason)
    return service.connection_out(db, conn, messaging.traffic(db))


@router.post("/connections/{connection_id}/rotate-keys", response_model=CredentialsOut,
             summary="更换密钥（只显示这一次）/ new keys (shown once)")
def rotate_keys(connection_id: str, principal: ExchangeManager, db: DbSession, data_dir: DataDir) -> CredentialsOut:
    creds = service.rotate_keys(db, data_dir=data_dir, connection_id=connection_id, principal=principal)
    return CredentialsOut(**creds.__dict__)


@router.post("/connections/{connection_id}/health", response_model=ConnectionOut,
             summary="立即检查连通性 / check health now")
async def check_health(connection_id: str, principal: ExchangeManager, database: DatabaseDep,
                       settings: SettingsDep) -> ConnectionOut:
    # The check may wait on the unit for seconds: it reads and records in short sessions of its own.
    await service.check_health(database, ChannelConfig.from_settings(settings), connection_id=connection_id)
    return await asyncio.to_thread(_fresh_view, database, connection_id)


@router.post("/connections/{connection_id}/test-message", response_model=OutboxOut, status_code=201,
             summary="发送联调测试消息 / send a joint-testing message")
def send_test_message(connection_id: str, body: TestMessageIn, principal: ExchangeManager, db: DbSession,
                      data_dir: DataDir) -> OutboxOut:
    msg = messaging.send_test_message(db, connection_id=connection_id, payload=body.payload, data_dir=data_dir,
                                      principal=principal)
    return OutboxOut.model_validate(msg, from_attributes=True)
