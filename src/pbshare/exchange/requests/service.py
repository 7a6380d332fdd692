"""Requests to units: creating and sending them, answers from the portal or a unit's system, reminders.

A request names the case's debtor, the resources wanted, the purpose and the legal basis; it splits
into one item per unit × resource. An item goes out as a ``request`` envelope on the unit's live
connection, or waits in the unit portal. Answers come back as ``response`` envelopes correlated to
the request envelope's id (``on_message("response")``), or from an operator's form or sheet. Every
state change goes through ``flows.move``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum.cn import ric, uscc

from pbshare.catalog.resources import service as catalog
from pbshare.catalog.resources.schemas import InfoItemDoc, ResourceSpec
from pbshare.core.clock import utcnow
from pbshare.core.db import Database
from pbshare.core.errors import AppError, Invalid, NotFound
from pbshare.core.i18n import T, current_language
from pbshare.core.pagination import PageParams, paginate
from pbshare.exchange.cases import service as cases
from pbshare.exchange.connections import service as connections
from pbshare.exchange.connections.enums import ConnectionState
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.requests import duedates, flows, sheets
from pbshare.exchange.requests.enums import (
    ITEM_STATE_LABELS,
    REMINDER_LABELS,
    REQUEST_KIND_LABELS,
    VERIFY_RESULT_LABELS,
    ItemState,
    ReminderKind,
    RequestKind,
    VerifyResult,
)
from pbshare.exchange.requests.models import InfoRequest, RequestItem, RequestItemEvent, RequestReminder
from pbshare.exchange.requests.schemas import (
    AnswerIn,
    AnswerOut,
    CaseRequestsOut,
    CheckValueIn,
    CountsOut,
    DueOut,
    EventOut,
    InfoItemOut,
    ItemDetailOut,
    ItemOut,
    ReminderOut,
    RequestIn,
    RequestOut,
    SubjectOut,
)
from pbshare.quality.rules import engine as quality_engine
from pbshare.quality.rules import service as quality_rules
from pbshare.security.audit import service as audit
from pbshare.security.crypto.pii import mask, vault_for
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal
from pbshare.warehouse import facts as warehouse_facts

log = logging.getLogger("pbshare.exchange.requests")

S = ItemState
WAITING_ON_UNIT = (S.dispatched.value, S.accepted.value)  # the portal's "to do"
ANSWERED = (S.answered.value, S.checked.value, S.closed.value)


def _lang(pair: tuple[str, str]) -> str:
    return pair[1] if current_language.get().startswith("en") else pair[0]


def _not_found() -> NotFound:
    return NotFound(T("请求事项不存在", "The request item does not exist"), code="item_not_found")


# due dates -----------------------------------------------------------------------------------
def due_for(db: Session, *, resource_code: str, today: date | None = None) -> DueOut:
    """The default due date of an item for this resource, counted in working days from today."""
    spec = _resource(db, resource_code)
    days = duedates.working_days_for(spec.attributes)
    return DueOut(resource=spec.code, working_days=days,
                  due_on=duedates.add_working_days(today or duedates.local_today(), days))


def _resource(db: Session, code: str) -> ResourceSpec:
    if code not in catalog.resource_codes(db):
        raise Invalid(T("目录中没有资源 {c}：请从共享目录中选择", "There is no resource {c} in the catalog: pick one from "
                        "the sharing catalog", c=code[:32]), code="unknown_resource", detail={"resource": code[:32]})
    return catalog.get_resource(db, code=code)


# creating and sending ------------------------------------------------------------------------
def create_request(db: Session, *, case_id: str, body: RequestIn, principal: Principal, data_dir: Path,
                   today: date | None = None, database: Database | None = None) -> InfoRequest:
    """A request on a case, split into one item per unit × resource; sent at once unless ``submit`` is off."""
    case = cases.get_case(db, case_id=case_id)
    today = today or duedates.local_today()
    subjects = body.subjects or [case.debtor_id]
    if any(s != case.debtor_id for s in subjects):
        raise Invalid(T("请求对象只能是本案的债务人", "A request can only be about this case's debtor"),
                      code="subject_not_in_case")
    if len(set(body.resources)) != len(body.resources):
        raise Invalid(T("资源重复：每个资源只需选择一次", "A resource is listed twice: pick each one once"),
                      code="duplicate_resource")
    specs = [_resource(db, code) for code in body.resources]
    for spec in specs:
        if spec.direction != "inbound":
            raise Invalid(T("资源 {c} 不是数源单位提供的资源，不能向单位查询", "Resource {c} is not provided by a source "
                            "unit; it cannot be asked for", c=spec.code), code="not_inbound")
    if body.due_on is not None and body.due_on <= today:
        raise Invalid(T("答复期限须晚于今天", "The due date must be after today"), code="due_in_past",
                      detail={"field": "due_on"})
    check_values = _checked_values(body, specs)
    req = InfoRequest(case_id=case.id, kind=body.kind.value, purpose=body.purpose.strip(),
                      legal_basis=body.legal_basis.strip(), due_on=body.due_on, created_by=principal.username,
                      subjects=[{"debtor_id": case.debtor_id, "name": case.debtor.name}],
                      check_values_sealed=vault_for(data_dir).seal(json.dumps(
                          [c.model_dump() for c in check_values], ensure_ascii=False)) if check_values else None)
    db.add(req)
    db.flush()
    for spec in specs:
        item = RequestItem(request_id=req.id, unit_id=spec.provider_unit_id, resource_code=spec.code,
                           state=S.draft.value, check_count=sum(1 for c in check_values if c.resource == spec.code), due_on=body.due_on or duedates.default_due(spec.attributes, today=today))
        db.add(item)
        db.flush()
        db.add(RequestItemEvent(item_id=item.id, actor=principal.username, from_state=None, to_state=S.draft.value))
    audit.record(db, action="requests.create", principal=principal, object_type="info_request", object_id=req.id,
                 purpose=req.purpose, detail={"case_no": case.case_no, "kind": req.kind, "resources": body.resources})
    db.flush()
    db.refresh(req)
    if body.submit:
        submit_request(db, request_id=req.id, principal=principal, data_dir=data_dir, database=database)
    return req


def _checked_values(body: RequestIn, specs: list[ResourceSpec]) -> list[CheckValueIn]:
    if body.kind == RequestKind.query:
        if body.check_values:
            raise Invalid(T("查询请求不带核查值；要核对具体的值请选“核查”", "A query carries no values to check; choose "
                            "verification to check values"), code="values_on_query")
        return []
    by_code = {s.code: s for s in specs}
    for cv in body.check_values:
        spec = by_code.get(cv.resource)
        if spec is None:
            raise Invalid(T("核查值的资源 {c} 不在本次请求的资源中", "The values to check name resource {c}, which is not "
                            "in this request", c=cv.resource[:32]), code="check_value_resource")
        unknown = [k for k in cv.values if spec.item(k) is None]
        if unknown:
            raise Invalid(T("资源 {c} 没有信息项 {i}", "Resource {c} has no info item {i}", c=spec.code,
                            i=", ".join(unknown)[:100]), code="check_value_item")
    missing = [s.code for s in specs if not any(cv.resource == s.code for cv in body.check_values)]
    if missing:
        raise Invalid(T("核查请求须为每个资源填写待核查的值（缺：{c}）", "A verification needs values to check for every "
                        "resource (missing: {c})", c=", ".join(missing)), code="check_values_missing")
    return body.check_values


def submit_request(db: Session, *, request_id: str, principal: Principal, data_dir: Path,
                   database: Database | None = None) -> InfoRequest:
    """Submit every draft item and send it: on the unit's live connection, or to the unit portal. With
    ``database`` (the warehouse), an item for a file-based resource is answered from the latest delivery
    about the person instead, when there is one."""
    req = get_request_row(db, request_id=request_id)
    drafts = [i for i in req.items if i.state == S.draft]
    if not drafts:
        flows.move(db, req.items[0], S.submitted, actor=principal.username)  # names the state in its 409
    for item in drafts:
        flows.move(db, item, S.submitted, actor=principal.username)
        if database is None or not _answer_from_delivery(db, database, req, item, actor=principal.username):
            _dispatch(db, req, item, actor=principal.username, data_dir=data_dir)
    return req


def _live_connection(db: Session, unit_id: str) -> Any:
    live = connections.list_connections(db, unit_id=unit_id, states=(ConnectionState.live.value,))
    return live[0] if live else None


def _dispatch(db: Session, req: InfoRequest, item: RequestItem, *, actor: str, data_dir: Path) -> None:
    conn = _live_connection(db, item.unit_id)
    if conn is None:
        item.route = "portal"
        flows.move(db, item, S.dispatched, actor=actor, note="单位门户 / unit portal")
        return
    subjects = [{"name": s["name"], "id_no": cases.debtor_id_no(db, debtor_id=s["debtor_id"], data_dir=data_dir)}
                for s in req.subjects]
    payload = {"item_id": item.id, "request_id": req.id, "kind": req.kind, "resource": item.resource_code,
               "purpose": req.purpose, "legal_basis": req.legal_basis, "due_on": item.due_on.isoformat(),
               "subjects": subjects, "check_values": _values_for(req, item, data_dir)}
    msg = messaging.enqueue(db, connection_id=conn.id, type="request", payload=payload, data_dir=data_dir,
                            resource=item.resource_code)
    item.route, item.connection_id, item.envelope_id = conn.channel, conn.id, msg.envelope_id
    flows.move(db, item, S.dispatched, actor=actor, note=f"{conn.channel}: {msg.envelope_id}")


SHARED_TOPIC = "shared"  # where units' deliveries land (docs/deliveries.md): table r_<resource code>


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _answer_from_delivery(db: Session, database: Database, req: InfoRequest, item: RequestItem, *,
                          actor: str) -> bool:
    """Answer a query for a file-based resource (monthly social insurance, tax …) from the latest
    delivery holding rows about the person, saying which delivery and its date; False when none does."""
    spec = catalog.get_resource(db, code=item.resource_code)
    if req.kind != RequestKind.query or "file" not in {m.value for m in spec.method}:
        return False
    data_dir = database.settings.resolved_data_dir
    picked: list[dict[str, Any]] = []
    for subject in req.subjects:
        id_no = cases.debtor_id_no(db, debtor_id=subject["debtor_id"], data_dir=data_dir)
        for table in warehouse_facts.person_facts(db, database, id_no=id_no, topics={SHARED_TOPIC}):
            rows = [r for r in table["rows"] if r.get("src_message")]
            if table["resource_code"] == item.resource_code and rows:
                # the latest delivery: received last; envelope ids are time-ordered, so they break a tie
                latest = max(rows, key=lambda r: (str(_jsonable(r.get("src_received_at"))), str(r["src_message"])))
                picked += [r for r in rows if r["src_message"] == latest["src_message"]]
    if not picked:
        return False
    message, received = picked[0]["src_message"], _jsonable(picked[0].get("src_received_at"))
    unit_code = str(picked[0].get("src_unit") or "")
    codes = [i.code for i in spec.items]
    records = [{c: _jsonable(r.get(c)) for c in codes if r.get(c) is not None} for r in picked]
    note = f"按 {str(received)[:10]} 接收的数据答复 / answered from the delivery received {str(received)[:10]}"
    item.route = "delivery"
    flows.move(db, item, S.dispatched, actor=actor, note=note)
    flows.move(db, item, S.answered, actor=actor, note=f"delivery: {message}")
    masked = {"records": records, "results": [], "note": note, "delivery": {"message_id": message,
                                                                            "received_at": received}}
    item.answer = {**masked, "compared": _compared(db, item, masked)}
    item.answered_at, item.answered_by, item.answer_channel = utcnow(), f"delivery:{unit_code}"[:64], "delivery"
    item.answer_message_id, item.answer_unit_code = message, unit_code
    db.flush()
    return True


def _all_check_values(req: InfoRequest, data_dir: Path) -> list[dict[str, Any]]:
    if not req.check_values_sealed:
        return []
    return list(json.loads(vault_for(data_dir).open(req.check_values_sealed) or "[]"))


def _values_for(req: InfoRequest, item: RequestItem, data_dir: Path) -> list[dict[str, str]]:
    return [cv["values"] for cv in _all_check_values(req, data_dir) if cv["resource"] == item.resource_code]


# answers --------------------------------------------------------------------------------------
_TRUE = {"true", "1", "是", "y", "yes", "有"}
_FALSE = {"false", "0", "否", "n", "no", "无"}


def _value(item: InfoItemDoc, raw: Any) -> tuple[Any, str | None]:
    """The value in its item's type, or a problem in words."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    text = str(raw).strip()
    kind = item.type.value
    try:
        if kind == "integer":
            if isinstance(raw, bool):
                raise ValueError
            number = Decimal(text)
            if number != number.to_integral_value():
                raise ValueError
            return int(number), None
        if kind == "decimal":
            if isinstance(raw, bool):
                raise ValueError
            return float(Decimal(text.replace(",", ""))), None
        if kind == "date":
            return date.fromisoformat(text[:10].replace("/", "-")).isoformat(), None
        if kind == "datetime":
            return datetime.fromisoformat(text).isoformat(), None
        if kind == "boolean":
            if isinstance(raw, bool):
                return raw, None
            if text.lower() in _TRUE:
                return True, None
            if text.lower() in _FALSE:
                return False, None
            raise ValueError
    except (ValueError, InvalidOperation):
        return None, f"{item.name}({item.code}): “{text[:20]}” 不是{kind} / is not a {kind}"
    if kind == "enum" and item.values and text not in item.values:
        return None, f"{item.name}({item.code}): 须为 {'、'.join(item.values)} 之一 / must be one of the listed values"
    if item.length and len(text) > item.length:
        return None, f"{item.name}({item.code}): 超过 {item.length} 个字符 / longer than {item.length} characters"
    if item.id_kind is not None and item.id_kind.value == "cn_ric" and not ric.is_valid(text):
        return None, f"{item.name}({item.code}): 不是有效的居民身份证号码 / not a valid resident ID number"
    if item.id_kind is not None and item.id_kind.value == "uscc" and not uscc.is_valid(text):
        return None, f"{item.name}({item.code}): 不是有效的统一社会信用代码 / not a valid USCC"
    return text.upper() if item.id_kind is not None and item.id_kind.value == "cn_ric" else text, None


