"""Routes for retention policies and destruction runs (security admin) and the destruction records (auditor)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request

from pbshare.core.http import DataDir, DbSession
from pbshare.ops import retention
from pbshare.ops.schemas import DestructionOut, RetentionPolicyIn, RetentionPolicyOut
from pbshare.security.audit import service as audit
from pbshare.security.deps import AuditReader, SecurityManager, UsersReader

if TYPE_CHECKING:  # annotations only: routes reach tables through the service
    from pbshare.ops.models import RetentionPolicy

router = APIRouter(prefix="/security/retention", tags=["retention"])
audit_router = APIRouter(prefix="/audit", tags=["audit"])



def _out(p: RetentionPolicy) -> RetentionPolicyOut:
    return RetentionPolicyOut(code=p.code, resource=p.resource, label_zh=p.label_zh, label_en=p.label_en,
                              stages=list(p.stages), keep_days=p.keep_days, is_active=p.is_active)


@router.get("", response_model=list[RetentionPolicyOut], summary="保存策略 / retention policies")
def list_policies(principal: UsersReader, db: DbSession) -> list[RetentionPolicyOut]:
    return [_out(p) for p in retention.ensure_defaults(db)]


@router.put("/{code}", response_model=RetentionPolicyOut, summary="修改保存策略 / change a retention policy")
def change_policy(code: str, body: RetentionPolicyIn, request: Request, principal: SecurityManager,
                  db: DbSession) -> RetentionPolicyOut:
    row = retention.update(db, code=code, keep_days=body.keep_days, is_active=body.is_active)
    audit.record(db, action="retention.policy", principal=principal, object_type="retention_policy", object_id=code,
                 ip=request.client.host if request.client else None, detail=body.model_dump(exclude_unset=True))
    return _out(row)


@router.post("/run", summary="执行到期销毁 / destroy expired personal data now (dry_run=true only counts)")
def run_now(principal: SecurityManager, db: DbSession, data_dir: DataDir, dry_run: bool = False) -> dict:
    result = retention.run(db, data_dir=data_dir, actor=principal.username, dry_run=dry_run)
    return {"dry_run": result.dry_run, "audit_archived": result.audit_archived,
            "outcomes": [{"policy": o.policy_code, "cutoff": o.cutoff.isoformat(), "expired": o.found,
                          "destroyed": o.destroyed} for o in result.outcomes]}


@audit_router.get("/destructions", response_model=list[DestructionOut],
                  summary="销毁记录 / what personal data was destroyed, how many, when, by whom")
def destructions(principal: AuditReader, db: DbSession) -> list:
    return retention.list_destructions(db)


@audit_router.get("/todo", summary="审计员待办 / the auditor's to-do: chain checks and pending destructions")
def auditor_todo(principal: AuditReader, db: DbSession, data_dir: DataDir) -> dict:
    pending = retention.run(db, data_dir=data_dir, actor=principal.username, dry_run=True)
    db.rollback()  # counting only: the default policies it may have added are not kept by a GET
    return {**audit.chain_status(db),
            "destructions_pending": [{"policy": o.policy_code, "resource": o.resource, "count": o.found}
                                     for o in pending.outcomes if o.found]}
