"""Received deliveries land where they belong (DESIGN §7 step 1).

A ``delivery`` envelope for a catalog resource stays ``received`` in the exchange inbox (it is held,
see ``messaging.hold``) until the lander here has run it as an import: its rows are converted
against the resource's published info items, checked by the quality rules (error rows go to
quarantine with their reason, like an import's), stored in the resource's table with provenance
(sending unit, message id, received at, row in message), compared with what came before, and then
a ``receipt`` envelope with the verdict and the counts goes back to the unit through the outbox.

Production deliveries land in topic ``shared`` (共享数据专题库), test envelopes (``"test": true``)
in ``shared_test`` (联调测试区): joint testing never reaches production tables. The inbox row is
marked done only after the run, so a crash between inbox and store lands it again on the next
pass; the table's key (the resource's business key, else message id + row) makes that idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from pbshare.collect.deliveries.reader import PROVENANCE, payload_rows
from pbshare.collect.enums import RunStatus
from pbshare.collect.mapping import FieldMap
from pbshare.collect.runs import flows
from pbshare.collect.runs import service as runs
from pbshare.collect.schemas import ImportSpec
from pbshare.compare import service as compare_service
from pbshare.core.db import Database
from pbshare.core.dynamic import safe_identifier
from pbshare.core.errors import AppError, Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.core.pagination import PageParams
from pbshare.exchange.cases import service as cases
from pbshare.exchange.cases.enums import CaseStage
from pbshare.exchange.messaging import service as messaging
from pbshare.quality import service as quality_service
from pbshare.quality.reports import service as quality_reports
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse

log = logging.getLogger("pbshare.collect.deliveries")

DELIVERY = "delivery"
TOPICS = {False: ("shared", "共享数据专题库 / shared data received from units"),
          True: ("shared_test", "联调测试区 / joint-testing area (test envelopes only)")}
_PROVENANCE_TYPES = {"src_unit": ("string", 64), "src_message": ("string", 64),
                     "src_received_at": ("datetime", None), "src_row": ("integer", None)}


def target_of(resource_code: str, *, test: bool) -> tuple[str, str]:
    """Topic and table a resource's deliveries land in."""
    return TOPICS[test][0], safe_identifier("r_" + resource_code.lower().replace("-", "_"), what="table")


def spec_for(db: Session, database: Database, *, envelope: dict[str, Any], test: bool,
             received_at: str) -> tuple[ImportSpec, list[str]]:
    """The import of one delivery, and the payload fields the resource does not publish (ignored)."""
    code = envelope.get("resource")
    if not code:
        raise Invalid(T("交付消息缺少 resource（目录资源编码）", "The delivery names no resource (catalog resource code)"),
                      code="delivery_no_resource")
    try:
        fields, key = warehouse.resource_fields(db, code=code)
    except NotFound:
        raise Invalid(T("目录中没有资源 {c}：请先在共享目录中登记并发布", "Resource {c} is not in the catalog: register and "
                        "publish it first", c=code), code="delivery_unknown_resource") from None
    rows = payload_rows(envelope.get("payload"))
    sent = {str(k) for r in rows for k in r}
    topic, table = target_of(code, test=test)
    _ensure_topic(db, database, topic)
    existing = warehouse.find_table(db, topic=topic, name=table)
    stored = {c["name"] for c in existing.columns} if existing is not None else None
    by_name = {s.lower(): s for s in sent}
    mapping: list[FieldMap] = []
    used: set[str] = set()
    for f in fields:
        source = by_name.get(f["name"].lower()) or by_name.get(str(f.get("title") or "").lower())
        if stored is not None and f["name"] not in stored:
            continue
        if source:
            used.add(source)
        mapping.append(FieldMap(target=f["name"], source=source, title=f.get("title"), type=f["type"],
                                length=f.get("length"), pii=bool(f.get("pii")), id_kind=f.get("id_kind")))
    for name, (kind, length) in _PROVENANCE_TYPES.items():
        mapping.append(FieldMap(target=name, source=name, title=PROVENANCE[name], type=kind, length=length))
    payload = envelope.get("payload") or {}
    origin: dict[str, Any] = {"envelope_id": envelope["id"], "received_at": received_at, "unit": envelope.get("sender"),
                              "snapshot": isinstance(payload, dict) and payload.get("mode") == "full"}
    spec = ImportSpec(source_kind="delivery", source=origin,
                      mapping=mapping, target_topic=topic, target_table=table,
                      target_title=f"{code} 交付数据 / deliveries of {code}", mode="upsert",
                      key=key or ["src_message", "src_row"], resource_code=code)
    return spec, sorted(sent - used)