def _masked(item: InfoItemDoc, value: Any) -> Any:
    if value is None or not (item.pii or (item.id_kind is not None and item.id_kind.value in ("cn_ric", "phone"))):
        return value
    if item.id_kind is not None:
        return mask(str(value), item.id_kind.value)
    if any(w in item.code for w in ("address", "location")):
        return mask(str(value), "address")
    return mask(str(value))


# Further checks of an answer's records: ``fn(db, spec, records) -> problems``; any problem refuses the
# answer like a type error. The resource's quality rules are the first (below).
AnswerCheck = Callable[[Session, ResourceSpec, list[dict[str, Any]]], list[str]]
ANSWER_CHECKS: list[AnswerCheck] = []


def on_answer_check(fn: AnswerCheck) -> AnswerCheck:
    ANSWER_CHECKS.append(fn)
    return fn


@on_answer_check
def resource_rules(db: Session, spec: ResourceSpec, records: list[dict[str, Any]]) -> list[str]:
    """An answer is checked like a delivery: the resource's quality rules (row rules of error severity; the
    whole-delivery ones such as volume and timeliness judge deliveries, not one answer), set-based in polars."""
    if not records:
        return []
    frame = pl.DataFrame([{str(k): v for k, v in r.items()} for r in records], infer_schema_length=None,
                         strict=False).with_row_index("__line", offset=1)
    given = {c.lower() for c in frame.columns}
    # Only rules over fields the answer gives: a unit answers what it holds (the info items say what is
    # required, and check_answer has checked that).
    rules = [r for r in quality_rules.rules_for_resource(db, resource_code=spec.code)
             if r.severity == quality_engine.Severity.error and r.kind not in quality_engine.SET_KINDS
             and all(c.lower() in given for c in r.columns)]
    evaluation = quality_engine.evaluate(frame, rules, line_column="__line")
    problems = []
    for outcome in evaluation.outcomes:
        if outcome.failed and not outcome.skipped:
            lines = sorted({int(x["line"]) for x in outcome.sample if x.get("line") is not None})
            where = "、".join(f"第 {n} 条" for n in lines[:5]) or "—"
            problems.append(f"{where}：{outcome.rule.label}")
    return problems


