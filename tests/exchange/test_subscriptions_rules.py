"""Subscriptions: who may subscribe to what, filters, approval with a reason, and what is (not) sent."""

from __future__ import annotations

from datetime import date

import pytest

from pbshare.core.errors import Conflict, Forbidden, Invalid, NotFound
from pbshare.exchange.cases import service as cases
from pbshare.exchange.connections import service as connections
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.subscriptions import service as subs
from pbshare.exchange.subscriptions.schemas import Filters, SubscriptionIn
from pbshare.security.enums import Role
from pbshare.security.permissions import ROLE_PERMISSIONS
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal
from tests.channels.conftest import open_connection  # noqa: F401  (fixture)
from tests.exchange.requests_world import make_world


def who(db, role: Role, unit_code: str = "SZBA") -> Principal:
    unit = unit_service.get_unit_by_code(db, code=unit_code)
    return Principal(user_id="u", username=f"t_{role.value}", display_name="t", unit_id=unit.id, unit_code=unit_code,
                     roles=frozenset({role.value}), permissions=frozenset(p.value for p in ROLE_PERMISSIONS[role]),
                     via="session")


def test_rules_filters_and_what_is_sent(database, settings, open_connection):  # noqa: F811
    world = make_world(database, settings)
    data_dir = settings.resolved_data_dir
    psb = open_connection("mqtt", unit_code="SZPSB")
    amr = open_connection("mqtt", unit_code="SZAMR")
    open_connection("nats", unit_code="SZCREDIT")
    with database.session() as s:
        admin, handler = who(s, Role.data_admin), who(s, Role.case_handler)
        psb_op = who(s, Role.unit_operator, "SZPSB")
        case = cases.get_case(s, case_id=world.case_id)
        district = cases.debtor_id_no(s, debtor_id=case.debtor_id, data_dir=data_dir)[:6]
        body = SubscriptionIn(unit_code="SZPSB", resource_code="801002", channel="mqtt", purpose="执行限制出境措施")
        with pytest.raises(Forbidden):  # a case handler does not register subscriptions for units
            subs.subscribe(s, body=body, principal=handler)
        with pytest.raises(NotFound):  # a unit's operator subscribes for its own unit only
            subs.subscribe(s, body=body.model_copy(update={"unit_code": "SZAMR"}), principal=psb_op)
        with pytest.raises(Invalid) as err:
            subs.subscribe(s, body=body.model_copy(update={"resource_code": "301001"}), principal=admin)
        assert err.value.code == "not_subscribable"
        with pytest.raises(Invalid) as err:
            subs.subscribe(s, body=body.model_copy(update={"filters": Filters(districts=["4403"])}), principal=admin)
        assert err.value.code == "bad_district"
        with pytest.raises(Invalid) as err:
            subs.subscribe(s, body=body.model_copy(update={"filters": Filters(events=["discharge_decided"])}),
                           principal=admin)
        assert err.value.code == "bad_event"
        mine = subs.subscribe(s, body=body, principal=psb_op)
        with pytest.raises(Conflict):
            subs.subscribe(s, body=body, principal=admin)
        # market regulation only wants another district: it gets nothing about this debtor
        other = "440303" if district != "440303" else "440304"
        amr_sub = subs.subscribe(s, body=body.model_copy(update={"unit_code": "SZAMR", "filters": Filters(
            districts=[other])}), principal=admin)
        refused = subs.subscribe(s, body=body.model_copy(update={"unit_code": "SZCREDIT", "channel": "nats"}),
                                 principal=admin)
        with pytest.raises(Forbidden):
            subs.decide(s, subscription_id=mine.id, approve=True, reason="同意", principal=psb_op)
        for sid in (mine.id, amr_sub.id):
            subs.decide(s, subscription_id=sid, approve=True, reason="用途符合共享条件", principal=admin)
        subs.decide(s, subscription_id=refused.id, approve=False, reason="未说明执行依据", principal=admin)
        with pytest.raises(Conflict):
            subs.decide(s, subscription_id=refused.id, approve=True, reason="改为同意", principal=admin)

    with database.session() as s:
        decision = cases.decide_restriction(s, case_id=world.case_id, restriction="限制高消费", decision_no="R-1",
                                            effective_on=date(2026, 1, 5), principal=None, data_dir=data_dir)
        with pytest.raises(Conflict):
            cases.decide_restriction(s, case_id=world.case_id, restriction="限制高消费", decision_no="R-1",
                                     effective_on=date(2026, 1, 5), principal=None, data_dir=data_dir)
    with database.session() as s:
        rows = subs.deliveries(s, principal=admin)
        assert [(r.unit_code, r.event, r.state) for r in rows] == [("SZPSB", "restriction_decided", "pending")]
        outbox = messaging.find_outbox_message(s, message_id=rows[0].outbox_id or "")
        assert outbox is not None and outbox.resource == "801002" and outbox.receiver == "SZPSB"
        for _ in range(messaging.MAX_ATTEMPTS):  # the unit's system is down: retried with backoff, then dead
            messaging.mark_failed(s, outbox, error="ConnectionRefusedError: 拒绝连接")
    with database.session() as s:
        dead = subs.deliveries(s, principal=admin)[0]
        assert dead.state == "dead" and not dead.acknowledged and "拒绝连接" in (dead.note or "")
        assert {x.unit_code: x.failed for x in subs.subscribers(s, principal=admin)}["SZPSB"] == 1
        messaging.replay(s, outbox_id=dead.outbox_id or "", principal=admin)  # a person replays the dead letter
    with database.session() as s:
        assert subs.deliveries(s, principal=admin)[0].state == "pending"
        # public security suspends its connection: the lifting is recorded as not sent, with the reason
        connections.transition(s, connection_id=psb.connection_id, to="suspended")
    with database.session() as s:
        cases.end_decision(s, decision_id=decision.id, ended_on=date(2026, 3, 1), principal=None, data_dir=data_dir)
        with pytest.raises(Conflict):
            cases.end_decision(s, decision_id=decision.id, ended_on=date(2026, 3, 2), principal=None, data_dir=data_dir)
    with database.session() as s:
        rows = subs.deliveries(s, principal=admin)
        lifted = next(r for r in rows if r.event == "restriction_lifted")
        assert lifted.state == "not_sent" and "suspended" in (lifted.note or "")
        summary = {x.unit_code: x for x in subs.subscribers(s, principal=admin)}
        assert summary["SZPSB"].sent == 2 and summary["SZPSB"].failed == 1 and summary["SZAMR"].sent == 0
        ended = subs.end(s, subscription_id=mine.id, reason="不再需要", principal=psb_op)
        assert ended.state == "ended"
        assert amr.unit_code == "SZAMR"


