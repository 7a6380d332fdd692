"""Routes of the debtor's file (``/api/v1/debtors``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from pbshare.core.http import DatabaseDep, DbSession
from pbshare.exchange.cases.schemas import UnmaskIn
from pbshare.exchange.debtors import service
from pbshare.exchange.debtors.schemas import DebtorFileOut, DebtorRow
from pbshare.exchange.deps import CaseReader, CaseUnmasker

router = APIRouter(prefix="/debtors", tags=["exchange"])


@router.get("", response_model=list[DebtorRow], summary="债务人 / debtors (identifiers masked)")
def search(principal: CaseReader, db: DbSession,
           q: Annotated[str | None, Query(max_length=100, description="姓名 / name")] = None,
           limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[DebtorRow]:
    return service.search(db, q=q, limit=limit)


@router.get("/{debtor_id}/file", response_model=DebtorFileOut,
            summary="债务人档案（证件号码已遮蔽） / the debtor's file, identifiers masked; audited")
def debtor_file(debtor_id: str, request: Request, principal: CaseReader, db: DbSession,
                database: DatabaseDep) -> DebtorFileOut:
    out = service.debtor_file(db, database, debtor_id=debtor_id, principal=principal,
                              ip=request.client.host if request.client else None)
    db.commit()
    return out


@router.post("/{debtor_id}/unmask", response_model=DebtorFileOut,
             summary="完整显示债务人身份 / the file with the debtor's identity in clear, with a stated purpose")
def unmask(debtor_id: str, body: UnmaskIn, request: Request, principal: CaseUnmasker, db: DbSession,
           database: DatabaseDep) -> DebtorFileOut:
    out = service.debtor_file(db, database, debtor_id=debtor_id, principal=principal, unmask_purpose=body.purpose,
                              ip=request.client.host if request.client else None)
    db.commit()
    return out
