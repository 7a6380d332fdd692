"""Corrections (纠错): the office asks a unit to correct what it sent, and tracks it to closure.

A data admin or case handler raises a correction on a **delivery** (an inbox envelope that landed as an
import run), an **answer** (a request item) or **rows** (a quality report's failing rows and rules).
The unit hears of it as a ``correction`` envelope on its live connection, or sees it in its portal when
it has none. It answers with corrected data: a ``delivery`` envelope whose ``correlation_id`` is the
correction envelope's id (landed like any delivery, then compared with what the unit sent before), or
rows uploaded in the portal (compared the same way by ``compare.service``). The comparison of before and
after is kept on the correction; the person who raised it closes it (or withdraws it).

A rejected quality verdict suggests a correction at once (``quality.reports.service.on_rejected``): it
waits as ``suggested`` until a person raises it in one step from the report page.

States: suggested → sent (envelope) | waiting (portal) → answered → closed; withdrawn from any open state.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.compare import service as compare
from pbshare.core.clock import utcnow
from pbshare.core.errors import AppError, Conflict, Forbidden, Invalid, NotFound
from pbshare.core.i18n import T, current_language
from pbshare.exchange.connections import service as connections
from pbshare.exchange.connections.enums import ConnectionState
from pbshare.exchange.corrections.models import Correction, CorrectionEvent
from pbshare.exchange.corrections.schemas import (
    CorrectionIn,
    CorrectionOut,
    EventOut,
    PortalAnswerIn,
    RowRef,
)
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.requests import service as requests
from pbshare.quality.reports import service as quality_reports
from pbshare.security.audit import service as audit
from pbshare.security.crypto.pii import vault_for
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse

if TYPE_CHECKING:  # the hook's argument; quality's tables are read through its service
    from pbshare.quality.reports.models import QualityReport

log = logging.getLogger("pbshare.exchange.corrections")

SUGGESTED, SENT, WAITING, ANSWERED, CLOSED, WITHDRAWN = "suggested", "sent", "waiting", "answered", "closed", "withdrawn"
OPEN = (SUGGESTED, SENT, WAITING, ANSWERED)
STATE_LABELS = {SUGGESTED: ("建议发起", "suggested"), SENT: ("已发送", "sent"), WAITING: ("待单位处理", "in the portal"),
                ANSWERED: ("已更正，待核对", "answered"), CLOSED: ("已关闭", "closed"), WITHDRAWN: ("已撤回", "withdrawn")}
KIND_LABELS = {"delivery": ("交付数据", "delivery"), "answer": ("查询答复", "answer"), "rows": ("问题数据行", "rows")}
RAISERS = ("quality:manage", "requests:write")  # a data admin or a case handler


def _lang(pair: tuple[str, str]) -> str:
    return pair[1] if current_language.get().startswith("en") else pair[0]


def _not_found() -> NotFound:
    return NotFound(T("纠错单不存在", "The correction does not exist"), code="correction_not_found")


def _check_raiser(principal: Principal) -> None:
    if not principal.is_office or not any(principal.has(p) for p in RAISERS):
        raise Forbidden(T("只有数据管理员或案件经办人可以发起和处理纠错", "Only a data administrator or a case handler "
                          "raises and handles corrections"), code="correction_forbidden")


def _event(c: Correction, state: str, actor: str, note: str | None = None) -> None:
    c.events.append(CorrectionEvent(state=state, actor=actor[:64], note=(note or None) and note[:500], at=utcnow()))


def _masked_rows(rows: list[RowRef]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        out.append({"line": r.line, "key": {str(k): quality_reports.mask_text(v) for k, v in (r.key or {}).items()},
                    "reason": quality_reports.mask_text(r.reason) if r.reason else None})
    return out


# what a correction is about ------------------------------------------------------------------------
def _delivery_subject(db: Session, envelope_id: str, data_dir: Path) -> dict[str, Any]:
    try:
        env = messaging.inbox_envelope(db, envelope_id=envelope_id, data_dir=data_dir)
        _, result = messaging.inbox_result(db, envelope_id=envelope_id)
    except AppError:
        raise Invalid(T("收件箱中没有交付消息 {i}：请从“接收的数据”中选择", "There is no delivery {i} in the inbox: pick one "
                        "from the received deliveries", i=envelope_id[:64]), code="correction_unknown_delivery") from None
    if env.get("type") != "delivery":
        raise Invalid(T("消息 {i} 不是交付消息", "Message {i} is not a delivery", i=envelope_id[:64]),
                      code="correction_not_a_delivery")
    unit = unit_service.find_unit_by_code(db, code=str(env.get("sender")))
    if unit is None:
        raise Invalid(T("交付的发送单位不在单位名录中", "The delivery's sender is not in the unit registry"),
                      code="correction_unknown_unit")
    result = result or {}
    return {"unit_id": unit.id, "resource_code": env.get("resource"), "original_envelope_id": envelope_id,
            "original_run_id": result.get("run_id"), "quality_report_id": result.get("quality_report")}


def _answer_subject(db: Session, item_id: str) -> dict[str, Any]:
    try:
        item = requests.get_item_row(db, item_id=item_id)
    except AppError:
        raise Invalid(T("请求事项 {i} 不存在", "Request item {i} does not exist", i=item_id[:64]),
                      code="correction_unknown_item") from None
    if item.answer is None:
        raise Conflict(T("该请求事项尚未答复，无可纠正的内容", "This request item has no answer to correct yet"),
                       code="correction_no_answer")
    return {"unit_id": item.unit_id, "resource_code": item.resource_code, "original_envelope_id": item.envelope_id}


def _report_subject(db: Session, report_id: str, principal: Principal | None) -> dict[str, Any]:
    report = quality_reports.get_report(db, report_id=report_id, principal=principal)
    unit = unit_service.find_unit_by_code(db, code=report.unit_code or "")
    if unit is None or unit.code == unit_service.OFFICE_CODE:
        raise Invalid(T("该质量报告没有对应的数源单位，无法向单位纠错", "This quality report names no source unit to ask "
                        "for a correction"), code="correction_no_unit")
    return {"unit_id": unit.id, "resource_code": report.resource_code, "quality_report_id": report.id,
            "original_run_id": report.subject_id if report.subject_kind == "import_run" else None}


def _from_report(report: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The failing rules and a masked sample of failing rows (line, reason) of a quality report."""
    rules, rows = [], []
    for r in report.rules:
        if not r.failed:
            continue
        rules.append({"name": r.name, "failed": r.failed, "columns": list(r.columns or []), "severity": r.severity})
        for s in (r.sample or [])[:10]:
            if not isinstance(s, dict):
                continue
            value = s.get("value")
            reason = f"{r.name}: {quality_reports.mask_text(value)}" if value not in (None, "") else r.name
            rows.append({"line": s.get("line"), "key": dict(s.get("key") or {}), "reason": reason[:500]})
    merged: dict[Any, dict[str, Any]] = {}
    for row in rows:  # one row per line, its reasons together
        key = row["line"] if row["line"] is not None else json.dumps(row["key"], sort_keys=True, default=str)
        if key in merged:
            merged[key]["reason"] = f"{merged[key]['reason']}; {row['reason']}"[:500]
        else:
            merged[key] = row
    return rules, list(merged.values())[:100]