def check_answer(spec: ResourceSpec, req: InfoRequest, item: RequestItem, answer: AnswerIn,
                 check_values: list[dict[str, str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(masked, full) answers, or 422 listing every problem (row and item)."""
    problems: list[str] = []
    full_records, masked_records = [], []
    if req.kind == RequestKind.query:
        if answer.results:
            problems.append("查询请求请按记录答复，不填核查结果 / a query is answered with records, not results")
        for n, rec in enumerate(answer.records, start=1):
            full, masked = {}, {}
            for key, raw in rec.items():
                info = spec.item(str(key))
                if info is None:
                    problems.append(f"第 {n} 条 / record {n}: 资源没有信息项 {str(key)[:40]} / no such info item")
                    continue
                value, problem = _value(info, raw)
                if problem:
                    problems.append(f"第 {n} 条 / record {n}: {problem}")
                full[info.code], masked[info.code] = value, _masked(info, value)
            if not any(v is not None for v in full.values()):
                problems.append(f"第 {n} 条是空的 / record {n} is empty")
            full_records.append(full)
            masked_records.append(masked)
        results_out: list[dict[str, Any]] = []
    else:
        if answer.records:
            problems.append("核查请求请逐个值答复一致/不一致/未查到 / a verification is answered per value")
        seen = {r.index for r in answer.results}
        if len(seen) != len(answer.results):
            problems.append("同一个核查值答复了两次 / a value is answered twice")
        for r in answer.results:
            if r.index >= len(check_values):
                problems.append(f"没有序号为 {r.index} 的核查值 / no value to check numbered {r.index}")
        missing = [i for i in range(len(check_values)) if i not in seen]
        if missing:
            problems.append(f"还有 {len(missing)} 个核查值未答复（序号 {', '.join(map(str, missing[:10]))}）/ "
                            f"{len(missing)} values have no result yet")
        results_out = [{"index": r.index, "result": r.result.value, "note": r.note,
                        "values": check_values[r.index] if r.index < len(check_values) else {}}
                       for r in sorted(answer.results, key=lambda r: r.index)]
    if problems:
        raise Invalid(T("答复有 {n} 处问题，请改正后再提交：{p}", "The answer has {n} problems; correct them and send it "
                        "again: {p}", n=len(problems), p="；".join(problems[:5])), code="answer_invalid",
                      detail={"problems": problems[:100]})
    note = answer.note.strip() if answer.note else None
    return ({"records": masked_records, "results": results_out, "note": note},
            {"records": full_records, "results": results_out, "note": note})


def record_answer(db: Session, item: RequestItem, answer: AnswerIn, *, actor: str, channel: str,
                  unit_code: str, message_id: str | None = None, data_dir: Path | None = None,
                  check_values: list[dict[str, str]] | None = None) -> RequestItem:
    """Check the answer against the resource, store it masked (in full sealed) with its provenance."""
    req = item.request
    spec = catalog.get_resource(db, code=item.resource_code)
    if check_values is None:
        check_values = _values_for(req, item, data_dir) if data_dir else []
    masked, full = check_answer(spec, req, item, answer, check_values)
    problems = [p for check in ANSWER_CHECKS for p in check(db, spec, full["records"])]
    if problems:
        raise Invalid(T("答复未通过质量检查（{n} 处），请改正后再提交：{p}", "The answer failed {n} quality checks; "
                        "correct it and send it again: {p}", n=len(problems), p="；".join(problems[:5])),
                      code="answer_invalid", detail={"problems": problems[:100]})
    flows.move(db, item, S.answered, actor=actor, note=f"{channel}" + (f": {message_id}" if message_id else ""))
    item.answer = {**masked, "compared": _compared(db, item, masked)}
    item.answer_sealed = vault_for(data_dir).seal(json.dumps(full, ensure_ascii=False)) if data_dir else None
    item.answered_at, item.answered_by, item.answer_channel = utcnow(), actor[:64], channel
    item.answer_message_id, item.answer_unit_code = message_id, unit_code
    db.flush()
    return item


def _record_key(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def _compared(db: Session, item: RequestItem, masked: dict[str, Any]) -> dict[str, Any] | None:
    """What changed since the unit's last answer about the same person and resource (records, masked)."""
    debtors = {s["debtor_id"] for s in item.request.subjects}
    earlier = db.scalars(select(RequestItem).join(InfoRequest).where(
        RequestItem.resource_code == item.resource_code, RequestItem.unit_id == item.unit_id,
        RequestItem.id != item.id, RequestItem.answered_at.is_not(None), InfoRequest.kind == RequestKind.query.value)
        .order_by(RequestItem.answered_at.desc()).limit(50))
    previous = next((e for e in earlier if {s["debtor_id"] for s in e.request.subjects} == debtors), None)
    if previous is None or item.request.kind != RequestKind.query or previous.answer is None:
        return None
    before = {_record_key(r) for r in previous.answer.get("records") or []}
    now = {_record_key(r) for r in masked["records"]}
    return {"item_id": previous.id, "answered_at": previous.answered_at.isoformat() if previous.answered_at else None,
            "added": len(now - before), "removed": len(before - now), "unchanged": len(now & before)}


@messaging.on_message("response")
def on_response(db: Session, env: dict[str, Any], conn: Any) -> dict[str, Any] | None:
    """A unit's system answers an item: ``correlation_id`` is the request envelope's id.

    Payload: ``{"status": "answered", "records": [...]}`` (query), ``{"status": "answered", "results":
    [{"index", "result": match|mismatch|not_found}]}`` (verification), ``{"status": "accepted"}`` or
    ``{"status": "rejected", "reason": "..."}``. A refused answer leaves the item as it was, with the
    reason in its history for the handler to see.
    """
    correlation = env.get("correlation_id")
    if not correlation:
        return None
    item = db.scalar(select(RequestItem).where(RequestItem.envelope_id == correlation,
                                               RequestItem.unit_id == conn.unit_id))
    if item is None:
        log.info("a response correlates to no request item of its unit; kept in the inbox only")
        return None
    payload = env.get("payload") or {}
    actor = f"system:{env.get('sender', '')}"[:64]
    status = str(payload.get("status") or "answered")
    try:
        if status == "accepted":
            flows.move(db, item, S.accepted, actor=actor, note=f"{conn.channel}: {env['id']}")
        elif status == "rejected":
            reason = str(payload.get("reason") or "")[:500] or "未说明理由 / no reason given"
            flows.move(db, item, S.rejected, actor=actor, note=reason)
            item.reject_reason = reason
        else:
            answer = AnswerIn.model_validate({"records": payload.get("records") or [],
                                              "results": payload.get("results") or [], "note": payload.get("note")})
            with db.begin_nested():
                record_answer(db, item, answer, actor=actor, channel=conn.channel, unit_code=env.get("sender", ""),
                              message_id=env["id"], check_values=[{} for _ in range(item.check_count)])
    except (AppError, ValidationError) as exc:  # an answer that does not fit stays out, the reason noted
        reason = exc.message.render("zh-CN") if isinstance(exc, AppError) else "答复格式不符 / not in the answer shape"
        flows.note(db, item, actor=actor, text=f"答复未采用 / answer not taken ({env['id']}): {reason}")
    return None


# reading ------------------------------------------------------------------------------------
class _Names:
    """Unit and resource names and case numbers, looked up once per listing."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.units: dict[str, tuple[str, str]] = {}
        self.resources: dict[str, ResourceSpec] = {}
        self.cases: dict[str, str] = {}

    def unit(self, unit_id: str) -> tuple[str, str]:
        if unit_id not in self.units:
            u = unit_service.get_unit(self.db, unit_id=unit_id)
            self.units[unit_id] = (u.code, u.name)
        return self.units[unit_id]

    def resource(self, code: str) -> ResourceSpec:
        if code not in self.resources:
            self.resources[code] = catalog.get_resource(self.db, code=code)
        return self.resources[code]

    def case_no(self, case_id: str) -> str:
        if case_id not in self.cases:
            self.cases[case_id] = cases.get_case(self.db, case_id=case_id).case_no
        return self.cases[case_id]


def _answer_out(item: RequestItem, check_values: list[dict[str, str]] | None,
                full: dict[str, Any] | None = None) -> AnswerOut | None:
    if item.answer is None:
        return None
    answer = full or item.answer
    results = []
    for r in answer.get("results") or []:
        values = (check_values[r["index"]] if check_values is not None and r["index"] < len(check_values)
                  else r.get("values") or {})
        results.append({**r, "values": values, "label": _lang(VERIFY_RESULT_LABELS[VerifyResult(r["result"])])})
    return AnswerOut(records=answer.get("records") or [], results=results, note=answer.get("note"), masked=full is None,
                     compared=item.answer.get("compared"),
                     answered_at=item.answered_at, answered_by=item.answered_by, channel=item.answer_channel,
                     message_id=item.answer_message_id, unit_code=item.answer_unit_code)


def item_out(db: Session, item: RequestItem, *, names: _Names | None = None, today: date | None = None,
             check_values: list[dict[str, str]] | None = None) -> ItemOut:
    names = names or _Names(db)
    today = today or duedates.local_today()
    unit_code, unit_name = names.unit(item.unit_id)
    req = item.request
    return ItemOut(
        id=item.id, request_id=req.id, case_id=req.case_id, case_no=names.case_no(req.case_id), kind=req.kind,
        kind_label=_lang(REQUEST_KIND_LABELS[RequestKind(req.kind)]), unit_id=item.unit_id, unit_code=unit_code,
        unit_name=unit_name, resource_code=item.resource_code, resource_name=names.resource(item.resource_code).name,
        state=item.state, state_label=_lang(ITEM_STATE_LABELS[ItemState(item.state)]), allowed=flows.allowed(item.state),
        due_on=item.due_on, overdue=flows.is_overdue(item, today=today), route=item.route,
        reject_reason=item.reject_reason, answer=_answer_out(item, check_values), created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _subjects_out(db: Session, req: InfoRequest, *, data_dir: Path | None = None) -> list[SubjectOut]:
    out = []
    for s in req.subjects:
        debtor = cases.get_debtor(db, debtor_id=s["debtor_id"])
        if data_dir is not None:
            out.append(SubjectOut(debtor_id=debtor.id, name=debtor.name, masked=False,
                                  id_no=cases.debtor_id_no(db, debtor_id=debtor.id, data_dir=data_dir)))
        else:
            out.append(SubjectOut(debtor_id=debtor.id, name=debtor.name, id_no=debtor.id_no_masked))
    return out


def _reminder_out(r: RequestReminder) -> ReminderOut:
    return ReminderOut(id=r.id, item_id=r.item_id, kind=r.kind, label=_lang(REMINDER_LABELS[ReminderKind(r.kind)]),
                       due_on=r.due_on, created_at=r.created_at, sent=r.sent_envelope_id is not None)


def _full_answer(db: Session, item: RequestItem, data_dir: Path) -> dict[str, Any] | None:
    """The answer as the unit gave it: sealed on the item (portal), or the response envelope in the inbox."""
    if item.answer_sealed:
        return dict(json.loads(vault_for(data_dir).open(item.answer_sealed) or "{}"))
    if item.answer_channel == "delivery":  # the delivery holds other people's rows: only this person's, masked
        return None
    if item.answer_message_id:
        payload = messaging.inbox_envelope(db, envelope_id=item.answer_message_id, data_dir=data_dir).get("payload") or {}
        return {"records": payload.get("records") or [], "results": (item.answer or {}).get("results") or [],
                "note": payload.get("note")}
    return None


def item_detail(db: Session, item: RequestItem, *, data_dir: Path, unmasked: bool = False) -> ItemDetailOut:
    req = item.request
    names = _Names(db)
    spec = names.resource(item.resource_code)
    values = _values_for(req, item, data_dir)
    base = item_out(db, item, names=names, check_values=values)
    if unmasked and item.answer is not None:
        base.answer = _answer_out(item, values, full=_full_answer(db, item, data_dir))
    history = db.scalars(select(RequestItemEvent).where(RequestItemEvent.item_id == item.id)
                         .order_by(RequestItemEvent.at, RequestItemEvent.id))
    reminders = db.scalars(select(RequestReminder).where(RequestReminder.item_id == item.id)
                           .order_by(RequestReminder.created_at))
    return ItemDetailOut(
        **base.model_dump(), purpose=req.purpose, legal_basis=req.legal_basis,
        subjects=_subjects_out(db, req, data_dir=data_dir if unmasked else None), check_values=values,
        info_items=[InfoItemOut(code=i.code, name=i.name, type=i.type.value, length=i.length, values=i.values,
                                pii=i.pii, id_kind=i.id_kind.value if i.id_kind else None) for i in spec.items],
        history=[EventOut(at=e.at, actor=e.actor, from_state=e.from_state, to_state=e.to_state,
                          to_label=_lang(ITEM_STATE_LABELS[ItemState(e.to_state)]), note=e.note) for e in history],
        reminders=[_reminder_out(r) for r in reminders],
    )


def get_request_row(db: Session, *, request_id: str) -> InfoRequest:
    req = db.get(InfoRequest, request_id)
    if req is None:
        raise NotFound(T("请求不存在", "The request does not exist"), code="request_not_found")
    return req


def request_out(db: Session, req: InfoRequest, *, data_dir: Path, names: _Names | None = None) -> RequestOut:
    names = names or _Names(db)
    today = duedates.local_today()
    all_values = _all_check_values(req, data_dir)
    return RequestOut(
        id=req.id, case_id=req.case_id, kind=req.kind, kind_label=_lang(REQUEST_KIND_LABELS[RequestKind(req.kind)]),
        subjects=_subjects_out(db, req), purpose=req.purpose, legal_basis=req.legal_basis, due_on=req.due_on,
        check_values=[CheckValueIn.model_validate(v) for v in all_values], created_by=req.created_by,
        created_at=req.created_at,
        items=[item_out(db, i, names=names, today=today,
                        check_values=[v["values"] for v in all_values if v["resource"] == i.resource_code])
               for i in req.items],
    )


def case_requests(db: Session, *, case_id: str, data_dir: Path, principal: Principal) -> CaseRequestsOut:
    """The case page's requests, newest first, with the reminders of their items (reminders made first)."""
    case = cases.get_case(db, case_id=case_id)
    remind_due(db, utcnow(), data_dir=data_dir)
    reqs = list(db.scalars(select(InfoRequest).where(InfoRequest.case_id == case.id)
                           .order_by(InfoRequest.created_at.desc())))
    names = _Names(db)
    item_ids = [i.id for r in reqs for i in r.items]
    reminders = list(db.scalars(select(RequestReminder).where(RequestReminder.item_id.in_(item_ids))
                                .order_by(RequestReminder.created_at.desc()))) if item_ids else []
    if any(i.answer is not None for r in reqs for i in r.items):
        audit.record(db, action="requests.answers.read", principal=principal, object_type="debtor",
                     object_id=case.debtor_id, detail={"case_no": case.case_no, "masked": True})
    return CaseRequestsOut(requests=[request_out(db, r, data_dir=data_dir, names=names) for r in reqs],
                           reminders=[_reminder_out(r) for r in reminders])


# the handler's actions ------------------------------------------------------------------------
def get_item_row(db: Session, *, item_id: str) -> RequestItem:
    item = db.get(RequestItem, item_id)
    if item is None:
        raise _not_found()
    return item


def read_item(db: Session, *, item_id: str, principal: Principal, data_dir: Path) -> ItemDetailOut:
    """An item for the office (identifiers masked); reading a unit's answer about a person is audited."""
    item = get_item_row(db, item_id=item_id)
    if item.answer is not None:
        audit.record(db, action="requests.answers.read", principal=principal, object_type="info_request_item",
                     object_id=item.id, detail={"resource": item.resource_code, "masked": True})
    return item_detail(db, item, data_dir=data_dir)


def read_item_in_full(db: Session, *, item_id: str, purpose: str, principal: Principal, data_dir: Path,
                      ip: str | None = None) -> ItemDetailOut:
    """An item with the person's ID number and the unit's answer in clear; audited with its purpose."""
    item = get_item_row(db, item_id=item_id)
    audit.record(db, action="pii.unmask", principal=principal, object_type="info_request_item", object_id=item.id,
                 purpose=purpose, ip=ip, detail={"resource": item.resource_code, "answer": item.answer is not None})
    return item_detail(db, item, data_dir=data_dir, unmasked=True)


def withdraw_item(db: Session, *, item_id: str, principal: Principal, reason: str | None = None) -> RequestItem:
    item = get_item_row(db, item_id=item_id)
    flows.move(db, item, S.withdrawn, actor=principal.username, note=reason)
    audit.record(db, action="requests.withdraw", principal=principal, object_type="info_request_item",
                 object_id=item.id)
    return item


def check_item(db: Session, *, item_id: str, principal: Principal) -> RequestItem:
    """The handler has read the answer and takes it as checked."""
    item = get_item_row(db, item_id=item_id)
    return flows.move(db, item, S.checked, actor=principal.username)


def close_item(db: Session, *, item_id: str, principal: Principal) -> RequestItem:
    item = get_item_row(db, item_id=item_id)
    return flows.move(db, item, S.closed, actor=principal.username)


def handler_counts(db: Session, *, principal: Principal) -> CountsOut:
    """What waits for a handler: their items overdue, answered and not yet checked, and reminders."""
    remind_due(db, utcnow())
    today = duedates.local_today()
    mine = select(RequestItem).join(InfoRequest).where(InfoRequest.created_by == principal.username)
    return _counts(db, mine, today)


def _counts(db: Session, base: Any, today: date) -> CountsOut:
    def count(stmt: Any) -> int:
        return db.scalar(select(func.count()).select_from(stmt.subquery())) or 0

    todo = count(base.where(RequestItem.state.in_(WAITING_ON_UNIT)))
    overdue = count(base.where(RequestItem.state.in_(WAITING_ON_UNIT), RequestItem.due_on < today))
    answered = count(base.where(RequestItem.state == S.answered.value))
    reminders = count(base.join(RequestReminder, RequestReminder.item_id == RequestItem.id)
                      .where(RequestItem.state.in_(WAITING_ON_UNIT)))
    return CountsOut(todo=todo, overdue=overdue, answered=answered, reminders=reminders)


# the unit portal ------------------------------------------------------------------------------
PORTAL_VIEWS = ("todo", "overdue", "answered", "rejected", "all")


def _unit_items(principal: Principal) -> Any:
    """The one visibility rule of the portal: an operator sees only their own unit's items (never drafts)."""
    return select(RequestItem).where(RequestItem.unit_id == principal.unit_id,
                                     RequestItem.state.not_in((S.draft.value, S.submitted.value)))


def unit_counts(db: Session, *, principal: Principal) -> CountsOut:
    remind_due(db, utcnow())
    return _counts(db, _unit_items(principal), duedates.local_today())


def unit_items(db: Session, *, principal: Principal, view: str, params: PageParams) -> tuple[list[ItemOut], int]:
    if view not in PORTAL_VIEWS:
        raise Invalid(T("未知的列表 {v}，可选：{a}", "Unknown list {v}; choose one of {a}", v=view[:20],
                        a=", ".join(PORTAL_VIEWS)), code="bad_view")
    remind_due(db, utcnow())
    today = duedates.local_today()
    stmt = _unit_items(principal)
    if view == "todo":
        stmt = stmt.where(RequestItem.state.in_(WAITING_ON_UNIT)).order_by(RequestItem.due_on, RequestItem.id)
    elif view == "overdue":
        stmt = stmt.where(RequestItem.state.in_(WAITING_ON_UNIT), RequestItem.due_on < today).order_by(
            RequestItem.due_on, RequestItem.id)
    elif view == "answered":
        stmt = stmt.where(RequestItem.state.in_(ANSWERED)).order_by(RequestItem.answered_at.desc(), RequestItem.id)
    elif view == "rejected":
        stmt = stmt.where(RequestItem.state == S.rejected.value).order_by(RequestItem.updated_at.desc())
    else:
        stmt = stmt.order_by(RequestItem.created_at.desc(), RequestItem.id)
    rows, total = paginate(db, stmt, params)
    names = _Names(db)
    return [item_out(db, i, names=names, today=today) for i in rows], total


def unit_item(db: Session, *, item_id: str, principal: Principal) -> RequestItem:
    """One of the operator's unit's items; another unit's is "not found" (404), never "forbidden"."""
    item = db.scalar(_unit_items(principal).where(RequestItem.id == item_id))
    if item is None:
        raise _not_found()
    return item


def read_unit_item(db: Session, *, item_id: str, principal: Principal, data_dir: Path,
                   purpose: str | None = None, ip: str | None = None) -> ItemDetailOut:
    """The item for its unit's operator; ``purpose`` shows the person's ID number in full (audited)."""
    item = unit_item(db, item_id=item_id, principal=principal)
    audit.record(db, action="pii.unmask" if purpose else "requests.item.read", principal=principal,
                 object_type="info_request_item", object_id=item.id, purpose=purpose, ip=ip,
                 detail={"resource": item.resource_code})
    return item_detail(db, item, data_dir=data_dir, unmasked=purpose is not None)


def accept_item(db: Session, *, item_id: str, principal: Principal) -> RequestItem:
    item = unit_item(db, item_id=item_id, principal=principal)
    return flows.move(db, item, S.accepted, actor=principal.username)


def reject_item(db: Session, *, item_id: str, reason: str, principal: Principal) -> RequestItem:
    item = unit_item(db, item_id=item_id, principal=principal)
    flows.move(db, item, S.rejected, actor=principal.username, note=reason.strip())
    item.reject_reason = reason.strip()[:500]
    audit.record(db, action="requests.reject", principal=principal, object_type="info_request_item",
                 object_id=item.id, detail={"reason": item.reject_reason})
    return item


def answer_item(db: Session, *, item_id: str, answer: AnswerIn, principal: Principal, data_dir: Path,
                channel: str = "portal") -> RequestItem:
    """An operator's answer (form or sheet). An item not yet accepted is accepted on the way."""
    item = unit_item(db, item_id=item_id, principal=principal)
    if item.state == S.dispatched:
        flows.move(db, item, S.accepted, actor=principal.username)
    record_answer(db, item, answer, actor=principal.username, channel=channel, unit_code=principal.unit_code,
                  data_dir=data_dir)
    audit.record(db, action="requests.answer", principal=principal, object_type="info_request_item",
                 object_id=item.id, detail={"channel": channel, "records": len(answer.records),
                                            "results": len(answer.results)})
    return item


def template_for(db: Session, *, item_id: str, principal: Principal, data_dir: Path) -> tuple[bytes, str]:
    item = unit_item(db, item_id=item_id, principal=principal)
    spec = catalog.get_resource(db, code=item.resource_code)
    detail = item_detail(db, item, data_dir=data_dir)
    verification = item.request.kind == RequestKind.verification
    data = sheets.template(items=detail.info_items, check_values=detail.check_values if verification else None,
                           title=f"{spec.code} {spec.name}")
    return data, f"{spec.code}-{'核查' if verification else '查询'}答复模板.xlsx"


def answer_from_sheet(db: Session, *, item_id: str, data: bytes, filename: str, principal: Principal,
                      data_dir: Path) -> tuple[RequestItem, int]:
    item = unit_item(db, item_id=item_id, principal=principal)
    spec = catalog.get_resource(db, code=item.resource_code)
    infos = [InfoItemOut(code=i.code, name=i.name, type=i.type.value, length=i.length, values=i.values)
             for i in spec.items]
    records, results = sheets.read(data, filename, items=infos,
                                   verification=item.request.kind == RequestKind.verification)
    answer = AnswerIn.model_validate({"records": records, "results": results})
    answer_item(db, item_id=item.id, answer=answer, principal=principal, data_dir=data_dir, channel="upload")
    return item, len(records) or len(results)


# reminders ------------------------------------------------------------------------------------
def remind_due(db: Session, now: datetime, *, data_dir: Path | None = None) -> list[RequestReminder]:
    """Reminders for items one working day from due (``nearing``) or past it (``overdue``), once each.

    Shown in the portal and on the case page; when the unit has a live connection (and ``data_dir``
    is given, to seal the outgoing message) a ``request`` envelope with ``kind: reminder`` goes out on
    it, correlated to the item's request envelope. The scheduler calls this; list pages call it too.
    """
    today = duedates.local_today(now)
    horizon = duedates.add_working_days(today, 1)
    candidates = list(db.scalars(select(RequestItem).where(RequestItem.state.in_(WAITING_ON_UNIT),
                                                           RequestItem.due_on <= horizon)))
    if not candidates:
        return []
    have = {(item_id, kind) for item_id, kind in db.execute(
        select(RequestReminder.item_id, RequestReminder.kind)
        .where(RequestReminder.item_id.in_([i.id for i in candidates])))}
    made = []
    for item in candidates:
        kind = ReminderKind.overdue if today > item.due_on else ReminderKind.nearing
        if (item.id, kind.value) in have:
            continue
        reminder = RequestReminder(item_id=item.id, kind=kind.value, due_on=item.due_on)
        try:
            with db.begin_nested():
                db.add(reminder)
                db.flush()
        except IntegrityError:  # another page load made it a moment ago
            continue
        if data_dir is not None and item.connection_id:
            conn = _live_connection(db, item.unit_id)
            if conn is not None and conn.id == item.connection_id:
                msg = messaging.enqueue(db, connection_id=conn.id, type="request", data_dir=data_dir,
                                        resource=item.resource_code, correlation_id=item.envelope_id,
                                        payload={"kind": "reminder", "reminder": kind.value, "item_id": item.id,
                                                 "due_on": item.due_on.isoformat()})
                reminder.sent_envelope_id = msg.envelope_id
        flows.note(db, item, actor="system", text=_lang(REMINDER_LABELS[kind]) + f" ({item.due_on.isoformat()})")
        made.append(reminder)
    db.flush()
    return made


def case_request_count(db: Session, *, case_id: str) -> int:
    return db.scalar(select(func.count()).select_from(InfoRequest).where(InfoRequest.case_id == case_id)) or 0


def stats_by_unit(db: Session, *, date_from: date | None = None, date_to: date | None = None) -> dict[str, dict[str, Any]]:
    """Per unit id, over items sent (not drafts): how many, answered, rejected, overdue now, and the mean hours
    from creation to answer — the office's built-in dashboard (reports) reads it."""
    today = duedates.local_today()
    stmt = select(RequestItem.unit_id, RequestItem.state, RequestItem.due_on, RequestItem.created_at,
                  RequestItem.answered_at).where(RequestItem.state.not_in((S.draft.value,)))
    if date_from:
        stmt = stmt.where(RequestItem.created_at >= datetime.combine(date_from, datetime.min.time()))
    if date_to:
        stmt = stmt.where(RequestItem.created_at < datetime.combine(date_to, datetime.max.time()))
    out: dict[str, dict[str, Any]] = {}
    hours: dict[str, list[float]] = {}
    for unit_id, state, due_on, created_at, answered_at in db.execute(stmt):
        row = out.setdefault(unit_id, {"items": 0, "answered": 0, "rejected": 0, "overdue": 0})
        row["items"] += 1
        if answered_at is not None:
            row["answered"] += 1
            if created_at is not None:
                a, c = answered_at.replace(tzinfo=None), created_at.replace(tzinfo=None)
                hours.setdefault(unit_id, []).append(max(0.0, (a - c).total_seconds() / 3600))
        if state == S.rejected.value:
            row["rejected"] += 1
        if state in WAITING_ON_UNIT and due_on is not None and due_on < today:
            row["overdue"] += 1
    for unit_id, row in out.items():
        h = hours.get(unit_id) or []
        row["avg_response_hours"] = round(sum(h) / len(h), 1) if h else None
        row["rejection_rate"] = round(row["rejected"] / row["items"], 3) if row["items"] else 0.0
    return out