def _ensure_topic(db: Session, database: Database, topic: str) -> None:
    if warehouse.find_topic(db, name=topic) is None:
        title = next(t for n, t in TOPICS.values() if n == topic)
        warehouse.register_topic(db, warehouse.topic_store(database), name=topic, title=title)


def land_pending(database: Database, *, limit: int = 20) -> int:
    """Land the held deliveries waiting in the inbox, oldest first; how many were landed or refused."""
    with database.session() as db:
        items = messaging.pending_inbox(db, type_=DELIVERY, limit=limit)
    for item in items:
        try:
            land(database, item=item)
        except Exception:  # one delivery must never stop the others; it stays held and is tried again
            log.exception("landing a delivery failed; it stays in the inbox to be tried again")
    return len(items)


def land(database: Database, *, item: messaging.InboxItem) -> dict[str, Any]:
    """Run one held delivery as an import and answer its unit with a receipt."""
    data_dir = database.settings.resolved_data_dir
    received_at = item.received_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if item.received_at.tzinfo \
        else item.received_at.strftime("%Y-%m-%d %H:%M:%S")
    with database.session() as db:
        envelope = messaging.inbox_envelope(db, envelope_id=item.envelope_id, data_dir=data_dir)
        try:
            spec, ignored = spec_for(db, database, envelope=envelope, test=item.test, received_at=received_at)
        except AppError as err:
            result: dict[str, Any] = {"status": "refused", "code": err.code, "message": str(err.message)}
            _answer(db, item=item, result=result, data_dir=data_dir)
            return result
    run = flows.run_now(database, spec=spec, run_by=f"unit:{item.sender}", trusted=True)
    with database.session() as db:
        run = runs.get_run(db, run_id=run.id)
        result = outcome_of(run, ignored=ignored)
        report = quality_reports.report_for_subject(db, subject_kind="import_run", subject_id=run.id)
        if report is not None:
            result["verdict"], result["score"], result["quality_report"] = report.verdict, report.score, report.id
            if run.status != RunStatus.failed:  # the verdict decides; unknown fields still warn
                warned = report.verdict == "accepted" and ignored
                result["status"] = "accepted_with_warnings" if warned else report.verdict
        comparison = compare_service.comparison_for(db, delivery_id=run.id)
        if comparison is not None:
            result["comparison"] = comparison
        # A rejected delivery sets nothing going: its unit is asked to correct it first.
        if (run.status == RunStatus.succeeded and result["status"] != "rejected" and not item.test
                and envelope.get("resource") in AFTER_LANDING):
            result.update(AFTER_LANDING[envelope["resource"]](db, envelope=envelope, run_id=run.id, data_dir=data_dir))
        _answer(db, item=item, result=result, data_dir=data_dir)
    return result


# --------------------------------------------------------------------------- what a landing sets going
CASE_ACCEPTED = "101001"  # 个人破产案件受理信息, from the court
_STAGES = {"已受理": CaseStage.accepted, "审理中": CaseStage.trial, "已宣告破产": CaseStage.declared,
           "免责考察期": CaseStage.probation, "已免责": CaseStage.discharged, "已终结": CaseStage.closed}


