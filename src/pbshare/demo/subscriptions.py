"""Demo step: subscriptions to 801002 (债务人行为限制信息) and the connection to the sharing hub.

Public security SZPSB (its SOAP system), market regulation SZAMR and the credit centre SZCREDIT (their REST
systems, ``demo.connections``) subscribe and the office approved them. A restriction decided on any demo
case (案件 → 行为限制) then reaches all three, whose demo systems receipt it (数据共享 → 订阅 → 推送记录). The hub: a live ``govhub`` connection of SZGDATA to ``http://127.0.0.1:8600`` and the hub's
members file ``<data dir>/hub/members.json`` holding the platform's key, so ``pbshare hub-sim`` started
in another terminal accepts the platform at once. Idempotent.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from pbshare.core.db import Database
from pbshare.demo import hubsim
from pbshare.exchange.connections import service as connections
from pbshare.exchange.connections.enums import ConnectionState
from pbshare.exchange.govhub import service as govhub
from pbshare.exchange.subscriptions import service as subs
from pbshare.exchange.subscriptions.schemas import SubscriptionIn
from pbshare.security.permissions import Perm
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

HUB_URL = "http://127.0.0.1:8600"
RESOURCE = "801002"
PURPOSE = {"SZPSB": "执行限制出境措施（演示）", "SZAMR": "执行限制担任董事监事高管措施（演示）",
           "SZCREDIT": "公共信用信息归集与失信约束（演示）"}


def _admin(db: Session) -> Principal:
    office = unit_service.get_unit_by_code(db, code=unit_service.OFFICE_CODE)
    return Principal(user_id="demo", username="demo", display_name="演示数据", unit_id=office.id,
                     unit_code=office.code, roles=frozenset({"data_admin"}),
                     permissions=frozenset({Perm.catalog_read.value, Perm.catalog_write.value}), via="session")


def _live(db: Session, *, data_dir: Path, unit_code: str, channel: str, name: str,
          settings: dict[str, Any]) -> tuple[Any, Any]:
    """The unit's live connection on ``channel`` (made, and put live, when there is none)."""
    unit = unit_service.get_unit_by_code(db, code=unit_code)
    for conn in connections.list_connections(db, unit_id=unit.id, channel=channel):
        if conn.state == ConnectionState.live.value:
            return conn, None
    conn, creds = connections.create_connection(db, data_dir=data_dir, unit_code=unit_code, channel=channel,
                                                name=name, settings=settings)
    extra: dict[str, Any] = {}
    if "override_reason" in inspect.signature(connections.transition).parameters:
        extra["override_reason"] = "演示单位，无需联调测试 / demo unit, no joint test"
    for step in ("testing", "live"):
        connections.transition(db, connection_id=conn.id, to=step, reason="演示数据 / demo data", **extra)
    return conn, creds


def load_demo(db: Session, *, data_dir: Path, database: Database | None = None) -> dict[str, int]:
    admin = _admin(db)
    made = 0
    existing = {(s.unit_id, s.resource_code) for s in subs.list_subscriptions(db, principal=admin, resource_code=RESOURCE)
                if s.state in (subs.PENDING, subs.ACTIVE)}
    for code, channel in (("SZPSB", "soap"), ("SZAMR", "rest"), ("SZCREDIT", "rest")):
        unit = unit_service.find_unit_by_code(db, code=code)
        if unit is None or (unit.id, RESOURCE) in existing:
            continue
        conns = [c for c in connections.list_connections(db, unit_id=unit.id, channel=channel)
                 if c.state == ConnectionState.live.value]
        if not conns:
            continue
        sub = subs.subscribe(db, body=SubscriptionIn(unit_code=code, resource_code=RESOURCE, channel=channel,
                                                     purpose=PURPOSE[code]), principal=admin)
        if sub.state == subs.PENDING:
            subs.decide(db, subscription_id=sub.id, approve=True, reason="用途符合共享条件（演示）", principal=admin)
        made += 1
    _conn, creds = _live(db, data_dir=data_dir, unit_code=govhub.HUB_UNIT, channel=govhub.CHANNEL,
                         name="市政务信息资源共享平台（模拟）", settings={"url": HUB_URL})
    if creds is not None:
        hubsim.add_member(data_dir / "hub" / "members.json", code=unit_service.OFFICE_CODE, key_id=creds.key_id,
                          secret_hex=creds.secret_hex)
    return {"subscriptions": made, "hub_connection": int(creds is not None)}
