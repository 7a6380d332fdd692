"""Cases and debtors: opening them, finding them, showing them masked (or, with a purpose, in clear)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, delete, func, select
from sqlalchemy.orm import Session

from pbshare.core.clock import utcnow
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T, current_language
from pbshare.core.lookup import get_or_raise
from pbshare.core.pagination import PageParams, paginate
from pbshare.exchange.cases import events
from pbshare.exchange.cases.enums import CASE_STAGE_LABELS, CaseStage
from pbshare.exchange.cases.events import CaseEvent, CaseEventKind
from pbshare.exchange.cases.models import BankruptcyCase, CaseDecision, Debtor
from pbshare.exchange.cases.schemas import CaseOut, DebtorOut
from pbshare.security.audit import service as audit
from pbshare.security.crypto.pii import mask, vault_for
from pbshare.units.principal import Principal


def add_debtor(db: Session, *, data_dir: Path, name: str, id_no: str, phone: str | None = None,
               address: str | None = None, is_synthetic: bool = False) -> Debtor:
    vault = vault_for(data_dir)
    index = vault.blind_index(id_no, kind="cn_ric")
    if db.scalar(select(Debtor.id).where(Debtor.id_no_index == index)):
        raise Conflict(T("该证件号码的债务人已存在", "A debtor with this ID number already exists"),
                       code="debtor_exists")
    debtor = Debtor(
        name=name, id_no_sealed=vault.seal(id_no.upper()), id_no_index=index, id_no_masked=mask(id_no, "cn_ric"),
        phone_sealed=vault.seal(phone), address_sealed=vault.seal(address),
        address_masked=mask(address, "address"), is_synthetic=is_synthetic,
    )
    db.add(debtor)
    db.flush()
    return debtor


def find_debtor_by_id_no(db: Session, *, data_dir: Path, id_no: str) -> Debtor | None:
    index = vault_for(data_dir).blind_index(id_no, kind="cn_ric")
    return db.scalar(select(Debtor).where(Debtor.id_no_index == index))


def debtor_out(debtor: Debtor, *, data_dir: Path | None = None, unmasked: bool = False) -> DebtorOut:
    if unmasked and data_dir is not None:
        vault = vault_for(data_dir)
        return DebtorOut(id=debtor.id, name=debtor.name, id_no=vault.open(debtor.id_no_sealed) or "",
                         phone=vault.open(debtor.phone_sealed), address=vault.open(debtor.address_sealed),
                         masked=False, is_synthetic=debtor.is_synthetic)
    return DebtorOut(id=debtor.id, name=debtor.name, id_no=debtor.id_no_masked,
                     phone="***********" if debtor.phone_sealed else None, address=debtor.address_masked,
                     masked=True, is_synthetic=debtor.is_synthetic)


def get_debtor(db: Session, *, debtor_id: str) -> Debtor:
    return get_or_raise(db, Debtor, debtor_id, T("债务人不存在", "The debtor does not exist"))


def search_debtors(db: Session, *, q: str | None = None, limit: int = 50) -> list[tuple[Debtor, int]]:
    """Debtors by name (literal match) with how many cases each has, names in order."""
    stmt = (select(Debtor, func.count(BankruptcyCase.id)).outerjoin(BankruptcyCase, BankruptcyCase.debtor_id == Debtor.id)
            .group_by(Debtor.id).order_by(Debtor.name).limit(limit))
    if q:
        stmt = stmt.where(Debtor.name.contains(q, autoescape=True))
    return [(d, int(n)) for d, n in db.execute(stmt).all()]


def cases_of_debtor(db: Session, *, debtor_id: str) -> list[BankruptcyCase]:
    return list(db.scalars(select(BankruptcyCase).where(BankruptcyCase.debtor_id == debtor_id)
                           .order_by(BankruptcyCase.accepted_on.desc())))


def debtor_id_no(db: Session, *, debtor_id: str, data_dir: Path) -> str:
    """The debtor's ID number in clear, for a message to a unit that must look the person up (the caller
    audits or seals what it does with it)."""
    return vault_for(data_dir).open(get_debtor(db, debtor_id=debtor_id).id_no_sealed) or ""


def open_case(db: Session, *, case_no: str, debtor_id: str, court_unit_id: str, procedure: str,
              accepted_on: date, stage: str = CaseStage.accepted.value,
              handler_user_id: str | None = None, data_dir: Path | None = None) -> BankruptcyCase:
    """Open a case; with ``data_dir`` its "case accepted" event goes to the subscribers (cases.events)."""
    if db.scalar(select(BankruptcyCase.id).where(BankruptcyCase.case_no == case_no)):
        raise Conflict(T("案号 {c} 已存在", "Case number {c} already exists", c=case_no), code="case_exists")
    case = BankruptcyCase(case_no=case_no, debtor_id=debtor_id, court_unit_id=court_unit_id,
                          procedure=procedure, stage=CaseStage(stage).value, accepted_on=accepted_on,
                          handler_user_id=handler_user_id)
    db.add(case)
    db.flush()
    if data_dir is not None:
        events.emit(db, CaseEvent(kind=CaseEventKind.case_accepted, case_id=case.id, occurred_at=utcnow(),
                                  data_dir=data_dir))
    return case


def get_case(db: Session, *, case_id: str) -> BankruptcyCase:
    return get_or_raise(db, BankruptcyCase, case_id, T("案件不存在", "The case does not exist"))


def find_case_by_no(db: Session, *, case_no: str) -> BankruptcyCase | None:
    return db.scalar(select(BankruptcyCase).where(BankruptcyCase.case_no == case_no))


def count_cases(db: Session, *, case_no_prefix: str = "") -> int:
    """How many cases there are, or how many whose number starts with ``case_no_prefix``."""
    stmt = select(func.count()).select_from(BankruptcyCase)
    if case_no_prefix:
        stmt = stmt.where(BankruptcyCase.case_no.startswith(case_no_prefix, autoescape=True))
    return db.scalar(stmt) or 0


def list_cases(db: Session, *, params: PageParams, q: str | None = None,
               stage: str | None = None) -> tuple[list[BankruptcyCase], int]:
    stmt = select(BankruptcyCase).join(Debtor).order_by(BankruptcyCase.accepted_on.desc(), BankruptcyCase.case_no)
    if q:
        # what the user typed is matched literally: "%" and "_" are not wildcards
        stmt = stmt.where(BankruptcyCase.case_no.contains(q, autoescape=True) | Debtor.name.contains(q, autoescape=True))
    if stage:
        stmt = stmt.where(BankruptcyCase.stage == stage)
    return paginate(db, stmt, params)


def case_out(case: BankruptcyCase, *, data_dir: Path | None = None, unmasked: bool = False) -> CaseOut:
    zh, en = CASE_STAGE_LABELS[CaseStage(case.stage)]
    return CaseOut(
        id=case.id, case_no=case.case_no, procedure=case.procedure, stage=case.stage,
        stage_label=en if current_language.get().startswith("en") else zh, accepted_on=case.accepted_on,
        court_unit_id=case.court_unit_id, debtor=debtor_out(case.debtor, data_dir=data_dir, unmasked=unmasked),
        created_at=case.created_at,
    )


def unmask_case(db: Session, *, case_id: str, purpose: str, principal: Principal, data_dir: Path,
                ip: str | None = None) -> CaseOut:
    """The case with its debtor's identifiers in clear; every such reading is audited with its purpose."""
    case = get_case(db, case_id=case_id)
    audit.record(db, action="pii.unmask", principal=principal, object_type="debtor", object_id=case.debtor_id,
                 purpose=purpose, ip=ip, detail={"case_no": case.case_no})
    return case_out(case, data_dir=data_dir, unmasked=True)


