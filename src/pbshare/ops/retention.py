"""Retention of personal data and its destruction with a record (GB/T 35273, GB/T 39477 §6.3).

Each policy says how long one kind of data is kept after its anchor date (for a case: its last
stage change, i.e. discharge or termination). ``run`` deletes what has expired and leaves a
``DestructionRecord`` with what, how many, when and by whom, never the data itself, plus an audit
record. It also moves audit records past the online period into signed archive files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pbshare.core.clock import utcnow
from pbshare.core.errors import Invalid
from pbshare.core.i18n import T
from pbshare.core.lookup import one_or_raise
from pbshare.exchange.cases import service as exchange_service
from pbshare.ops.models import DestructionRecord, RetentionPolicy
from pbshare.security.audit import log as audit_log
from pbshare.security.audit import service as audit
from pbshare.security.identity.policy import get_policy

BATCH = 500

DEFAULT_POLICIES = [
    # 公开信息：免责后保存 8 年
    {"code": "case.discharged", "resource": "bankruptcy_case", "stages": ["discharged"], "keep_days": 8 * 365 + 2,
     "label_zh": "已免责案件及债务人信息：免责后保存 8 年（公开期满）后删除",
     "label_en": "Discharged cases and their debtors: kept 8 years after discharge (end of public display), "
                 "then deleted"},
    # 其他：程序终结后保存 1 年
    {"code": "case.closed", "resource": "bankruptcy_case", "stages": ["closed"], "keep_days": 365,
     "label_zh": "终结（未免责）案件及债务人信息：终结后保存 1 年后删除",
     "label_en": "Cases closed without discharge and their debtors: kept 1 year after closing, then deleted"},
]


def ensure_defaults(db: Session) -> list[RetentionPolicy]:
    for spec in DEFAULT_POLICIES:
        if db.scalar(select(RetentionPolicy.id).where(RetentionPolicy.code == spec["code"])) is None:
            try:
                with db.begin_nested():  # two first requests at once: the second one's insert loses, harmlessly
                    db.add(RetentionPolicy(**spec))
            except IntegrityError:
                pass
    return list(db.scalars(select(RetentionPolicy).order_by(RetentionPolicy.code)))


def update(db: Session, *, code: str, keep_days: int | None = None, is_active: bool | None = None) -> RetentionPolicy:
    ensure_defaults(db)
    row = one_or_raise(db, select(RetentionPolicy).where(RetentionPolicy.code == code),
                       T("保存策略 {c} 不存在", "There is no retention policy {c}", c=code))
    if keep_days is not None:
        if keep_days < 30:
            raise Invalid(T("保存期不能少于 30 天", "Keep data at least 30 days"), code="retention_too_short")
        row.keep_days = keep_days
    if is_active is not None:
        row.is_active = is_active
    row.updated_at = utcnow()
    db.flush()
    return row


@dataclass
class RetentionOutcome:
    policy_code: str
    resource: str
    cutoff: datetime
    found: int
    destroyed: dict[str, int] = field(default_factory=dict)


@dataclass
class RetentionRun:
    outcomes: list[RetentionOutcome]
    audit_archived: int
    audit_file: str | None
    dry_run: bool


def run(db: Session, *, data_dir: Path, actor: str, now: datetime | None = None, dry_run: bool = False) -> RetentionRun:
    """Destroy what has expired under every active policy; with ``dry_run`` only count it."""
    now = now or utcnow()
    outcomes = []
    for policy in ensure_defaults(db):
        if not policy.is_active:
            continue
        cutoff = now - timedelta(days=policy.keep_days)
        ids = exchange_service.expired_case_ids(db, stages=list(policy.stages), ended_before=cutoff)
        outcome = RetentionOutcome(policy_code=policy.code, resource=policy.resource, cutoff=cutoff, found=len(ids))
        if ids and not dry_run:
            totals: dict[str, int] = {}
            for start in range(0, len(ids), BATCH):
                for table, n in exchange_service.destroy_cases(db, case_ids=ids[start:start + BATCH]).items():
                    totals[table] = totals.get(table, 0) + n
            outcome.destroyed = totals
            db.add(DestructionRecord(policy_code=policy.code, resource=policy.resource, count=len(ids), at=now,
                                     method="delete", cutoff=cutoff, actor=actor[:64], detail={"rows": totals}))
            audit.record(db, action="retention.destroy", actor_name=actor[:64], object_type=policy.resource,
                         detail={"policy": policy.code, "count": len(ids), "rows": totals,
                                 "cutoff": cutoff.isoformat()})
        outcomes.append(outcome)
    archived, file = 0, None
    if not dry_run:
        result = audit_log.archive(db, data_dir=data_dir, older_than_days=get_policy(db).audit_online_days,
                                   actor=actor, now=now)
        archived, file = result.count, result.file
    db.flush()
    return RetentionRun(outcomes=outcomes, audit_archived=archived, audit_file=file, dry_run=dry_run)


def list_destructions(db: Session, *, limit: int = 500) -> list[DestructionRecord]:
    """The newest destruction records first (for auditors)."""
    return list(db.scalars(select(DestructionRecord).order_by(DestructionRecord.at.desc()).limit(limit)))
