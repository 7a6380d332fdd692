"""Joint testing (联调测试): a connection in ``testing`` runs a test plan, one round trip per resource it carries.

The plan (``plan``) follows the catalog: for every published resource the unit provides, a
``request → answer`` step when the resource is asked by API, and a ``delivery → receipt`` step when the
unit delivers it (subscription or file); for every outbound resource the unit receives, a
``push → receipt`` step. Starting a run (``start``) sends the test envelopes (``test: true``) the
platform owes: the requests and the pushes. ``evaluate`` reads the state of each step from what is in
the outbox and inbox (a receipt marks an outbox message delivered; the unit's test answers and test
deliveries are in the inbox with ``test = true``, deliveries landed in ``shared_test``) and checks what
came back against the resource's info items. A run with every step passed is a passed report, which
the go-live gate (``gate.py``) asks for. The report is kept with the connection and exported to Excel.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric, uscc

from pbshare.catalog.resources import service as catalog
from pbshare.catalog.resources.schemas import InfoItemDoc, ResourceSpec
from pbshare.core.clock import as_utc, utcnow
from pbshare.core.errors import Conflict, NotFound
from pbshare.core.i18n import T, current_language
from pbshare.exchange.connections import service as connections
from pbshare.exchange.connections.enums import ConnectionState
from pbshare.exchange.jointtest import gate
from pbshare.exchange.jointtest.models import JointTestRun, JointTestStep
from pbshare.exchange.jointtest.schemas import GoLiveStatusOut, RunOut, StepOut
from pbshare.exchange.messaging import service as messaging
from pbshare.security.audit import service as audit
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

REQUEST, DELIVERY, PUSH = "request", "delivery", "push"
WAITING, PASSED, FAILED = "waiting", "passed", "failed"
KIND_LABELS = {REQUEST: ("请求 → 答复", "request → answer"), DELIVERY: ("交付 → 回执", "delivery → receipt"),
               PUSH: ("推送 → 回执", "push → receipt")}
STATE_LABELS = {WAITING: ("等待中", "waiting"), PASSED: ("通过", "passed"), FAILED: ("未通过", "failed"),
                "running": ("进行中", "running")}
# Synthetic values with valid check digits that belong to nobody: what test envelopes carry.
TEST_ID_NO = "11010519491231002X"
TEST_USCC = "91350100M000100Y43"
TEST_NAME = "联调·测试"


def _lang(pair: tuple[str, str]) -> str:
    return pair[1] if current_language.get().startswith("en") else pair[0]


def _fail(zh: str, en: str, **params: Any) -> dict[str, str]:
    return {"zh": zh.format(**params), "en": en.format(**params)}


# the plan ---------------------------------------------------------------------------------------
def plan(db: Session, *, connection_id: str) -> list[tuple[str, ResourceSpec]]:
    """(kind, resource) for every round trip this connection's unit has to pass."""
    conn = connections.get_connection(db, connection_id=connection_id)
    unit = unit_service.get_unit(db, unit_id=conn.unit_id)
    steps: list[tuple[str, ResourceSpec]] = []
    for res in catalog.list_resources(db, provider=unit.code, direction="inbound", published_only=True):
        methods = {str(m) for m in res.method}
        if "api" in methods:
            steps.append((REQUEST, res))
        if methods & {"subscription", "file"}:
            steps.append((DELIVERY, res))
    for res in catalog.list_resources(db, direction="outbound", published_only=True):
        if unit.code in res.receivers:
            steps.append((PUSH, res))
    return steps


def sample_value(item: InfoItemDoc) -> Any:
    """A value of the item's type that passes its checks (synthetic: nobody's identifiers)."""
    if item.id_kind == "cn_ric":
        return TEST_ID_NO
    if item.id_kind == "uscc":
        return TEST_USCC
    if item.id_kind == "phone":
        return "13800000000"
    kind = str(item.type)
    if kind == "enum" and item.values:
        return item.values[0]
    if kind == "integer":
        return 1
    if kind == "decimal":
        return "1.00"
    if kind == "date":
        return date.today().isoformat()
    if kind == "datetime":
        return utcnow().strftime("%Y-%m-%dT%H:%M:%S")
    if kind == "boolean":
        return True
    text = TEST_NAME if "name" in item.code or "名" in item.name else "测试"
    return text[: item.length] if item.length else text


def sample_record(spec: ResourceSpec) -> dict[str, Any]:
    return {i.code: sample_value(i) for i in spec.items}


