"""A topic table with a personal column to query: twelve rows of debts by district, unit and date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import insert

from pbshare.core.db import Database
from pbshare.security.crypto import pii
from pbshare.warehouse import service as warehouse

DISTRICTS = ["福田区", "罗湖区", "南山区"]
IDS = ["11010119900101001X", "110101199001010029", "110101199001010037", "110101199001010045"]


def rows(settings) -> list[dict]:
    vault = pii.vault_for(settings.resolved_data_dir)
    out = []
    for i in range(12):
        id_no = IDS[i % 4]
        out.append({"name": f"演示·债权{i:02d}", "district": DISTRICTS[i % 3], "unit": "市银行" if i < 6 else "市法院",
                    "amount": Decimal(100 * (i + 1)), "accepted_on": dt.date(2026, 1 + i % 6, 10),
                    "note": None if i % 5 == 0 else f"备注{i}", "id_no": vault.seal(id_no),
                    "id_no_bidx": vault.blind_index(id_no, kind="cn_ric")})
    return out


@pytest.fixture
def debts(database: Database, settings) -> str:
    with database.session() as db:
        warehouse.create_topic(db, database, name="rpt", title="报表测试")
        warehouse.create_table(db, database, topic="rpt", name="debts", title="债权", fields=[
            {"name": "name", "title": "名称"}, {"name": "district", "title": "区"}, {"name": "unit", "title": "单位"},
            {"name": "amount", "type": "decimal", "title": "金额"}, {"name": "accepted_on", "type": "date",
                                                                   "title": "受理日期"},
            {"name": "note", "title": "备注"}, {"name": "id_no", "title": "身份证号", "pii": True, "id_kind": "cn_ric"}])
    table = warehouse.topic_store(database).reflect_table("rpt", "debts")
    with database.warehouse_engine.begin() as conn:
        conn.execute(insert(table), rows(settings))
    return "rpt.debts"


SOURCE = {"kind": "table", "topic": "rpt", "name": "debts"}
