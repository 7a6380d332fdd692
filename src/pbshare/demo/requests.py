"""Demo step: requests on a demo case, with items waiting in the unit portal for ``pnr_operator`` and ``ca_operator``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from pbshare.core.db import Database
from pbshare.exchange.cases import service as cases
from pbshare.exchange.requests import duedates
from pbshare.exchange.requests import service as requests
from pbshare.exchange.requests.enums import RequestKind
from pbshare.exchange.requests.schemas import CheckValueIn, RequestIn
from pbshare.security.identity import service as identity
from pbshare.security.permissions import permissions_for
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

DEMO_CASES = ("(演示)（2021）粤03破1000号", "(演示)（2022）粤03破1001号")
LEGAL_BASIS = "《深圳经济特区个人破产条例》第三十条、第三十四条"


def _handler(db: Session) -> Principal:
    user = identity.get_user_by_username(db, username="handler")
    if user is None:  # the demo users come first; a partial demo still works
        return Principal(user_id="demo", username="demo", display_name="demo", unit_id="", unit_code="SZBA",
                         roles=frozenset(), permissions=frozenset(), via="session")
    office = unit_service.get_unit_by_code(db, code="SZBA")
    roles = frozenset(user.role_names)
    return Principal(user_id=user.id, username=user.username, display_name=user.display_name, unit_id=office.id,
                     unit_code="SZBA", roles=roles, permissions=frozenset(p.value for p in permissions_for(roles)),
                     via="session")


def load_demo(db: Session, *, data_dir: Path, database: Database | None = None) -> int:
    """Three requests: a query for real estate and marriage (one item each in the SZPNR and SZCA portals),
    a verification of a marriage record, and an older real-estate query already overdue. Skipped when the
    first demo case already has requests."""
    first = cases.find_case_by_no(db, case_no=DEMO_CASES[0])
    second = cases.find_case_by_no(db, case_no=DEMO_CASES[1])
    if first is None or second is None or requests.case_request_count(db, case_id=first.id):
        return 0
    who = _handler(db)
    today = duedates.local_today()
    made = [
        requests.create_request(db, case_id=first.id, principal=who, data_dir=data_dir, body=RequestIn(
            kind=RequestKind.query, resources=["201001", "401001"], purpose="调查债务人名下不动产及婚姻状况（演示）",
            legal_basis=LEGAL_BASIS)),
        requests.create_request(db, case_id=first.id, principal=who, data_dir=data_dir, body=RequestIn(
            kind=RequestKind.verification, resources=["401001"], purpose="核查债务人申报的婚姻登记（演示）",
            legal_basis=LEGAL_BASIS, check_values=[
                CheckValueIn(resource="401001", values={"record_no": "演示J440303-2015-000123", "kind": "结婚登记"})])),
        # asked twelve days ago: its five working days are up, so it shows as overdue with a reminder
        requests.create_request(db, case_id=second.id, principal=who, data_dir=data_dir, today=today - timedelta(days=12),
                                body=RequestIn(kind=RequestKind.query, resources=["201001"],
                                               purpose="调查债务人名下不动产（演示）", legal_basis=LEGAL_BASIS)),
    ]
    return len(made)