def check_record(spec: ResourceSpec, record: Any, *, where: str) -> list[dict[str, str]]:
    """What in one record does not fit the resource's info items (field names, types, lengths, checksums)."""
    if not isinstance(record, dict):
        return [_fail("{w}：记录应为 JSON 对象", "{w}: a record must be a JSON object", w=where)]
    items = {i.code: i for i in spec.items} | {i.name: i for i in spec.items}
    problems: list[dict[str, str]] = []
    for name, value in record.items():
        item = items.get(str(name))
        if item is None:
            problems.append(_fail("{w}：字段 {f} 不是资源 {r} 的信息项", "{w}: field {f} is not an info item of "
                                  "resource {r}", w=where, f=str(name)[:64], r=spec.code))
            continue
        if value is None or value == "":
            continue
        problem = _check_value(item, value)
        if problem:
            problems.append(_fail("{w}：{f} {p}", "{w}: {f} {p}", w=where, f=item.code, p=problem))
    return problems


def _check_value(item: InfoItemDoc, value: Any) -> str | None:
    text = str(value)
    kind = str(item.type)
    if item.length and kind == "string" and len(text) > item.length:
        return f"长度 {len(text)} 超过 {item.length} / longer than {item.length}"
    if item.id_kind == "cn_ric" and not ric.is_valid(text):
        return "不是有效的居民身份证号码 / not a valid resident ID number"
    if item.id_kind == "uscc" and not uscc.is_valid(text):
        return "不是有效的统一社会信用代码 / not a valid USCC"
    if kind == "enum" and item.values and text not in item.values:
        return f"不在允许值 {item.values} 中 / not one of the allowed values"
    try:
        if kind == "integer" and not isinstance(value, bool):
            int(text)
        elif kind == "decimal":
            Decimal(text.replace(",", ""))
        elif kind == "date":
            date.fromisoformat(text[:10])
        elif kind == "datetime":
            datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, InvalidOperation):
        return f"不是 {kind} 类型的值 / not a {kind} value"
    return None


# running ----------------------------------------------------------------------------------------
def start(db: Session, *, connection_id: str, data_dir: Path, principal: Principal | None = None) -> JointTestRun:
    """Start a run of the plan: send the test requests and pushes now; the unit sends its test deliveries."""
    conn = connections.get_connection(db, connection_id=connection_id)
    if conn.state != ConnectionState.testing.value:
        raise Conflict(T("只有处于“联调测试”状态的连接可以运行测试计划（当前：{s}）：先把连接转为联调测试",
                         "Only a connection in joint testing can run the test plan (this one is {s}): move it to "
                         "testing first", s=conn.state), code="not_testing")
    steps = plan(db, connection_id=connection_id)
    if not steps:
        unit = unit_service.get_unit(db, unit_id=conn.unit_id)
        raise Conflict(T("单位 {u} 在共享目录中没有已发布的资源，无可测试的往返：先在目录中登记并发布其资源",
                         "Unit {u} has no published resource in the catalog, so there is nothing to test: register "
                         "and publish its resources first", u=unit.code), code="nothing_to_test")
    run = JointTestRun(connection_id=conn.id, started_by=principal.username if principal else "system",
                       started_at=utcnow())
    db.add(run)
    db.flush()
    now = utcnow()
    for position, (kind, spec) in enumerate(steps):
        step = JointTestStep(run_id=run.id, position=position, kind=kind, resource_code=spec.code,
                             resource_name=spec.name[:200], state=WAITING, failures=[], detail={})
        if kind == REQUEST:
            payload = {"item_id": f"jointtest-{run.id}-{position}", "request_id": run.id, "kind": "query",
                       "resource": spec.code, "purpose": "联调测试 / joint test", "legal_basis": "联调测试 / joint test",
                       "due_on": date.today().isoformat(),
                       "subjects": [{"name": TEST_NAME, "id_no": TEST_ID_NO}], "check_values": [],
                       "expect": [i.code for i in spec.items]}
            msg = messaging.enqueue(db, connection_id=conn.id, type="request", payload=payload, data_dir=data_dir,
                                    resource=spec.code, test=True)
            step.outbox_id, step.envelope_id, step.sent_at = msg.id, msg.envelope_id, now
        elif kind == PUSH:
            msg = messaging.enqueue(db, connection_id=conn.id, type="delivery", data_dir=data_dir,
                                    payload={"rows": [sample_record(spec)]}, resource=spec.code, test=True)
            step.outbox_id, step.envelope_id, step.sent_at = msg.id, msg.envelope_id, now
        else:
            step.sent_at = now  # the unit sends: timed from the start of the run
            step.detail = {"expect": [i.code for i in spec.items]}
        run.steps.append(step)
    audit.record(db, action="exchange.jointtest.start", principal=principal, object_type="exchange_connection",
                 object_id=conn.id, detail={"run": run.id, "steps": len(steps)})
    db.flush()
    return run