def test_each_case_event_goes_out_as_its_resource(database, settings, open_connection):  # noqa: F811
    import json

    world = make_world(database, settings)
    data_dir = settings.resolved_data_dir
    open_connection("nats", unit_code="SZCREDIT")
    with database.session() as s:
        admin = who(s, Role.data_admin)
        for code in ("801001", "801003"):  # unconditional: active at once
            sub = subs.subscribe(s, body=SubscriptionIn(unit_code="SZCREDIT", resource_code=code, channel="nats",
                                                        purpose="信用修复"), principal=admin)
            assert sub.state == "active"
        case = cases.get_case(s, case_id=world.case_id)
        cases.decide(s, case_id=case.id, kind="administrator", decision_no="A-1", effective_on=date(2026, 2, 1),
                     detail={"administrator": "演示·某律师事务所"}, principal=None, data_dir=data_dir)
        shown = cases.decide(s, case_id=case.id, kind="public_display", decision_no="P-1",
                             effective_on=date(2026, 2, 2), detail={}, principal=None, data_dir=data_dir)
        cases.end_decision(s, decision_id=shown.id, ended_on=date(2026, 3, 2), principal=None, data_dir=data_dir)
        cases.decide(s, case_id=case.id, kind="discharge", decision_no="D-1", effective_on=date(2026, 4, 1),
                     detail={"result": "已免责", "probation_from": "2023-04-01", "probation_to": "2026-04-01"},
                     principal=None, data_dir=data_dir)
        with pytest.raises(Invalid):
            cases.decide(s, case_id=case.id, kind="discharge", decision_no="D-2", effective_on=date(2026, 4, 1),
                         detail={"result": "大概免责"}, principal=None, data_dir=data_dir)
        with pytest.raises(Invalid):  # an administrator appointment cannot be "lifted"
            cases.end_decision(s, decision_id=cases.list_decisions(s, case_id=case.id)[0].id, ended_on=date(2026, 5, 1),
                               principal=None, data_dir=data_dir)
    with database.session() as s:
        rows = list(reversed(subs.deliveries(s, principal=admin)))
        assert [(r.resource_code, r.event) for r in rows] == [
            ("801001", "administrator_appointed"), ("801001", "public_display_started"),
            ("801001", "public_display_ended"), ("801003", "discharge_decided")]
        payloads = []
        for r in rows:
            msg = messaging.find_outbox_message(s, message_id=r.outbox_id or "")
            assert msg is not None
            payloads.append(json.loads(messaging.signed_body(s, msg, data_dir=data_dir))["payload"])
    assert payloads[0]["administrator"] == "演示·某律师事务所" and payloads[0]["appointed_on"] == "2026-02-01"
    assert payloads[2]["display_from"] == "2026-02-02" and payloads[2]["display_to"] == "2026-03-02"
    assert payloads[3]["result"] == "已免责" and payloads[3]["probation_to"] == "2026-04-01"
    assert all(p["case_no"] == case.case_no and len(p["debtor_id_no"]) == 18 for p in payloads)
