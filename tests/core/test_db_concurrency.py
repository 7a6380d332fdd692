"""Several writers at once: the exchange listeners, the dispatcher and web requests share the database."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from fastapi.testclient import TestClient

from pbshare.config import Settings
from pbshare.core import migrate
from pbshare.core.db import Database
from pbshare.units import service as unit_service


def test_sessions_that_read_then_write_at_once_all_succeed(database):
    """Four workers each look a unit up and then write it, 25 times; none may fail "database is locked"."""
    errors: list[str] = []

    def worker(n: int) -> None:
        for i in range(25):
            try:
                with database.session(immediate=True) as s:
                    unit_service.find_unit_by_code(s, code=f"W{n}X{i}")
                    unit_service.upsert_unit(s, code=f"W{n}X{i}", name=f"并发单位{n}-{i}", kind="other")
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.session() as s:
        codes = {u.code for u in unit_service.list_units(s)}
    assert {f"W{n}X{i}" for n in range(4) for i in range(25)} <= codes


def test_a_database_locked_by_another_program_answers_503_with_what_to_do(tmp_path: Path):
    """SQLite only: another program holds the write lock while a user logs in."""
    from pbshare.app import create_app
    from tests.conftest import PASSWORD, make_user

    settings = Settings(data_dir=tmp_path / "data", start_listeners=False)
    database = Database.from_settings(settings)
    migrate.upgrade(database.engine)
    with database.session() as s:
        unit_service.ensure_office(s)
    make_user(database, "busy", ["case_handler"])
    app = create_app(settings, database=database)
    other = sqlite3.connect(settings.resolved_data_dir / "pbshare.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with TestClient(app) as client:
            res = client.post("/api/v1/auth/login", json={"username": "busy", "password": PASSWORD},
                              headers={"Accept-Language": "zh-CN"})
            assert res.status_code == 503, res.text
            assert res.headers["Retry-After"] == "2"
            error = res.json()["error"]
            assert error["code"] == "database_busy" and "稍后" in error["message"]
            other.execute("ROLLBACK")
            again = client.post("/api/v1/auth/login", json={"username": "busy", "password": PASSWORD})
            assert again.status_code == 200, again.text
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
        database.dispose()
