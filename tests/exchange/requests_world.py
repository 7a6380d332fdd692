"""What the request tests share: demo units, the published sample catalog, one demo case."""

from __future__ import annotations

from dataclasses import dataclass

from pbshare.core.pagination import PageParams
from pbshare.demo import catalog as demo_catalog
from pbshare.demo import service as demo_service
from pbshare.exchange.cases import service as cases

HANDLER = ("h_req", ["case_handler"], "SZBA")
PNR = ("op_pnr", ["unit_operator"], "SZPNR")  # 规划和自然资源局: real estate 201001
CA = ("op_ca", ["unit_operator"], "SZCA")  # 民政局: marriage 401001
PSB = ("op_psb", ["unit_operator"], "SZPSB")  # 公安局: vehicles 301001


@dataclass
class World:
    case_id: str
    debtor_id: str
    id_no_masked: str


def make_world(database, settings) -> World:
    with database.session() as s:
        demo_service.load_units(s)
        demo_catalog.load_catalog(s)
        demo_service.load_cases(s, data_dir=settings.resolved_data_dir, count=1)
    with database.session() as s:
        case = cases.list_cases(s, params=PageParams(page=1, size=1))[0][0]
        return World(case.id, case.debtor_id, case.debtor.id_no_masked)


def switch(client, login, make_user_fn, database, who, created: set[str]) -> None:
    """Log ``client`` in as ``who`` (created on first use)."""
    username, roles, unit = who
    if username not in created:
        make_user_fn(database, username, roles, unit)
        created.add(username)
    client.cookies.clear()
    login(client, username)