def _spec(db: Session, code: str, cache: dict[str, ResourceSpec]) -> ResourceSpec:
    if code not in cache:
        cache[code] = catalog.get_resource(db, code=code)
    return cache[code]


def _elapsed(step: JointTestStep, at: datetime) -> int | None:
    if step.sent_at is None:
        return None
    return max(0, int((as_utc(at) - as_utc(step.sent_at)).total_seconds() * 1000))


def evaluate(db: Session, *, run_id: str, data_dir: Path) -> JointTestRun:
    """Bring every waiting step up to date from the outbox and inbox; close the run when none waits."""
    run = get_run(db, run_id=run_id)
    if run.state != "running":
        return run
    inbox = [m for m in messaging.list_inbox(db, connection_id=run.connection_id, limit=500) if m.test]
    specs: dict[str, ResourceSpec] = {}
    for step in run.steps:
        if step.state != WAITING:
            continue
        spec = _spec(db, step.resource_code, specs)
        if step.kind == REQUEST:
            _evaluate_request(db, step, spec, inbox, data_dir)
        elif step.kind == PUSH:
            _evaluate_push(db, step)
        else:
            _evaluate_delivery(db, run, step, spec, inbox, data_dir)
    if all(s.state != WAITING for s in run.steps):
        _close(db, run)
    db.flush()
    return run


def _outbox_failure(db: Session, step: JointTestStep) -> dict[str, str] | None:
    msg = messaging.find_outbox_message(db, message_id=step.outbox_id or "")
    if msg is not None and msg.state in messaging.DEAD_STATES:
        return _fail("测试消息未能送达（{s}）：{e}", "The test message was not delivered ({s}): {e}", s=msg.state,
                     e=(msg.last_error or "")[:300])
    return None


def _evaluate_request(db: Session, step: JointTestStep, spec: ResourceSpec, inbox: list[Any], data_dir: Path) -> None:
    answers = [m for m in inbox if m.type == "response" and m.correlation_id == step.envelope_id]
    if not answers:
        failure = _outbox_failure(db, step)
        if failure:
            step.state, step.failures = FAILED, [failure]
        return
    # The unit may first answer "accepted" and the records later: the last answer with records counts.
    answers.sort(key=lambda m: m.received_at)
    final = None
    for m in answers:
        payload = messaging.inbox_envelope(db, envelope_id=m.envelope_id, data_dir=data_dir).get("payload") or {}
        status = str(payload.get("status") or "answered")
        if status == "accepted":
            continue
        final = (m, payload, status)
    if final is None:
        return
    m, payload, status = final
    failures: list[dict[str, str]] = []
    if status == "rejected":
        failures.append(_fail("单位拒绝了测试请求：{r}", "The unit refused the test request: {r}",
                              r=str(payload.get("reason") or "")[:300]))
    records = payload.get("records") or []
    if not isinstance(records, list):
        failures.append(_fail("答复的 records 应为列表", "The answer's records must be a list"))
        records = []
    for i, record in enumerate(records[:50], start=1):
        failures.extend(check_record(spec, record, where=f"records[{i}]"))
    step.answered_at = m.received_at
    step.elapsed_ms = _elapsed(step, m.received_at)
    step.detail = {**(step.detail or {}), "answer": m.envelope_id, "records": len(records), "status": status}
    step.state, step.failures = (FAILED, failures) if failures else (PASSED, [])


def _evaluate_push(db: Session, step: JointTestStep) -> None:
    msg = messaging.find_outbox_message(db, message_id=step.outbox_id or "")
    if msg is None:
        step.state, step.failures = FAILED, [_fail("测试推送消息不存在", "The test push is missing")]
        return
    if msg.state == "delivered":
        step.answered_at = msg.delivered_at
        step.elapsed_ms = _elapsed(step, msg.delivered_at or utcnow())
        step.state, step.failures = PASSED, []
        return
    failure = _outbox_failure(db, step)
    if failure:
        step.state, step.failures = FAILED, [failure]