def cases_by_stage(db: Session) -> dict[str, int]:
    rows = db.execute(select(BankruptcyCase.stage, func.count()).group_by(BankruptcyCase.stage)).all()
    return {stage: count for stage, count in rows}


# decisions units act on (each one a case event) ----------------------------------------------
RESTRICTIONS = ("限制高消费", "限制出境", "限制担任董事监事高管", "限制新增借款")
DISCHARGE_RESULTS = ("考察中", "已免责", "不予免责", "撤销免责")
# kind → (event when decided, event when ended or None)
DECISION_EVENTS: dict[str, tuple[str, str | None]] = {
    "administrator": (CaseEventKind.administrator_appointed, None),
    "restriction": (CaseEventKind.restriction_decided, CaseEventKind.restriction_lifted),
    "discharge": (CaseEventKind.discharge_decided, None),
    "public_display": (CaseEventKind.public_display_started, CaseEventKind.public_display_ended),
}


def _check_decision(kind: str, detail: dict[str, Any]) -> dict[str, Any]:
    if kind not in DECISION_EVENTS:
        raise Invalid(T("未知的决定类型 {k}，可用：{a}", "Unknown kind of decision {k}; use one of {a}", k=kind,
                        a=", ".join(DECISION_EVENTS)), code="bad_decision_kind")
    if kind == "restriction" and detail.get("restriction") not in RESTRICTIONS:
        raise Invalid(T("限制事项须为：{a}", "The restriction must be one of: {a}", a="、".join(RESTRICTIONS)),
                      code="bad_restriction", detail={"allowed": list(RESTRICTIONS)})
    if kind == "administrator" and not str(detail.get("administrator") or "").strip():
        raise Invalid(T("请填写管理人名称", "Give the administrator's name"), code="administrator_required")
    if kind == "discharge" and detail.get("result") not in DISCHARGE_RESULTS:
        raise Invalid(T("免责结果须为：{a}", "The discharge result must be one of: {a}", a="、".join(DISCHARGE_RESULTS)),
                      code="bad_discharge_result", detail={"allowed": list(DISCHARGE_RESULTS)})
    return {k: v for k, v in detail.items() if isinstance(v, (str, int, float, bool)) or v is None}