def _find_delivery_of_run(db: Session, run_id: str | None) -> str | None:
    if not run_id:
        return None
    items, _ = messaging.held_inbox(db, type_="delivery", size=500)
    return next((i["envelope_id"] for i in items if (i.get("result") or {}).get("run_id") == run_id), None)


# raising -------------------------------------------------------------------------------------------
def raise_correction(db: Session, *, body: CorrectionIn, principal: Principal, data_dir: Path) -> Correction:
    """Record a correction and send it: a ``correction`` envelope on the unit's live connection, else the portal."""
    _check_raiser(principal)
    if body.subject_kind == "delivery":
        subject = _delivery_subject(db, body.subject_id, data_dir)
    elif body.subject_kind == "answer":
        subject = _answer_subject(db, body.subject_id)
    else:
        subject = _report_subject(db, body.subject_id, principal)
    rules: list[dict[str, Any]] = []
    rows = _masked_rows(body.rows)
    if subject.get("quality_report_id"):
        report = quality_reports.get_report(db, report_id=subject["quality_report_id"])
        rules, sample = _from_report(report)
        rows = rows or sample
    if body.rule:
        rules = [{"name": body.rule[:400], "failed": len(rows) or None, "columns": [], "severity": "error"}, *rules]
    if subject.get("original_envelope_id") is None and body.subject_kind == "rows":
        subject["original_envelope_id"] = _find_delivery_of_run(db, subject.get("original_run_id"))
    c = Correction(subject_kind=body.subject_kind, subject_id=body.subject_id, what=body.what.strip(),
                   rows=rows, rules=rules, state=SUGGESTED, created_by=principal.username,
                   due_on=body.due_on.isoformat() if body.due_on else None, comparison={}, **subject)
    db.add(c)
    db.flush()
    _send(db, c, actor=principal.username, data_dir=data_dir)
    audit.record(db, action="exchange.correction.raise", principal=principal, object_type="exchange_correction",
                 object_id=c.id, detail={"subject": c.subject_kind, "resource": c.resource_code, "route": c.route})
    return c


