"""Database sources (MariaDB, PostgreSQL, SQLite; registered in metadata) with incremental loads,
and a paged JSON API served by a real HTTP server started in the test."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa

from pbshare.collect.profiles import service as profiles
from pbshare.collect.profiles.schemas import ProfileIn
from pbshare.collect.runs import flows
from pbshare.collect.schemas import ImportSpec
from pbshare.metadata import service as metadata_service
from pbshare.warehouse import service as warehouse
from tests.collect.conftest import people

SOURCES = {
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "sqlite": None,  # a file in tmp_path
}


@pytest.fixture(params=list(SOURCES))
def source_db(request, tmp_path):
    """A scratch table ``debtor_vehicle_<random>`` on a real source engine, dropped afterwards."""
    url = SOURCES[request.param] or f"sqlite:///{tmp_path / 'source.db'}"
    engine = sa.create_engine(url)
    name = f"pbshare_src_{uuid.uuid4().hex[:8]}"
    meta = sa.MetaData()
    table = sa.Table(name, meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("owner", sa.String(50)),
                     sa.Column("id_no", sa.String(18)), sa.Column("plate", sa.String(16)),
                     sa.Column("registered", sa.Date), sa.Column("price", sa.Numeric(12, 2)))
    meta.create_all(engine)
    yield request.param, url, engine, table
    meta.drop_all(engine)
    engine.dispose()


def _insert(engine, table, start, count):
    from datetime import date

    rows = people(start + count)[start:]
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [
            {"id": start + i + 1, "owner": r[0], "id_no": r[1], "plate": f"粤B{start + i:05d}",
             "registered": date(2020, 1, 1 + i % 28), "price": 100000 + i} for i, r in enumerate(rows)])


def test_database_table_incremental_by_cursor_column(database, topic, source_db):
    kind, url, engine, table = source_db
    _insert(engine, table, 0, 30)
    with database.session() as db:
        src = metadata_service.add_source(db, data_dir=database.settings.resolved_data_dir, name=f"src_{kind}",
                                          url=url)
        profile = profiles.create_profile(db, data=ProfileIn(
            name="vehicles", title="车辆登记", source_kind="database",
            source={"source_id": src.id, "table": table.name, "cursor_column": "id"},
            mapping=[{"target": "vid", "source": "id", "type": "integer"},
                     {"target": "owner", "source": "owner"},
                     {"target": "id_no", "source": "id_no", "id_kind": "cn_ric", "pii": True},
                     {"target": "plate", "source": "plate"},
                     {"target": "registered", "source": "registered", "type": "date"},
                     {"target": "price", "source": "price", "type": "decimal"}],
            target_topic="case", target_table="vehicle", mode="upsert", key=["vid"]))
        spec, pid = profiles.spec_of(profile), profile.id
    first = flows.run_now(database, spec=spec, profile_id=pid, run_by="tester")
    assert first.status == "succeeded", first.error
    assert first.rows_loaded == 30
    _insert(engine, table, 30, 5)
    second = flows.run_now(database, spec=spec, profile_id=pid, run_by="tester")
    assert (second.status, second.rows_read, second.rows_loaded) == ("succeeded", 5, 5)
    with database.session() as db:
        assert profiles.get_profile(db, profile_id=pid).watermark["value"] == 35
        lineage = metadata_service.lineage_graph(db, node="case.vehicle")
    assert warehouse.count_rows(database, topic="case", name="vehicle") == 35
    assert any("pbshare_src_" in json.dumps(e, ensure_ascii=False, default=str) for e in lineage["edges"])
    third = flows.run_now(database, spec=spec, profile_id=pid, run_by="tester")
    assert (third.status, third.rows_read) == ("succeeded", 0)


def test_database_select_is_checked_and_runs(database, topic, source_db):
    _kind, url, engine, table = source_db
    _insert(engine, table, 0, 12)
    spec = ImportSpec(source_kind="database", source={"url": url, "query": f"SELECT id, owner, price FROM {table.name} "
                                                                          "WHERE price >= 100005"},
                      target_topic="case", target_table="dear_cars", mapping=[])
    # a bare URL is for the command line (trusted); the browser and API must use a registered source
    browser = flows.run_now(database, spec=spec, run_by="tester")
    assert browser.status == "failed" and browser.error_code == "url_not_allowed"
    result = flows.run_now(database, spec=spec, run_by="tester", trusted=True)
    assert result.status == "succeeded", result.error
    assert result.rows_loaded == 7
    bad = spec.model_copy(update={"source": {"url": url, "query": f"DELETE FROM {table.name}"}})
    refused = flows.run_now(database, spec=bad, run_by="tester", trusted=True)
    assert refused.status == "failed" and refused.error_code == "sql_not_select"
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(table)) == 12


class _Pages(BaseHTTPRequestHandler):
    records = [{"account_no": f"GJJ{i:06d}", "id_no": r[1], "monthly_yuan": f"{800 + i}.00", "state": "正常"}
               for i, r in enumerate(people(23))]

    def do_GET(self):
        q = parse_qs(urlparse(self.path).query)
        page, size = int(q["page"][0]), int(q["size"][0])
        chunk = self.records[(page - 1) * size: page * size]
        body = json.dumps({"code": 0, "data": {"items": chunk, "total": len(self.records)}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def api_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fund/accounts"
    server.shutdown()


def test_paged_json_api_source(database, topic, api_server):
    spec = ImportSpec(source_kind="api", source={"url": api_server, "records_path": "data.items", "page_size": 10},
                      target_topic="case", target_table="fund", mode="upsert", key=["account_no"],
                      mapping=[{"target": "account_no", "source": "account_no"},
                               {"target": "id_no", "source": "id_no", "id_kind": "cn_ric", "pii": True},
                               {"target": "monthly_yuan", "source": "monthly_yuan", "type": "decimal"},
                               {"target": "state", "source": "state"}])
    result = flows.run_now(database, spec=spec, run_by="tester")
    assert result.status == "succeeded", result.error
    assert (result.rows_read, result.rows_loaded) == (23, 23)
    again = flows.run_now(database, spec=spec, run_by="tester")
    assert again.rows_loaded == 23
    assert warehouse.count_rows(database, topic="case", name="fund") == 23  # upsert: no duplicates
    broken = spec.model_copy(update={"source": {"url": api_server, "records_path": "data.total"}})
    failed = flows.run_now(database, spec=broken, run_by="tester")
    assert failed.status == "failed" and failed.error_code == "bad_api_body"


def test_a_source_query_keeps_the_time_and_row_limits(database, topic, source_db):
    """A runaway SELECT on a unit's database stops at PBSHARE_QUERY_TIMEOUT_S, a too-large read at
    PBSHARE_QUERY_MAX_ROWS; either way the run fails as a whole and nothing is loaded."""
    kind, url, engine, table = source_db
    _insert(engine, table, 0, 30)
    database.settings.query_timeout_s, database.settings.query_max_rows = 2.0, 20
    runaway = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000000) "
               "SELECT count(*) AS c FROM n")
    if kind == "mariadb":  # MariaDB ends a recursion at max_recursive_iterations: 30^6 = 729 million rows instead
        runaway = "SELECT count(*) AS c FROM " + ", ".join(f"{table.name} t{i}" for i in range(6))
    spec = ImportSpec(source_kind="database", source={"url": url, "query": runaway}, target_topic="case",
                      target_table="runaway", mapping=[])
    started = time.monotonic()
    slow = flows.run_now(database, spec=spec, run_by="tester", trusted=True)
    assert time.monotonic() - started < 15
    assert slow.status == "failed", slow
    assert slow.error_code == "query_timeout", slow.error
    big = spec.model_copy(update={"source": {"url": url, "table": table.name}})
    too_many = flows.run_now(database, spec=big, run_by="tester", trusted=True)
    assert too_many.status == "failed" and too_many.error_code == "query_rows", too_many.error
    assert "PBSHARE_QUERY_MAX_ROWS" in too_many.error
    assert too_many.rows_loaded == 0


def test_database_table_without_mapping_keeps_its_column_types(database, topic, source_db):
    """With no mapping, a source table's INT, DATE, DATETIME and NUMERIC columns are typed as declared
    (an ``updated_at`` DATETIME is not mistaken for a date from its name), so no row is quarantined."""
    from datetime import datetime

    kind, url, engine, _ = source_db
    meta = sa.MetaData()
    table = sa.Table(f"pbshare_typed_{uuid.uuid4().hex[:8]}", meta, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("plate", sa.String(16)), sa.Column("registered", sa.Date),
                     sa.Column("updated_at", sa.DateTime), sa.Column("price", sa.Numeric(12, 2)))
    meta.create_all(engine)
    try:
        from datetime import date

        with engine.begin() as conn:
            conn.execute(sa.insert(table), [
                {"id": i, "plate": f"粤B{i:05d}", "registered": date(2020, 1, i),
                 "updated_at": datetime(2026, 1, 1, 8, i, 30), "price": 1000 + i} for i in range(1, 13)])
        with database.session() as db:
            src = metadata_service.add_source(db, data_dir=database.settings.resolved_data_dir,
                                              name=f"typed_{kind}", url=url)
            spec = ImportSpec(source_kind="database", source={"source_id": src.id, "table": table.name},
                              target_topic="case", target_table="typed_vehicle", mapping=[])
        run = flows.run_now(database, spec=spec, run_by="tester")
        assert (run.status, run.rows_loaded, run.rows_quarantined) == ("succeeded", 12, 0), run.error
        with database.session() as db:
            row = warehouse.find_table(db, topic="case", name="typed_vehicle")
            types = {c["name"]: c.get("value_type") or c["type"] for c in row.columns}
        assert {k: types[k] for k in ("id", "registered", "updated_at", "price")} == {
            "id": "integer", "registered": "date", "updated_at": "datetime", "price": "decimal"}
    finally:
        meta.drop_all(engine)