def decide(db: Session, *, case_id: str, kind: str, decision_no: str, effective_on: date, detail: dict[str, Any],
           principal: Principal | None, data_dir: Path) -> CaseDecision:
    """Record a decision on a case and emit its event (the subscribers of the outbound resources hear of it)."""
    case = get_case(db, case_id=case_id)
    clean = _check_decision(kind, detail)
    decision_no = decision_no.strip()
    if not decision_no:
        raise Invalid(T("请填写决定书编号", "Give the decision's number"), code="decision_no_required")
    if db.scalar(select(CaseDecision.id).where(CaseDecision.kind == kind, CaseDecision.decision_no == decision_no)):
        raise Conflict(T("决定书编号 {n} 已登记过，请核对编号", "Decision number {n} is already recorded; check the number",
                         n=decision_no), code="decision_exists")
    actor = principal.username if principal else "system"
    row = CaseDecision(case_id=case.id, kind=kind, decision_no=decision_no, detail=clean, effective_on=effective_on,
                       decided_by=actor)
    db.add(row)
    db.flush()
    audit.record(db, action=f"case.decision.{kind}", principal=principal, object_type="bankruptcy_case",
                 object_id=case.id, detail={"decision_no": decision_no, "case_no": case.case_no})
    events.emit(db, CaseEvent(kind=DECISION_EVENTS[kind][0], case_id=case.id, occurred_at=utcnow(),
                              data_dir=data_dir, decision_id=row.id, actor=actor))
    return row


def decide_restriction(db: Session, *, case_id: str, restriction: str, decision_no: str, effective_on: date,
                       principal: Principal | None, data_dir: Path) -> CaseDecision:
    return decide(db, case_id=case_id, kind="restriction", decision_no=decision_no, effective_on=effective_on,
                  detail={"restriction": restriction}, principal=principal, data_dir=data_dir)