def raise_from_report(db: Session, *, report_id: str, principal: Principal, data_dir: Path,
                      what: str | None = None) -> Correction:
    """One step from a rejected quality report: the suggested correction (or a new one) is sent."""
    _check_raiser(principal)
    c = db.scalar(select(Correction).where(Correction.quality_report_id == report_id, Correction.state == SUGGESTED)
                  .order_by(Correction.created_at.desc()).limit(1))
    if c is None:
        report = quality_reports.get_report(db, report_id=report_id, principal=principal)
        return raise_correction(db, body=CorrectionIn(subject_kind="rows", subject_id=report_id,
                                                      what=what or _report_what(report)),
                                principal=principal, data_dir=data_dir)
    if what:
        c.what = what.strip()
    if c.original_envelope_id is None:
        c.original_envelope_id = _find_delivery_of_run(db, c.original_run_id)
    _send(db, c, actor=principal.username, data_dir=data_dir)
    audit.record(db, action="exchange.correction.raise", principal=principal, object_type="exchange_correction",
                 object_id=c.id, detail={"subject": c.subject_kind, "resource": c.resource_code, "route": c.route,
                                         "from_report": report_id})
    return c


def _report_what(report: Any) -> str:
    return (f"质量校验未通过（得分 {report.score}，{report.error_rows} 行被隔离），请更正后重新交付。\n"
            f"The quality check rejected the delivery (score {report.score}, {report.error_rows} rows quarantined); "
            "please correct it and deliver again.\n" + (report.verdict_reason or ""))[:4000]


def _live_connection(db: Session, unit_id: str) -> Any:
    conns = connections.list_connections(db, unit_id=unit_id, states=(ConnectionState.live.value,))
    return conns[0] if conns else None


def _envelope_payload(c: Correction) -> dict[str, Any]:
    return {"correction_id": c.id, "subject": c.subject_kind, "resource": c.resource_code,
            "original_envelope_id": c.original_envelope_id, "what": c.what, "rows": c.rows, "rules": c.rules,
            "due_on": c.due_on,
            "how": "请以 delivery 消息答复，correlation_id 填本消息的 id / answer with a delivery whose correlation_id "
                   "is this envelope's id"}


def _send(db: Session, c: Correction, *, actor: str, data_dir: Path) -> None:
    conn = _live_connection(db, c.unit_id)
    if conn is None:
        c.route, c.state = "portal", WAITING
        _event(c, WAITING, actor, "单位门户 / unit portal")
        return
    msg = messaging.enqueue(db, connection_id=conn.id, type="correction", payload=_envelope_payload(c),
                            data_dir=data_dir, resource=c.resource_code)
    c.route, c.connection_id, c.envelope_id, c.state = conn.channel, conn.id, msg.envelope_id, SENT
    _event(c, SENT, actor, f"{conn.channel}: {msg.envelope_id}")


def suggest_from_report(db: Session, report: QualityReport) -> None:
    """``on_rejected`` hook: a rejected report of a unit's data waits as a suggested correction."""
    unit = unit_service.find_unit_by_code(db, code=report.unit_code or "")
    if unit is None or unit.code == unit_service.OFFICE_CODE:
        return
    if db.scalar(select(Correction.id).where(Correction.quality_report_id == report.id).limit(1)):
        return
    rules, rows = _from_report(report)
    c = Correction(unit_id=unit.id, subject_kind="rows", subject_id=report.id, resource_code=report.resource_code,
                   quality_report_id=report.id, what=_report_what(report), rows=rows, rules=rules, state=SUGGESTED,
                   original_run_id=report.subject_id if report.subject_kind == "import_run" else None,
                   created_by="system:quality", comparison={})
    _event(c, SUGGESTED, "system:quality", "质量判定为拒收 / the quality verdict is rejected")
    db.add(c)
    db.flush()


quality_reports.on_rejected.append(suggest_from_report)


# the unit answers ----------------------------------------------------------------------------------
@messaging.on_message("delivery")
def on_corrected_delivery(db: Session, env: dict[str, Any], conn: Any) -> dict[str, Any] | None:
    """A delivery whose ``correlation_id`` is a correction envelope's id answers that correction."""
    corr = env.get("correlation_id")
    if not corr:
        return None
    c = db.scalar(select(Correction).where(Correction.envelope_id == corr, Correction.unit_id == conn.unit_id))
    if c is None or c.state not in (SENT, WAITING, ANSWERED):
        return None
    c.answer_envelope_id, c.answered_at, c.state, c.comparison = env["id"], utcnow(), ANSWERED, {}
    _event(c, ANSWERED, f"system:{env.get('sender', '')}", f"{conn.channel}: {env['id']}")
    return None


