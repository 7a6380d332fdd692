"""Idempotent demo data. Every person is synthetic: names start with 演示·, ``is_synthetic`` is set."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from pbshare.core.db import Database
from pbshare.demo import catalog as demo_catalog
from pbshare.demo import collect as demo_collect
from pbshare.demo import connections as demo_connections
from pbshare.demo import forms as demo_forms
from pbshare.demo import jobs as demo_jobs
from pbshare.demo import requests as demo_requests
from pbshare.demo import subscriptions as demo_subscriptions
from pbshare.demo.synthetic import SHENZHEN_DISTRICTS, SYNTHETIC_PREFIX, sample_catalog, synthetic_id_no
from pbshare.exchange.cases import service as exchange_service
from pbshare.exchange.cases.enums import CaseStage
from pbshare.security.audit import service as audit
from pbshare.security.enums import Role
from pbshare.security.identity import service as security_service
from pbshare.units import service as unit_service

DEMO_ACTOR = "demo"  # who the audit log names for everything the demo loader does
DEMO_PASSWORD = "Demo#2026pbshare"  # noqa: S105 - documented demo-only password, never used outside demo
DEMO_USERS: list[tuple[str, str, str, list[Role]]] = [
    ("sysadmin", "演示·系统管理员", "SZBA", [Role.sys_admin]),
    ("secadmin", "演示·安全管理员", "SZBA", [Role.security_admin]),
    ("auditor", "演示·安全审计员", "SZBA", [Role.auditor]),
    ("handler", "演示·案件经办人", "SZBA", [Role.case_handler]),
    ("dataadmin", "演示·数据管理员", "SZBA", [Role.data_admin]),
    ("viewer", "演示·报表查看人", "SZBA", [Role.report_viewer]),
    ("pnr_operator", "演示·不动产登记操作员", "SZPNR", [Role.unit_operator]),
    ("ca_operator", "演示·民政操作员", "SZCA", [Role.unit_operator]),
]


def load_units(db: Session) -> int:
    for unit in sample_catalog()["units"]:
        unit_service.upsert_unit(db, code=unit["code"], name=unit["name"], kind=unit.get("kind", "other"),
                                    state="integrated")
    return len(sample_catalog()["units"])


def load_users(db: Session) -> list[str]:
    created = []
    for username, display, unit_code, roles in DEMO_USERS:
        if security_service.get_user_by_username(db, username=username) is None:
            user, _ = security_service.create_user(db, username=username, display_name=display,
                                                   unit_code=unit_code, roles=[r.value for r in roles],
                                                   password=DEMO_PASSWORD, must_change_password=False)
            audit.record(db, action="user.create", actor_name=DEMO_ACTOR, object_type="user", object_id=user.id,
                         detail={"username": username, "unit": unit_code, "roles": sorted(user.role_names),
                                 "via": "demo"})
            created.append(username)
    return created


def load_cases(db: Session, *, data_dir: Path, count: int = 300, seed: int = 20221,
               progress: Callable[[int], None] | None = None) -> int:
    """Synthetic debtors, each with one case; skipped if the demo cases are already there."""
    existing = exchange_service.count_cases(db, case_no_prefix="(演示)")
    if existing >= count:
        return 0
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    court = unit_service.get_unit_by_code(db, code="SZCOURT")
    stages = list(CaseStage)
    made = 0
    for i in range(count):
        case_no = f"(演示)（{2021 + i % 4}）粤03破{1000 + i}号"
        id_no = synthetic_id_no(rng)
        district = SHENZHEN_DISTRICTS[id_no[:6]]
        if exchange_service.find_debtor_by_id_no(db, data_dir=data_dir, id_no=id_no) is None and \
                exchange_service.find_case_by_no(db, case_no=case_no) is None:
            debtor = exchange_service.add_debtor(
                db, data_dir=data_dir, name=SYNTHETIC_PREFIX + fake.name(), id_no=id_no,
                phone=f"170{rng.randrange(10**8):08d}", address=f"深圳市{district}演示路{rng.randrange(1, 999)}号",
                is_synthetic=True,
            )
            exchange_service.open_case(
                db, case_no=case_no, debtor_id=debtor.id, court_unit_id=court.id,
                procedure=rng.choice(["清算", "重整", "和解"]),
                accepted_on=date(2021, 3, 1) + timedelta(days=rng.randrange(1300)),
                stage=rng.choice(stages).value,
            )
            made += 1
        if progress:
            progress(1)
    return made


# Later domains add their demo steps here (catalog resources, import profiles, connections ...).
STEPS: list[tuple[str, Callable[..., object]]] = [
    ("catalog", demo_catalog.load_catalog),  # the sample catalog's resources, published
    ("collect", demo_collect.load_demo),  # topic database "case", social security's GBK CSV, its import profile
    ("connections", demo_connections.load_demo),  # SZPSB (SOAP), SZAMR (REST), SZHPF (AMQP) answer; SZCREDIT (REST) receipts
    ("requests", demo_requests.load_demo),  # requests on a demo case; items waiting in the SZPNR and SZCA portals
    ("subscriptions", demo_subscriptions.load_demo),  # SZPSB, SZAMR, SZCREDIT subscribe to 801002 (approved); the hub
    ("forms", demo_forms.load_demo),  # 债务人申报材料登记: a published data model with a few records
    ("jobs", demo_jobs.load_demo),  # nightly debtor_assets refresh, nightly backup with verify, monthly retention
]


def run(db: Session, *, data_dir: Path, progress: Callable[[int], None] | None = None,
        cases: int = 300, database: Database | None = None) -> dict[str, object]:
    """Every demo step in order. ``database`` tells the steps that make topic databases where the
    warehouse lives (its own engine when ``PBSHARE_WAREHOUSE_URL`` is set)."""
    with audit.acting_as(DEMO_ACTOR):
        summary: dict[str, object] = {"units": load_units(db)}
        summary["users"] = load_users(db)
        summary["cases"] = load_cases(db, data_dir=data_dir, count=cases, progress=progress)
        for name, step in STEPS:
            summary[name] = step(db, data_dir=data_dir, database=database)
    return summary