def end_decision(db: Session, *, decision_id: str, ended_on: date, principal: Principal | None,
                 data_dir: Path) -> CaseDecision:
    """Lift a restriction or end a public display (its event goes out like the decision's)."""
    row = get_or_raise(db, CaseDecision, decision_id, T("决定不存在", "The decision does not exist"))
    ended = DECISION_EVENTS[row.kind][1]
    if ended is None:
        raise Invalid(T("该类决定不能解除或结束", "A decision of this kind cannot be lifted or ended"),
                      code="not_endable")
    if row.ended_on is not None:
        raise Conflict(T("该决定已于 {d} 解除或结束", "This decision was already lifted or ended on {d}",
                         d=row.ended_on.isoformat()), code="already_ended")
    if ended_on < row.effective_on:
        raise Invalid(T("解除日期不能早于生效日期 {d}", "The end date cannot be before the effective date {d}",
                        d=row.effective_on.isoformat()), code="bad_end_date")
    row.ended_on = ended_on
    actor = principal.username if principal else "system"
    audit.record(db, action=f"case.decision.{row.kind}.end", principal=principal, object_type="bankruptcy_case",
                 object_id=row.case_id, detail={"decision_no": row.decision_no})
    db.flush()
    events.emit(db, CaseEvent(kind=ended, case_id=row.case_id, occurred_at=utcnow(), data_dir=data_dir,
                              decision_id=row.id, actor=actor))
    return row


def get_decision(db: Session, *, decision_id: str) -> CaseDecision:
    return get_or_raise(db, CaseDecision, decision_id, T("决定不存在", "The decision does not exist"))


def list_decisions(db: Session, *, case_id: str) -> list[CaseDecision]:
    return list(db.scalars(select(CaseDecision).where(CaseDecision.case_id == case_id)
                           .order_by(CaseDecision.created_at)))


# retention (called by ops.retention) --------------------------------------------------------
def expired_case_ids(db: Session, *, stages: list[str], ended_before: datetime) -> list[str]:
    """Cases in one of ``stages`` whose last change is older than ``ended_before`` (the retention anchor)."""
    stmt = select(BankruptcyCase.id).where(BankruptcyCase.stage.in_(stages), BankruptcyCase.updated_at < ended_before)
    return list(db.scalars(stmt))


def destroy_cases(db: Session, *, case_ids: list[str]) -> dict[str, int]:
    """Delete these cases and the debtors left without a case; returns how many rows of each went."""
    if not case_ids:
        return {"bankruptcy_case": 0, "debtor": 0}
    debtor_ids = set(db.scalars(select(BankruptcyCase.debtor_id).where(BankruptcyCase.id.in_(case_ids))))
    db.execute(delete(CaseDecision).where(CaseDecision.case_id.in_(case_ids)))
    cases = _deleted(db, delete(BankruptcyCase).where(BankruptcyCase.id.in_(case_ids)))
    still_used = set(db.scalars(select(BankruptcyCase.debtor_id).where(BankruptcyCase.debtor_id.in_(debtor_ids))))
    orphans = list(debtor_ids - still_used)
    debtors = _deleted(db, delete(Debtor).where(Debtor.id.in_(orphans))) if orphans else 0
    db.flush()
    return {"bankruptcy_case": cases, "debtor": debtors}


def _deleted(db: Session, stmt: Delete) -> int:
    """Rows a DELETE removed. It answers with a CursorResult; ``Session.execute`` is typed for any statement."""
    return cast(CursorResult[Any], db.execute(stmt)).rowcount


def cases_by_month(db: Session, *, date_from: date | None = None, date_to: date | None = None) -> dict[str, int]:
    """Cases accepted per month (``YYYY-MM``), for the office's built-in dashboard (reports)."""
    stmt = select(BankruptcyCase.accepted_on)
    if date_from:
        stmt = stmt.where(BankruptcyCase.accepted_on >= date_from)
    if date_to:
        stmt = stmt.where(BankruptcyCase.accepted_on <= date_to)
    counts: dict[str, int] = {}
    for (accepted,) in db.execute(stmt):
        if accepted is not None:
            key = f"{accepted.year:04d}-{accepted.month:02d}"
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