def _refresh(db: Session, c: Correction) -> None:
    """Once the corrected delivery has landed, keep its result and its comparison with what came before."""
    if c.state != ANSWERED or not c.answer_envelope_id or c.comparison.get("landed"):
        return
    try:
        state, result = messaging.inbox_result(db, envelope_id=c.answer_envelope_id)
    except AppError:
        return
    if state == "received" or not result:
        return
    c.answer_run_id = result.get("run_id")
    comparison = dict(result.get("comparison") or {})
    c.comparison = {"landed": True, "status": result.get("status"), "loaded": result.get("loaded"),
                    "quarantined": result.get("quarantined"), "verdict": result.get("verdict"),
                    "quality_report": result.get("quality_report"), **comparison,
                    "comparison_id": comparison.get("id")}


def portal_answer(db: Session, *, correction_id: str, body: PortalAnswerIn, principal: Principal,
                  data_dir: Path) -> Correction:
    """A unit operator answers in the portal with corrected rows: compared with what the unit sent before."""
    c = _unit_correction(db, correction_id, principal)
    if c.state not in (SENT, WAITING, ANSWERED):
        raise Conflict(T("该纠错单已{s}，不能再答复", "This correction is {s}; it cannot be answered", s=_lang(
            STATE_LABELS[c.state])), code="correction_closed")
    if not c.resource_code:
        raise Invalid(T("该纠错单未指明目录资源，请以交付消息答复", "This correction names no resource: answer with a "
                        "delivery envelope"), code="correction_no_resource")
    fields, key = warehouse.resource_fields(db, code=c.resource_code)
    names = {f["name"] for f in fields} | {str(f.get("title")) for f in fields}
    by_title = {str(f.get("title")): f["name"] for f in fields}
    rows = []
    for i, row in enumerate(body.rows, start=1):
        unknown = [k for k in row if k not in names]
        if unknown:
            raise Invalid(T("第 {i} 行的字段 {f} 不是资源 {r} 的信息项：请按信息项代码填写", "Row {i}: {f} is not an info item "
                            "of resource {r}; use the info item codes", i=i, f=", ".join(unknown[:5]), r=c.resource_code),
                          code="correction_unknown_field")
        rows.append({by_title.get(k, k): (None if v is None else str(v)) for k, v in row.items()})
    if key and any(not r.get(k) for r in rows for k in key):
        raise Invalid(T("每行都须填写业务主键 {k}，以便与原数据比对", "Every row needs the business key {k} so it can be "
                        "compared with what was sent before", k=", ".join(key)), code="correction_key_missing")
    c.answer_rows_sealed = vault_for(data_dir).seal(json.dumps(rows, ensure_ascii=False))
    c.answered_at, c.state = utcnow(), ANSWERED
    c.comparison = {"landed": False, "portal": True, "rows": len(rows)}
    if key:
        frame = pl.DataFrame(rows, schema={k: pl.Utf8 for k in rows[0]}) if rows else pl.DataFrame()
        target = f"shared.r_{c.resource_code.lower().replace('-', '_')}"
        try:
            with db.begin_nested():
                comp = compare.compare_delivery(db, resource_code=c.resource_code, unit_code=principal.unit_code,
                                                target=target, delivery_id=f"correction-{c.id}-{len(c.events)}",
                                                delivery_kind="delivery", frame=frame, key=key, incremental=True,
                                                data_dir=data_dir)
            if comp is not None:
                c.comparison = {**c.comparison, "comparison_id": comp.id, "added": comp.added, "removed": comp.removed,
                                "changed": comp.changed, "unchanged": comp.unchanged,
                                "flags": [f.get("code") for f in (comp.flags or [])]}
        except AppError as err:
            c.comparison = {**c.comparison, "compare_error": err.message.render("zh-CN")}
    _event(c, ANSWERED, principal.username, body.note or "单位门户答复 / answered in the portal")
    audit.record(db, action="exchange.correction.answer", principal=principal, object_type="exchange_correction",
                 object_id=c.id, detail={"rows": len(rows), "route": "portal"})
    db.flush()
    return c


