"""No user-written query can halt the platform: time, memory and row limits, read-only previews,
cancel from the API, and a parser error answered 422 rather than 500 — on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from pbshare.collect.derived import datasets
from pbshare.collect.derived.schemas import DatasetIn
from pbshare.core.userquery import QueryLimits, limited
from pbshare.warehouse import service as warehouse
from tests.conftest import PASSWORD, make_user

# 3 billion rows: without a limit this runs for hours.
RUNAWAY = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000000) "
           "SELECT count(*) AS c FROM n")


@pytest.fixture
def settings(settings):
    """The same platform with a 2-second query time limit and a 64 MB memory bound."""
    return settings.model_copy(update={"query_timeout_s": 2.0, "query_max_memory_mb": 64})


@pytest.fixture
def admin(as_user, topic) -> TestClient:
    return as_user("dataadmin", ["data_admin"])


def _dataset(client: TestClient, sql: str = "SELECT 1 AS c") -> str:
    res = client.post("/api/v1/collect/datasets", json={"name": "runaway", "title": "失控查询", "sql": sql,
                                                        "target_topic": "case"})
    assert res.status_code == 201, res.text
    ds_id = res.json()["id"]
    assert client.post(f"/api/v1/collect/datasets/{ds_id}/refresh").status_code == 200
    return ds_id


def _rows(client: TestClient) -> list:
    res = client.get("/api/v1/warehouse/tables/case/runaway/rows")
    assert res.status_code == 200, res.text
    return res.json()["rows"]


def test_runaway_refresh_stops_at_the_time_limit_while_logins_go_on(app, database, admin):
    ds_id = _dataset(admin)
    before = _rows(admin)
    assert client_put(admin, ds_id, RUNAWAY).status_code == 200
    make_user(database, "handler", ["case_handler"])
    answer: dict = {}

    def refresh() -> None:
        started = time.monotonic()
        answer["res"] = admin.post(f"/api/v1/collect/datasets/{ds_id}/refresh")
        answer["s"] = time.monotonic() - started

    worker = threading.Thread(target=refresh)
    worker.start()
    time.sleep(0.5)
    other = TestClient(app)
    started = time.monotonic()
    login = other.post("/api/v1/auth/login", json={"username": "handler", "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert time.monotonic() - started < 1.5  # it did not wait for the runaway query
    assert worker.is_alive()  # the login really happened while the query ran
    worker.join(timeout=30)
    res = answer["res"]
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == "query_timeout"
    assert "PBSHARE_QUERY_TIMEOUT_S" in res.json()["error"]["message"]
    assert answer["s"] < 10
    assert _rows(admin) == before  # nothing half-written: the old table is whole


def client_put(client: TestClient, ds_id: str, sql: str):
    return client.put(f"/api/v1/collect/datasets/{ds_id}", json={"name": "runaway", "title": "失控查询", "sql": sql,
                                                                "target_topic": "case"})


def test_sql_check_of_a_runaway_query_stops_at_the_time_limit(admin):
    started = time.monotonic()
    res = admin.post("/api/v1/collect/sql/check", json={"sql": RUNAWAY})
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == "query_timeout"
    assert time.monotonic() - started < 10


def test_a_running_refresh_can_be_cancelled_and_keeps_the_old_table(database, admin):
    database.settings.query_timeout_s = 60.0
    ds_id = _dataset(admin)
    before = _rows(admin)
    assert client_put(admin, ds_id, RUNAWAY).status_code == 200
    answer: dict = {}
    worker = threading.Thread(target=lambda: answer.setdefault(
        "res", admin.post(f"/api/v1/collect/datasets/{ds_id}/refresh")))
    started = time.monotonic()
    worker.start()
    cancelled = False
    for _ in range(100):  # at most 10 s for the refresh to start
        cancelled = admin.post(f"/api/v1/collect/datasets/{ds_id}/cancel").json()["cancelled"]
        if cancelled:
            break
        time.sleep(0.1)
    assert cancelled
    worker.join(timeout=30)
    assert time.monotonic() - started < 15
    assert answer["res"].status_code == 409, answer["res"].text
    assert answer["res"].json()["error"]["code"] == "query_cancelled"
    assert _rows(admin) == before
    # nothing is running any more
    assert admin.post(f"/api/v1/collect/datasets/{ds_id}/cancel").json() == {"cancelled": False}


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL has no per-query memory cap: work_mem + time limit
def test_sql_check_cannot_build_a_gigabyte_value(admin):
    res = admin.post("/api/v1/collect/sql/check", json={"sql": "SELECT length(randomblob(1000000000)) AS n",
                                                        "sql_dialect": "sqlite"})
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == "query_memory"
    assert "PBSHARE_QUERY_MAX_MEMORY_MB" in res.json()["error"]["message"]


@pytest.mark.parametrize("sql", ["SELECT 'abc", "SELECT 1 /* open comment"])
def test_an_unterminated_string_is_a_syntax_error_not_a_crash(admin, sql):
    res = admin.post("/api/v1/collect/sql/check", json={"sql": sql})
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == "sql_syntax"
    res = admin.post("/api/v1/collect/datasets", json={"name": "broken", "title": "坏", "sql": sql,
                                                       "target_topic": "case"})
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == "sql_syntax"


def test_a_preview_cannot_write_even_past_the_checker(database, admin):
    """The preview connection itself is read-only: a write that slipped past the parser still fails."""
    limits = QueryLimits.from_settings(database.settings)
    with database.warehouse_reader.connect() as conn, conn.begin(), limited(conn, limits), \
            pytest.raises(Exception, match=r"(?i)read.?only|query_only|readonly"):
        conn.exec_driver_sql('CREATE TABLE "case".sneaky (x integer)')


def test_serve_stops_within_seconds_on_sigterm_during_a_long_refresh(settings, database, topic):
    """A real ``pbshare serve`` process, a real 3-billion-row query, a real SIGTERM."""
    make_user(database, "dataadmin", ["data_admin"])
    with database.session() as s:
        ds_id = datasets.save_dataset(s, data=DatasetIn(name="runaway", title="失控查询", sql=RUNAWAY,
                                                        target_topic="case")).id
    database.dispose()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PBSHARE_DATA_DIR": str(settings.data_dir), "PBSHARE_START_LISTENERS": "false",
           "PBSHARE_QUERY_TIMEOUT_S": "600", "PBSHARE_LOG_LEVEL": "WARNING"}
    if settings.database_url:
        env["PBSHARE_DATABASE_URL"] = settings.database_url
    pbshare = Path(sys.executable).with_name("pbshare")
    proc = subprocess.Popen([str(pbshare), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):  # at most 30 s to start
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        web = httpx.Client(base_url=base, timeout=60)
        me = web.post("/api/v1/auth/login", json={"username": "dataadmin", "password": PASSWORD})
        assert me.status_code == 200, me.text
        web.headers["X-CSRF-Token"] = me.json()["csrf_token"]
        answer: dict = {}

        def refresh() -> None:
            try:
                answer["res"] = web.post(f"/api/v1/collect/datasets/{ds_id}/refresh")
            except httpx.HTTPError as exc:
                answer["error"] = exc

        worker = threading.Thread(target=refresh)
        worker.start()
        time.sleep(1.5)
        assert worker.is_alive()  # the query is running
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        assert time.monotonic() - started < 6
        worker.join(timeout=5)
        if "res" in answer:  # answered before the socket closed: interrupted, not a 500
            assert answer["res"].status_code == 503, answer["res"].text
            assert answer["res"].json()["error"]["code"] == "query_interrupted"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with database.session() as s:  # nothing half-written: the table was never created
        assert warehouse.find_table(s, topic="case", name="runaway") is None


def test_a_runaway_transform_stops_at_the_time_limit(admin):
    ds = admin.post("/api/v1/collect/datasets", json={
        "name": "ones", "title": "三千行", "target_topic": "case",
        "sql": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) SELECT i, 1 AS k FROM n"})
    assert ds.status_code == 201, ds.text
    assert admin.post(f"/api/v1/collect/datasets/{ds.json()['id']}/refresh").status_code == 200
    # every row joins every row, three times over: 27 billion rows to count
    spec = {"tables": [{"table": "case.ones", "alias": "a"}, {"table": "case.ones", "alias": "b"},
                       {"table": "case.ones", "alias": "c"}],
            "joins": [{"kind": "inner", "alias": "b", "on": [["a.k", "b.k"]]},
                      {"kind": "inner", "alias": "c", "on": [["a.k", "c.k"]]}],
            "aggregates": [{"fn": "count", "as": "n"}]}
    saved = admin.post("/api/v1/collect/transforms", json={"name": "blowup", "title": "爆炸", "spec": spec,
                                                           "target_topic": "case"})
    assert saved.status_code == 201, saved.text
    for path, body in (("preview", spec), (f"{saved.json()['id']}/refresh", None)):
        started = time.monotonic()
        res = admin.post(f"/api/v1/collect/transforms/{path}", json=body)
        assert res.status_code == 422, res.text
        assert res.json()["error"]["code"] == "query_timeout"
        assert time.monotonic() - started < 10
    tables = admin.get("/api/v1/warehouse/tables", params={"topic": "case"}).json()
    assert "blowup" not in str(tables)  # nothing half-written