def open_cases(db: Session, *, envelope: dict[str, Any], run_id: str, data_dir: Path) -> dict[str, Any]:
    """The court's "case accepted" opens a case file (and the debtor's) for every row that landed."""
    bad = quality_service.quarantined_lines(db, run_id=run_id)
    court = unit_service.find_unit_by_code(db, code=str(envelope.get("sender")))
    opened = 0
    for line, row in enumerate(payload_rows(envelope.get("payload")), start=1):
        case_no, id_no = str(row.get("case_no") or "").strip(), str(row.get("debtor_id_no") or "").strip()
        if line in bad or court is None or not case_no or not id_no or cases.find_case_by_no(db, case_no=case_no):
            continue
        try:
            accepted_on = date.fromisoformat(str(row.get("accepted_on"))[:10])
        except ValueError:
            continue
        debtor = cases.find_debtor_by_id_no(db, data_dir=data_dir, id_no=id_no) or cases.add_debtor(
            db, data_dir=data_dir, name=str(row.get("debtor_name") or "")[:100], id_no=id_no)
        cases.open_case(db, case_no=case_no, debtor_id=debtor.id, court_unit_id=court.id,
                        procedure=str(row.get("procedure") or "")[:16],
                        stage=_STAGES.get(str(row.get("status")), CaseStage.accepted).value, accepted_on=accepted_on,
                        data_dir=data_dir)  # its "case accepted" event goes to 801001's subscribers
        opened += 1
    return {"cases_opened": opened}


AFTER_LANDING: dict[str, Callable[..., dict[str, Any]]] = {CASE_ACCEPTED: open_cases}


def outcome_of(run: Any, *, ignored: list[str]) -> dict[str, Any]:
    """What the receipt and the inbox say of a landed delivery."""
    failed = run.status != RunStatus.succeeded
    result: dict[str, Any] = {
        "status": "failed" if failed else ("accepted_with_warnings" if run.rows_quarantined or ignored else "accepted"),
        "run_id": run.id, "target": run.target, "rows": run.rows_read, "loaded": run.rows_loaded,
        "quarantined": run.rows_quarantined, "duplicates": run.rows_duplicate,
    }
    if run.counts:
        result["reasons"] = (run.counts or {}).get("quarantined") or {}
    if ignored:
        result["ignored_fields"] = ignored
    if failed:
        result["message"] = run.error or run.error_code
    return result


def _answer(db: Session, *, item: messaging.InboxItem, result: dict[str, Any], data_dir: Path) -> None:
    """Close the inbox row and send the receipt (in the same transaction: at-least-once from the outbox)."""
    try:
        messaging.enqueue(db, connection_id=item.connection_id, type="receipt", payload=result,
                          data_dir=data_dir, resource=item.resource,
                          correlation_id=item.envelope_id, test=item.test)
    except AppError as err:  # the connection was suspended meanwhile: the result is kept, the unit can ask
        result = {**result, "receipt": f"not sent: {err.message}"}
        log.warning("receipt for delivery %s not sent: %s", item.envelope_id, err.code)
    messaging.finish_inbox(db, envelope_id=item.envelope_id, ok=result["status"] != "failed", result=result)
    db.commit()


def deliveries(db: Session, *, state: str | None = None, page: int = 1, size: int = 50) -> dict[str, Any]:
    items, total = messaging.held_inbox(db, type_=DELIVERY, state=state, page=page, size=size)
    return {"items": items, "total": total, "page": page, "size": size}


def land_again(db: Session, *, envelope_id: str) -> None:
    messaging.hold_again(db, envelope_id=envelope_id)


def todo(db: Session, *, principal: Principal) -> dict[str, Any]:
    """What waits for a data admin: deliveries that failed or wait to land, quarantines to fix, rejected reports."""
    _, failed = messaging.held_inbox(db, type_=DELIVERY, state="failed", size=1)
    _, waiting = messaging.held_inbox(db, type_=DELIVERY, state="received", size=1)
    rejected, n_rejected = quality_reports.list_reports(db, params=PageParams(page=1, size=10), principal=principal,
                                                        verdict="rejected")
    return {"deliveries_failed": failed, "deliveries_waiting": waiting,
            "quarantines": quality_service.open_by_run(db),
            "rejected_reports": n_rejected,
            "rejected": [{"id": r.id, "resource_code": r.resource_code, "unit_code": r.unit_code, "target": r.target,
                          "created_at": r.created_at} for r in rejected]}