def _evaluate_delivery(db: Session, run: JointTestRun, step: JointTestStep, spec: ResourceSpec, inbox: list[Any],
                       data_dir: Path) -> None:
    started = as_utc(run.started_at)
    mine = sorted((m for m in inbox if m.type == "delivery" and m.resource == spec.code
                   and as_utc(m.received_at) >= started), key=lambda m: m.received_at)
    if not mine:
        return
    m = mine[-1]
    state, result = messaging.inbox_result(db, envelope_id=m.envelope_id)
    if state == "received":
        return  # not landed yet
    failures: list[dict[str, str]] = []
    env = messaging.inbox_envelope(db, envelope_id=m.envelope_id, data_dir=data_dir)
    payload = env.get("payload") or {}
    rows = payload.get("rows") if isinstance(payload, dict) and "rows" in payload else [payload]
    for i, record in enumerate((rows or [])[:50], start=1):
        failures.extend(check_record(spec, record, where=f"rows[{i}]"))
    result = result or {}
    status = str(result.get("status") or state)
    if status in ("refused", "failed", "rejected"):
        failures.append(_fail("测试交付未能入库（{s}）：{m}", "The test delivery did not land ({s}): {m}", s=status,
                              m=str(result.get("message") or result.get("code") or "")[:300]))
    if result.get("quarantined"):
        failures.append(_fail("{n} 行未通过质量规则被隔离：{r}", "{n} rows failed the quality rules and were "
                              "quarantined: {r}", n=result.get("quarantined"),
                              r=json.dumps(result.get("reasons") or {}, ensure_ascii=False)[:300]))
    step.envelope_id, step.answered_at = m.envelope_id, m.received_at
    step.elapsed_ms = _elapsed(step, m.received_at)
    step.detail = {**(step.detail or {}), "status": status, "target": result.get("target"),
                   "loaded": result.get("loaded"), "quality_report": result.get("quality_report")}
    step.state, step.failures = (FAILED, failures) if failures else (PASSED, [])


def _close(db: Session, run: JointTestRun) -> None:
    run.state = PASSED if all(s.state == PASSED for s in run.steps) else FAILED
    run.finished_at = utcnow()
    audit.record(db, action="exchange.jointtest.finish", object_type="exchange_connection",
                 object_id=run.connection_id, detail={"run": run.id, "state": run.state},
                 actor_name="system:jointtest")


def finish(db: Session, *, run_id: str, data_dir: Path, principal: Principal | None = None) -> JointTestRun:
    """End a run now: steps still waiting fail with "no answer"."""
    run = evaluate(db, run_id=run_id, data_dir=data_dir)
    if run.state != "running":
        return run
    for step in run.steps:
        if step.state == WAITING:
            step.state = FAILED
            step.failures = [_fail("测试结束时仍未收到对方的答复或回执", "No answer or receipt had come when the test "
                                   "was ended")]
    _close(db, run)
    audit.record(db, action="exchange.jointtest.end", principal=principal, object_type="exchange_connection",
                 object_id=run.connection_id, detail={"run": run.id, "state": run.state})
    db.flush()
    return run


# reading ----------------------------------------------------------------------------------------
def get_run(db: Session, *, run_id: str) -> JointTestRun:
    run = db.get(JointTestRun, run_id)
    if run is None:
        raise NotFound(T("联调测试报告不存在", "The joint-test report does not exist"), code="jointtest_not_found")
    return run


def list_runs(db: Session, *, connection_id: str) -> list[JointTestRun]:
    connections.get_connection(db, connection_id=connection_id)
    return list(db.scalars(select(JointTestRun).where(JointTestRun.connection_id == connection_id)
                           .order_by(JointTestRun.started_at.desc()).limit(50)))


def step_out(step: JointTestStep) -> StepOut:
    en = current_language.get().startswith("en")
    return StepOut(id=step.id, position=step.position, kind=step.kind, kind_label=_lang(KIND_LABELS[step.kind]),
                   resource_code=step.resource_code, resource_name=step.resource_name, envelope_id=step.envelope_id,
                   state=step.state, state_label=_lang(STATE_LABELS[step.state]), sent_at=step.sent_at,
                   answered_at=step.answered_at, elapsed_ms=step.elapsed_ms,
                   failures=[f["en" if en else "zh"] for f in step.failures or []], detail=step.detail or {})


def run_out(run: JointTestRun) -> RunOut:
    return RunOut(id=run.id, connection_id=run.connection_id, state=run.state,
                  state_label=_lang(STATE_LABELS[run.state]), started_by=run.started_by, started_at=run.started_at,
                  finished_at=run.finished_at, passed=sum(s.state == PASSED for s in run.steps),
                  failed=sum(s.state == FAILED for s in run.steps), waiting=sum(s.state == WAITING for s in run.steps),
                  steps=[step_out(s) for s in run.steps])


