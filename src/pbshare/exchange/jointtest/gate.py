"""The go-live gate: a connection goes live from ``testing`` only on a passed joint-test report, or on an
administrator's override with a reason (audited by the caller, ``connections.service.transition``).

Kept apart from ``jointtest.service`` so that the connections service can ask it without importing the
test plan (which itself uses connections and messaging).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.core.errors import Conflict, Forbidden, Invalid
from pbshare.core.i18n import T
from pbshare.exchange.jointtest.models import GoLive, JointTestRun
from pbshare.units.principal import Principal

PASSED = "passed"
MANAGE = "exchange:manage"  # pbshare.security.permissions.Perm.exchange_manage (the administrator's right)
MIN_REASON = 4


def latest_run(db: Session, *, connection_id: str) -> JointTestRun | None:
    return db.scalar(select(JointTestRun).where(JointTestRun.connection_id == connection_id)
                     .order_by(JointTestRun.started_at.desc(), JointTestRun.id.desc()).limit(1))


def has_gone_live(db: Session, *, connection_id: str) -> bool:
    return db.scalar(select(GoLive.id).where(GoLive.connection_id == connection_id).limit(1)) is not None


def why_not(db: Session, *, connection_id: str) -> T | None:
    """Why the connection may not go live now without an override (None: it may)."""
    run = latest_run(db, connection_id=connection_id)
    if run is None:
        return T("尚未进行联调测试：请先运行测试计划，全部步骤通过后才能上线", "No joint test has been run: run the "
                 "test plan; the connection goes live once every step has passed")
    if run.state == "running":
        return T("联调测试仍在进行：等待各步骤完成并全部通过", "The joint test is still running: wait until every step "
                 "has passed")
    if run.state != PASSED:
        return T("最近一次联调测试未通过：修正失败的步骤后重新测试", "The latest joint test failed: fix the failed steps "
                 "and run the test again")
    return None


def check_go_live(db: Session, *, connection_id: str, from_state: str, override_reason: str | None,
                  principal: Principal | None) -> dict[str, Any]:
    """Allow live from ``from_state`` or raise; record the decision. Returns what the audit should say."""
    if from_state == "suspended" and has_gone_live(db, connection_id=connection_id):
        return {"resumed": True}
    reason = (override_reason or "").strip()
    why = why_not(db, connection_id=connection_id)
    run = latest_run(db, connection_id=connection_id)
    by = principal.username if principal is not None else "system"
    if why is None and run is not None:
        db.add(GoLive(connection_id=connection_id, report_id=run.id, decided_by=by))
        return {"report": run.id}
    if not reason:
        raise Conflict(why or T("需要通过的联调测试报告", "A passed joint-test report is needed"),
                       code="joint_test_required",
                       detail={"report": run.id if run else None, "report_state": run.state if run else None,
                               "override": "an administrator may put it live with override_reason"})
    if principal is not None and not principal.has(MANAGE):
        raise Forbidden(T("只有系统管理员可以不经联调测试强制上线", "Only the system administrator may put a connection "
                          "live without a passed joint test"), code="override_forbidden")
    if len(reason) < MIN_REASON:
        raise Invalid(T("强制上线须写明理由（至少 {n} 个字）", "Going live without a passed joint test needs a reason "
                        "(at least {n} characters)", n=MIN_REASON), code="override_reason_short")
    db.add(GoLive(connection_id=connection_id, report_id=run.id if run else None, override_reason=reason[:500],
                  decided_by=by))
    return {"override": reason[:500], "report": run.id if run else None}
