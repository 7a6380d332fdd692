"""The pipeline steps that reach the compare and exchange domains, on SQLite and PostgreSQL: "compare with the last
delivery" compares a table's snapshot with the one before (the comparison kept with its counts, the first only
starting the history); "push to subscribers" sends a table's rows, identifiers opened from their seal, to each
active subscriber of the resource through the outbox, filtered by district; both refuse bad parameters at save
time; a step's progress is stored on its run step."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from pbshare.compare import service as compare_service
from pbshare.core.db import Database
from pbshare.core.errors import Invalid
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.subscriptions import service as subs
from pbshare.exchange.subscriptions.schemas import Filters, SubscriptionIn
from pbshare.jobs import runner, service
from pbshare.jobs.executors import LocalExecutor, run_now
from pbshare.jobs.schemas import PipelineIn
from pbshare.security.crypto import pii
from pbshare.security.enums import Role
from pbshare.warehouse import service as warehouse
from tests.channels.conftest import open_connection  # noqa: F401  (fixture)
from tests.exchange.requests_world import make_world
from tests.exchange.test_subscriptions_rules import who

PEOPLE = [("(演示)C-1", "440304199001011234", "演示·甲", "清算"), ("(演示)C-2", "440305198502023456", "演示·乙", "重整"),
          ("(演示)C-3", "440304197703037890", "演示·丙", "清算")]


@pytest.fixture
def executor(database: Database):
    ex = LocalExecutor(database, workers=1)
    yield ex
    ex.stop()


def _people_table(database: Database, data_dir, rows) -> None:
    """jobt.people: a case number key, a sealed ID number (with its blind index), a name and a case type."""

    def make(db) -> None:
        warehouse.create_topic(db, database, name="jobt", title="jobs test", exist_ok=True)
        if warehouse.find_table(db, topic="jobt", name="people") is None:
            warehouse.create_manual_table(db, database, topic="jobt", name="people", title="people", key=["case_no"],
                                          fields=[{"name": "case_no", "type": "string", "length": 64},
                                                  {"name": "debtor_id_no", "type": "string", "pii": True,
                                                   "id_kind": "cn_ric"},
                                                  {"name": "debtor_name", "type": "string", "length": 64},
                                                  {"name": "procedure", "type": "string", "length": 8}])

    database.write(make)
    vault = pii.vault_for(data_dir)
    with database.warehouse_engine.begin() as conn:
        conn.execute(text('DELETE FROM "jobt"."people"'))
        for case_no, id_no, name, procedure in rows:
            conn.execute(text('INSERT INTO "jobt"."people" (case_no, debtor_id_no, debtor_id_no_bidx, debtor_name, '
                              'procedure) VALUES (:c, :i, :b, :n, :p)'),
                         {"c": case_no, "i": vault.seal(id_no), "b": vault.blind_index(id_no), "n": name,
                          "p": procedure})


def _run(database: Database, executor: LocalExecutor, pid: str) -> tuple[str, list]:
    run_id = run_now(database, executor, pipeline_id=pid)
    state = runner.wait_for(database, run_id, timeout=60)
    with database.session() as db:
        return state, service.run_detail(db, run_id=run_id).step_runs


def test_compare_step_compares_each_snapshot_with_the_one_before(database: Database, settings,
                                                                  executor: LocalExecutor) -> None:
    data_dir = settings.resolved_data_dir
    _people_table(database, data_dir, PEOPLE)
    pid = database.write(lambda db: service.create_pipeline(db, data=PipelineIn(name="compare people", steps=[
        {"kind": "compare", "params": {"table": "jobt.people"}}])).id)

    state, (step,) = _run(database, executor, pid)
    assert state == "succeeded", step.error
    assert step.summary == {"first": True, "rows": 3} and "history starts here" in step.log
    assert (step.progress_done, step.progress_total) == (3, 3)

    # C-1 leaves, C-2's case type changes, C-4 comes
    _people_table(database, data_dir, [(*PEOPLE[1][:3], "和解"), PEOPLE[2],
                                       ("(演示)C-4", "440306199912129999", "演示·丁", "清算")])
    state, (step,) = _run(database, executor, pid)
    assert state == "succeeded", step.error
    summary = step.summary or {}
    assert {k: summary[k] for k in ("added", "removed", "changed", "unchanged")} == \
        {"added": 1, "removed": 1, "changed": 1, "unchanged": 1}
    assert step.rows == 3 and f"comparison {summary['comparison_id']}" in step.log
    with database.session() as db:
        c = compare_service.get_comparison(db, comparison_id=summary["comparison_id"])
        assert (c.target, c.delivery_kind, c.field_counts) == ("jobt.people", "job_run", {"procedure": 1})
        rows = compare_service.comparison_rows(db, comparison_id=c.id, data_dir=data_dir)
    # the comparison sealed the opened ID numbers again: what a person reads is masked, never the ciphertext
    shown = json.dumps(rows, ensure_ascii=False, default=str)
    assert "440304199001011234" not in shown and "4403" in shown


def test_push_step_sends_rows_to_each_subscriber_through_the_outbox(database: Database, settings,
                                                                    executor: LocalExecutor,
                                                                    open_connection) -> None:  # noqa: F811
    make_world(database, settings)
    data_dir = settings.resolved_data_dir
    open_connection("mqtt", unit_code="SZPSB")
    open_connection("mqtt", unit_code="SZAMR")
    with database.session() as db:
        admin = who(db, Role.data_admin)
        for unit, districts in (("SZPSB", []), ("SZAMR", ["440304"])):
            sub = subs.subscribe(db, principal=admin, body=SubscriptionIn(
                unit_code=unit, resource_code="801002", channel="mqtt", purpose="执行行为限制措施",
                filters=Filters(districts=districts)))
            subs.decide(db, subscription_id=sub.id, approve=True, reason="用途符合共享条件", principal=admin)
    _people_table(database, data_dir, PEOPLE)
    pid = database.write(lambda db: service.create_pipeline(db, data=PipelineIn(name="push people", steps=[
        {"kind": "sql", "params": {"sql": "SELECT case_no FROM jobt.people"}},
        {"kind": "push", "params": {"resource": "801002", "table": "jobt.people"}}])).id)

    state, steps = _run(database, executor, pid)
    assert state == "succeeded", steps[1].error
    push = steps[1]
    assert push.summary == {"resource": "801002", "subscriptions": 2, "queued": 2, "not_sent": 0, "rows": 5}
    assert "2 deliveries queued for 2 subscription(s), 5 rows" in push.log
    with database.session() as db:
        sent = subs.deliveries(db, principal=who(db, Role.data_admin))
        assert {d.unit_code for d in sent} == {"SZPSB", "SZAMR"}
        assert {(d.event, d.event_label, d.state) for d in sent} == {("data_push", "数据推送", "pending")}
        by_unit = {}
        for d in sent:
            msg = messaging.find_outbox_message(db, message_id=d.outbox_id)
            envelope = json.loads(pii.vault_for(data_dir).open(msg.payload_sealed))
            by_unit[d.unit_code] = envelope
    assert by_unit["SZPSB"]["type"] == "delivery" and by_unit["SZPSB"]["resource"] == "801002"
    records = by_unit["SZPSB"]["payload"]["records"]
    assert {r["debtor_id_no"] for r in records} == {p[1] for p in PEOPLE}  # opened from the seal, in clear
    assert not any(k.endswith("_bidx") for r in records for k in r)  # blind indexes stay home
    # market regulation subscribed to Futian (440304) only
    assert sorted(r["case_no"] for r in by_unit["SZAMR"]["payload"]["records"]) == ["(演示)C-1", "(演示)C-3"]
    assert by_unit["SZAMR"]["payload"]["event"] == "data_push"

    # a resource nobody subscribes to: the step succeeds and says nothing was sent
    pid = database.write(lambda db: service.create_pipeline(db, data=PipelineIn(name="push nobody", steps=[
        {"kind": "push", "params": {"resource": "801003", "table": "jobt.people"}}])).id)
    state, (step,) = _run(database, executor, pid)
    assert state == "succeeded" and step.summary["queued"] == 0 and "no active subscription" in step.log


def test_compare_and_push_parameters_are_checked_when_saved(database: Database) -> None:
    for steps, code, words in (
            ([{"kind": "push", "params": {}}], "step_param_missing", "资源代码"),
            ([{"kind": "push", "params": {"resource": "801002; DROP"}}], "step_param_invalid", "e.g. 801002"),
            ([{"kind": "compare", "params": {"table": "people"}}], "step_param_invalid", "topic.table"),
            ([{"kind": "compare", "params": {"key": "case no"}}], None, "")):
        with database.session() as db, pytest.raises(Invalid) as caught:
            service.create_pipeline(db, data=PipelineIn(name="bad", steps=steps))
        if code:
            assert caught.value.code == code
        message = caught.value.message.render("zh-CN") + caught.value.message.render("en")
        assert "第 1 步" in message and words in message