def _evaluate_latest(db: Session, connection_id: str, data_dir: Path | None) -> None:
    run = gate.latest_run(db, connection_id=connection_id)
    if run is not None and run.state == "running" and data_dir is not None:
        evaluate(db, run_id=run.id, data_dir=data_dir)


def go_live(db: Session, *, connection_id: str, data_dir: Path, principal: Principal | None = None,
            override_reason: str | None = None) -> Any:
    """Put the connection live: its running test is judged first, then the gate decides."""
    _evaluate_latest(db, connection_id, data_dir)
    return connections.transition(db, connection_id=connection_id, to=ConnectionState.live.value,
                                  principal=principal, override_reason=override_reason)


def go_live_status(db: Session, *, connection_id: str, data_dir: Path | None = None) -> GoLiveStatusOut:
    """Whether the go-live button works now, and if not, why (the button's tooltip)."""
    conn = connections.get_connection(db, connection_id=connection_id)
    _evaluate_latest(db, connection_id, data_dir)
    run = gate.latest_run(db, connection_id=connection_id)
    why = gate.why_not(db, connection_id=connection_id)
    if conn.state == ConnectionState.suspended.value and gate.has_gone_live(db, connection_id=connection_id):
        why = None
    if conn.state not in (ConnectionState.testing.value, ConnectionState.suspended.value):
        why = T("只有联调测试（或暂停）中的连接可以上线（当前：{s}）", "Only a connection in joint testing (or suspended) "
                "can go live (this one is {s})", s=conn.state)
    return GoLiveStatusOut(connection_id=conn.id, state=conn.state, can_go_live=why is None,
                           reason=why.render(current_language.get()) if why else None,
                           latest_report=run_out(run) if run else None)


def export_excel(db: Session, *, run_id: str, principal: Principal | None = None) -> bytes:
    """The report as a workbook: a summary sheet and one row per step (timings, failures)."""
    run = get_run(db, run_id=run_id)
    conn = connections.get_connection(db, connection_id=run.connection_id)
    unit = unit_service.get_unit(db, unit_id=conn.unit_id)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "报告 Report"
    bold = Font(bold=True)
    for row in (("联调测试报告 / Joint-test report", run.id), ("单位 / Unit", f"{unit.code} {unit.name}"),
                ("连接 / Connection", f"{conn.name} ({conn.channel}, {conn.key_id})"),
                ("结果 / Result", f"{_lang(STATE_LABELS[run.state])} / {run.state}"),
                ("开始 / Started", as_utc(run.started_at).isoformat(timespec="seconds")),
                ("结束 / Finished", as_utc(run.finished_at).isoformat(timespec="seconds") if run.finished_at else ""),
                ("发起人 / Started by", run.started_by),
                ("通过 / Passed", sum(s.state == PASSED for s in run.steps)),
                ("未通过 / Failed", sum(s.state == FAILED for s in run.steps)),
                ("等待 / Waiting", sum(s.state == WAITING for s in run.steps))):
        ws.append(list(row))
        ws.cell(ws.max_row, 1).font = bold
    steps = wb.create_sheet("步骤 Steps")
    steps.append(["#", "往返 / Round trip", "资源 / Resource", "名称 / Name", "结果 / Result", "消息 / Envelope",
                  "发出 / Sent", "答复 / Answered", "耗时毫秒 / ms", "问题 / Failures"])
    for cell in steps[1]:
        cell.font = bold
    red = PatternFill("solid", fgColor="FDE2E1")
    for s in run.steps:
        steps.append([s.position + 1, f"{KIND_LABELS[s.kind][0]} / {KIND_LABELS[s.kind][1]}", s.resource_code,
                      s.resource_name, f"{STATE_LABELS[s.state][0]} / {s.state}", s.envelope_id or "",
                      as_utc(s.sent_at).isoformat(timespec="seconds") if s.sent_at else "",
                      as_utc(s.answered_at).isoformat(timespec="seconds") if s.answered_at else "",
                      s.elapsed_ms, "\n".join(f"{f['zh']} / {f['en']}" for f in s.failures or [])])
        if s.state == FAILED:
            for cell in steps[steps.max_row]:
                cell.fill = red
    for col, width in zip("ABCDEFGHIJ", (4, 20, 10, 30, 14, 38, 22, 22, 12, 80), strict=True):
        steps.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    audit.record(db, action="exchange.jointtest.export", principal=principal, object_type="exchange_connection",
                 object_id=run.connection_id, detail={"run": run.id})
    return buf.getvalue()
