"""Routes of leaving: what terminating a connection will close, and terminating it."""

from __future__ import annotations

from fastapi import APIRouter

from pbshare.core.errors import Invalid
from pbshare.core.http import DataDir, DbSession, takes_write_lock
from pbshare.core.i18n import T
from pbshare.exchange.deps import ExchangeManager
from pbshare.exchange.leaving import service
from pbshare.exchange.leaving.schemas import LeaveIn, LeavePreview

router = APIRouter(prefix="/exchange", tags=["leaving"])


@router.get("/connections/{connection_id}/termination", response_model=LeavePreview,
            summary="终止前预览：将关闭的全部内容 / what terminating this connection will close")
def preview(connection_id: str, principal: ExchangeManager, db: DbSession) -> LeavePreview:
    return service.preview(db, connection_id=connection_id)


@router.post("/connections/{connection_id}/termination", response_model=LeavePreview,
             summary="终止连接（退出共享，不可恢复）/ terminate the connection (leaving; for good)")
@takes_write_lock
def terminate(connection_id: str, body: LeaveIn, principal: ExchangeManager, db: DbSession,
              data_dir: DataDir) -> LeavePreview:
    if not body.confirm:
        raise Invalid(T("请先查看将关闭的内容并确认（confirm=true）", "Look at what will be closed first, then confirm "
                        "(confirm=true)"), code="confirm_required")
    return service.terminate(db, connection_id=connection_id, reason=body.reason, data_dir=data_dir,
                             principal=principal)
