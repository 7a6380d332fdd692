"""Routes of joint testing: the plan's runs (reports) per connection, evaluation, Excel, going live."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from pbshare.core.http import DataDir, DbSession, takes_write_lock
from pbshare.exchange.connections import service as connections
from pbshare.exchange.connections.schemas import ConnectionOut
from pbshare.exchange.deps import ExchangeManager
from pbshare.exchange.jointtest import service
from pbshare.exchange.jointtest.schemas import GoLiveIn, GoLiveStatusOut, RunOut
from pbshare.exchange.messaging import service as messaging

router = APIRouter(prefix="/exchange", tags=["joint testing"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/connections/{connection_id}/jointtests", response_model=list[RunOut],
            summary="连接的联调测试报告 / a connection's joint-test reports, newest first")
@takes_write_lock
def list_runs(connection_id: str, principal: ExchangeManager, db: DbSession, data_dir: DataDir) -> list[RunOut]:
    runs = service.list_runs(db, connection_id=connection_id)
    if runs and runs[0].state == "running":
        service.evaluate(db, run_id=runs[0].id, data_dir=data_dir)
    return [service.run_out(r) for r in runs]


@router.post("/connections/{connection_id}/jointtests", response_model=RunOut, status_code=201,
             summary="运行测试计划（发送测试请求与推送）/ run the test plan (sends the test requests and pushes)")
@takes_write_lock
def start(connection_id: str, principal: ExchangeManager, db: DbSession, data_dir: DataDir) -> RunOut:
    return service.run_out(service.start(db, connection_id=connection_id, data_dir=data_dir, principal=principal))


@router.get("/jointtests/{run_id}", response_model=RunOut, summary="一份联调测试报告（即时评估）/ one report, evaluated now")
@takes_write_lock
def get_run(run_id: str, principal: ExchangeManager, db: DbSession, data_dir: DataDir) -> RunOut:
    return service.run_out(service.evaluate(db, run_id=run_id, data_dir=data_dir))


@router.post("/jointtests/{run_id}/finish", response_model=RunOut,
             summary="结束测试并出具报告（未答复的步骤记为未通过）/ end the test; steps without an answer fail")
@takes_write_lock
def finish(run_id: str, principal: ExchangeManager, db: DbSession, data_dir: DataDir) -> RunOut:
    return service.run_out(service.finish(db, run_id=run_id, data_dir=data_dir, principal=principal))


@router.get("/jointtests/{run_id}/export.xlsx", summary="下载联调测试报告（Excel）/ the report as Excel")
def export(run_id: str, principal: ExchangeManager, db: DbSession) -> Response:
    data = service.export_excel(db, run_id=run_id, principal=principal)
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename=\"jointtest-{run_id[:8]}.xlsx\""})


@router.get("/connections/{connection_id}/go-live", response_model=GoLiveStatusOut,
            summary="能否上线及原因 / whether the connection may go live now, and why not")
@takes_write_lock
def go_live_status(connection_id: str, principal: ExchangeManager, db: DbSession, data_dir: DataDir) -> GoLiveStatusOut:
    return service.go_live_status(db, connection_id=connection_id, data_dir=data_dir)


@router.post("/connections/{connection_id}/go-live", response_model=ConnectionOut,
             summary="上线（需通过的联调测试报告，或管理员的理由）/ go live (a passed report, or an override reason)")
@takes_write_lock
def go_live(connection_id: str, body: GoLiveIn, principal: ExchangeManager, db: DbSession,
            data_dir: DataDir) -> ConnectionOut:
    conn = service.go_live(db, connection_id=connection_id, data_dir=data_dir, principal=principal,
                           override_reason=body.override_reason)
    return connections.connection_out(db, conn, messaging.traffic(db))
