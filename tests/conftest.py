"""Shared fixtures. Every storage test runs twice: on SQLite and on the local PostgreSQL.

PostgreSQL: one template database is migrated per run, and each test gets its own copy
(``CREATE DATABASE … TEMPLATE``), so tests never see each other's rows. SQLite: the migrated
file is copied per test. The databases are dropped at the end of the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pbshare.config import Settings
from pbshare.core import migrate
from pbshare.core.db import Database
from pbshare.units import service as unit_service

PG_ADMIN_DSN = os.environ.get("PBSHARE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
RUN_ID = uuid.uuid4().hex[:8]
BACKENDS = ["sqlite", "postgresql"]


def _pg_url(name: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Iterator[dict[str, str]]:
    """Migrated empty databases to copy from: a SQLite file and a PostgreSQL template."""
    root = tmp_path_factory.mktemp("template")
    sqlite_settings = Settings(data_dir=root / "sqlite")
    sqlite_db = Database.from_settings(sqlite_settings)
    migrate.upgrade(sqlite_db.engine)
    sqlite_db.dispose()
    pg_template = f"pbshare_tpl_{RUN_ID}"
    _pg_admin(f'CREATE DATABASE "{pg_template}"')
    pg_db = Database.from_settings(Settings(data_dir=root / "pg", database_url=_pg_url(pg_template)))
    migrate.upgrade(pg_db.engine)
    pg_db.dispose()
    yield {"sqlite": str(root / "sqlite" / "pbshare.db"), "postgresql": pg_template}
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"pbshare_%{RUN_ID}%",))
        for (name,) in rows.fetchall():
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def settings(backend: str, templates: dict[str, str], tmp_path: Path) -> Iterator[Settings]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if backend == "sqlite":
        shutil.copy(templates["sqlite"], data_dir / "pbshare.db")
        yield Settings(data_dir=data_dir, start_listeners=False)
    else:
        name = f"pbshare_t_{uuid.uuid4().hex[:10]}_{RUN_ID}"
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{templates["postgresql"]}"')
        yield Settings(data_dir=data_dir, database_url=_pg_url(name), start_listeners=False)
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database.from_settings(settings)

    with db.session() as s:
        unit_service.ensure_office(s)
    yield db
    db.dispose()


@pytest.fixture
def db(database: Database) -> Iterator[Session]:
    """A session for arranging and checking data through the services."""
    with database.session() as session:
        yield session


@pytest.fixture
def app(settings: Settings, database: Database):
    from pbshare.app import create_app

    return create_app(settings, database=database)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


PASSWORD = "Test#pass2026x"


def make_user(database: Database, username: str, roles: list[str], unit_code: str = "SZBA",
              password: str = PASSWORD) -> str:
    """Create a user through the service (no first-login change), returning its id."""
    from pbshare.security.identity import service as security_service

    with database.session() as s:
        if unit_code != unit_service.OFFICE_CODE and unit_service.find_unit_by_code(s, code=unit_code) is None:
            unit_service.upsert_unit(s, code=unit_code, name=f"测试单位{unit_code}", kind="other")
        user, _ = security_service.create_user(s, username=username, display_name=f"测试·{username}",
                                               unit_code=unit_code, roles=roles, password=password,
                                               must_change_password=False)
        return user.id


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict:
    """Log in with the cookie session; returns /auth/me and sets the CSRF header on the client."""
    res = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert res.status_code == 200, res.text
    me = res.json()
    client.headers["X-CSRF-Token"] = me["csrf_token"]
    return me


@pytest.fixture
def as_user(client: TestClient, database: Database):
    """``as_user("handler", ["case_handler"])`` creates the user and logs the client in."""

    def _as(username: str, roles: list[str], unit_code: str = "SZBA") -> TestClient:
        make_user(database, username, roles, unit_code)
        login(client, username)
        return client

    return _as


@pytest.fixture
def cli(database: Database, settings: Settings, monkeypatch):
    """``cli("import", "run", …)``: the ``pbshare`` command line against this test's database."""
    from typer.testing import CliRunner

    from pbshare.cli import app as cli_app
    from pbshare.config import get_settings

    monkeypatch.setenv("PBSHARE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("COLUMNS", "300")  # Rich tables wide enough to read ids back
    if settings.database_url:
        monkeypatch.setenv("PBSHARE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, list(args))
    get_settings.cache_clear()