# closing -------------------------------------------------------------------------------------------
def close(db: Session, *, correction_id: str, principal: Principal, note: str | None = None) -> Correction:
    _check_raiser(principal)
    c = get_correction(db, correction_id=correction_id)
    if c.state != ANSWERED:
        raise Conflict(T("单位尚未更正，不能关闭；如不再需要请撤回", "The unit has not answered yet, so it cannot be closed; "
                         "withdraw it if it is no longer needed"), code="correction_not_answered")
    c.state, c.closed_at, c.closed_by, c.close_note = CLOSED, utcnow(), principal.username, (note or None)
    _event(c, CLOSED, principal.username, note)
    audit.record(db, action="exchange.correction.close", principal=principal, object_type="exchange_correction",
                 object_id=c.id)
    return c


def withdraw(db: Session, *, correction_id: str, principal: Principal, reason: str) -> Correction:
    _check_raiser(principal)
    c = get_correction(db, correction_id=correction_id)
    if c.state not in OPEN:
        raise Conflict(T("该纠错单已结束", "This correction has already ended"), code="correction_closed")
    c.state, c.closed_at, c.closed_by, c.close_note = WITHDRAWN, utcnow(), principal.username, reason[:500]
    _event(c, WITHDRAWN, principal.username, reason)
    audit.record(db, action="exchange.correction.withdraw", principal=principal, object_type="exchange_correction",
                 object_id=c.id, detail={"reason": reason[:200]})
    return c


# reading -------------------------------------------------------------------------------------------
def get_correction(db: Session, *, correction_id: str) -> Correction:
    c = db.get(Correction, correction_id)
    if c is None:
        raise _not_found()
    _refresh(db, c)
    return c


def _unit_correction(db: Session, correction_id: str, principal: Principal) -> Correction:
    c = db.get(Correction, correction_id)
    if c is None or c.unit_id != principal.unit_id or c.state == SUGGESTED:
        raise _not_found()
    _refresh(db, c)
    return c


def list_corrections(db: Session, *, principal: Principal, state: str | None = None, unit_code: str | None = None,
                     resource_code: str | None = None, report_id: str | None = None) -> list[Correction]:
    stmt = select(Correction).order_by(Correction.created_at.desc()).limit(500)
    if not principal.is_office:
        stmt = stmt.where(Correction.unit_id == principal.unit_id, Correction.state != SUGGESTED)
    if state:
        stmt = stmt.where(Correction.state == state)
    if unit_code:
        unit = unit_service.find_unit_by_code(db, code=unit_code)
        stmt = stmt.where(Correction.unit_id == (unit.id if unit else ""))
    if resource_code:
        stmt = stmt.where(Correction.resource_code == resource_code)
    if report_id:
        stmt = stmt.where(Correction.quality_report_id == report_id)
    rows = list(db.scalars(stmt))
    for c in rows:
        _refresh(db, c)
    return rows


def read_for_unit(db: Session, *, correction_id: str, principal: Principal) -> Correction:
    return _unit_correction(db, correction_id, principal)


def correction_out(db: Session, c: Correction, units: dict[str, Any] | None = None) -> CorrectionOut:
    units = units if units is not None else {}
    if c.unit_id not in units:
        units[c.unit_id] = unit_service.get_unit(db, unit_id=c.unit_id)
    unit = units[c.unit_id]
    return CorrectionOut(
        id=c.id, unit_code=unit.code, unit_name=unit.name, subject_kind=c.subject_kind,
        subject_label=_lang(KIND_LABELS[c.subject_kind]), subject_id=c.subject_id, resource_code=c.resource_code,
        quality_report_id=c.quality_report_id, original_envelope_id=c.original_envelope_id,
        original_run_id=c.original_run_id, what=c.what, rows=c.rows or [], rules=c.rules or [], state=c.state,
        state_label=_lang(STATE_LABELS[c.state]), route=c.route, envelope_id=c.envelope_id,
        answer_envelope_id=c.answer_envelope_id, answer_run_id=c.answer_run_id, comparison=c.comparison or {},
        due_on=date.fromisoformat(c.due_on) if c.due_on else None, created_by=c.created_by, created_at=c.created_at,
        answered_at=c.answered_at, closed_at=c.closed_at, closed_by=c.closed_by, close_note=c.close_note,
        events=[EventOut(state=e.state, state_label=_lang(STATE_LABELS.get(e.state, (e.state, e.state))),
                         actor=e.actor, note=e.note, at=e.at) for e in c.events])


def corrections_out(db: Session, rows: list[Correction]) -> list[CorrectionOut]:
    units: dict[str, Any] = {}
    return [correction_out(db, c, units) for c in rows]


def open_count(db: Session, *, principal: Principal) -> int:
    """Corrections waiting for the principal's unit (the portal's to-do)."""
    return len([c for c in list_corrections(db, principal=principal) if c.state in (SENT, WAITING)])
