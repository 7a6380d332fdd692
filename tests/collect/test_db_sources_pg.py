"""Database sources tried as a data admin would, on a real PostgreSQL (and MariaDB) source, with the
platform itself on SQLite and on PostgreSQL: late rows at the watermark, the database's own words for
a bad SELECT and a refused login, no password kept or shown in a profile, and the CLI's ``import db``."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import pytest
import sqlalchemy as sa

from pbshare.collect.profiles import service as profiles
from pbshare.collect.profiles.models import ImportProfile
from pbshare.collect.profiles.schemas import ProfileIn
from pbshare.collect.runs import flows
from pbshare.collect.schemas import ImportSpec
from pbshare.core.errors import Invalid
from pbshare.metadata import service as metadata_service
from pbshare.warehouse import service as warehouse

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MARIADB = "mysql+pymysql://root@127.0.0.1:3306/test"
SOURCES = {"postgresql": PG, "mariadb": MARIADB, "sqlite": ""}  # sqlite: a unit's file in tmp_path
T0 = datetime(2026, 3, 1, 9, 30, 0)  # the last update time of the first delivery


@pytest.fixture(params=list(SOURCES))
def contrib(request, tmp_path):
    """A unit's table ``si_contrib`` (id, name, amount, updated_at) on a real source database."""
    url = SOURCES[request.param] or f"sqlite:///{tmp_path / 'unit.db'}"
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table(f"pbshare_contrib_{uuid.uuid4().hex[:8]}", meta, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("name", sa.String(50)), sa.Column("amount", sa.Numeric(12, 2)),
                     sa.Column("updated_at", sa.DateTime))
    meta.create_all(engine)
    yield request.param, url, engine, table
    meta.drop_all(engine)
    engine.dispose()


def _register(database, name: str, url: str) -> str:
    with database.session() as db:
        return metadata_service.add_source(db, data_dir=database.settings.resolved_data_dir, name=name, url=url).id


def _rows(database, table: str) -> dict[int, tuple]:
    t = warehouse.topic_store(database).reflect_table("case", table)
    with database.warehouse_engine.connect() as conn:
        return {r.id: (r.name, float(r.amount)) for r in conn.execute(sa.select(t))}


@pytest.mark.parametrize("contrib", ["postgresql", "sqlite"], indirect=True)  # MariaDB: the CLI test below
def test_a_late_row_with_the_watermark_time_is_loaded_once(database, topic, contrib):
    """Three rows share the last update time; a fourth is written later with that same time. The next run
    reads from the watermark inclusively: the table gains exactly that row, the three are not doubled, and
    the run says 1 read, 1 loaded, 3 already loaded. A row changed in place at that time is updated."""
    kind, url, engine, table = contrib
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [
            {"id": 1, "name": "演示·甲", "amount": 100, "updated_at": datetime(2026, 3, 1, 8, 0)},
            {"id": 2, "name": "演示·乙", "amount": 200, "updated_at": T0},
            {"id": 3, "name": "演示·丙", "amount": 300, "updated_at": T0},
            {"id": 4, "name": "演示·丁", "amount": 400, "updated_at": T0}])
    with database.session() as db:
        source_id = metadata_service.add_source(db, data_dir=database.settings.resolved_data_dir,
                                                name=f"si_{kind}", url=url).id
        profile = profiles.create_profile(db, data=ProfileIn(
            name="si_contrib", title="社保缴费", source_kind="database",
            source={"source_id": source_id, "table": table.name, "cursor_column": "updated_at"},
            target_topic="case", target_table="si_contrib", mode="upsert", key=["id"]))
        spec, pid = profiles.spec_of(profile), profile.id
    first = flows.run_now(database, spec=spec, profile_id=pid, run_by="tester")
    assert (first.status, first.rows_read, first.rows_loaded) == ("succeeded", 4, 4), first.error
    with database.session() as db:
        mark = profiles.get_profile(db, profile_id=pid).watermark
    assert datetime.fromisoformat(mark["value"]) == T0 and len(mark["seen"]) == 3
    assert not any("演示" in s for s in mark["seen"])  # fingerprints, not the rows

    with engine.begin() as conn:  # written later, stamped with the same second
        conn.execute(sa.insert(table), [{"id": 5, "name": "演示·戊", "amount": 500, "updated_at": T0}])
        if kind == "sqlite":  # as another program writes times into a SQLite file: no fractions
            conn.execute(sa.text(f"UPDATE {table.name} SET updated_at = substr(updated_at, 1, 19)"))
    second = flows.run_now(database, spec=spec, profile_id=pid, run_by="tester")
    assert second.status == "succeeded", second.error
    assert (second.rows_read, second.rows_loaded, second.rows_skipped) == (1, 1, 3)
    assert second.counts["skipped"] == {"already_loaded": 3}
    assert sorted(_rows(database, "si_contrib")) == [1, 2, 3, 4, 5]

    nothing = flows.run_now(database, spec=spec, profile_id=pid, run_by="tester")
    assert (nothing.status, nothing.rows_read, nothing.rows_loaded) == ("succeeded", 0, 0)

    with engine.begin() as conn:  # corrected in place within the same second: the business key updates it
        conn.execute(sa.update(table).where(table.c.id == 3).values(amount=333))
    third = flows.run_now(database, spec=spec, profile_id=pid, run_by="tester")
    assert (third.status, third.rows_read, third.rows_loaded) == ("succeeded", 1, 1), third.error
    rows = _rows(database, "si_contrib")
    assert len(rows) == 5 and rows[3] == ("演示·丙", 333.0)


def test_a_bad_select_answers_422_with_the_databases_own_message(database, topic, as_user):
    """Preview of a SELECT naming an unknown column or table is a 422 quoting PostgreSQL; a run of it
    fails with the same words, never just ``OperationalError``."""
    source_id = _register(database, "court_pg", PG)
    client = as_user("dataadmin", ["data_admin"])
    body = {"source_kind": "database", "target_topic": "case", "target_table": "cases",
            "source": {"source_id": source_id, "query": "SELECT datname, no_such_column FROM pg_database"}}
    res = client.post("/api/v1/collect/preview", json=body, headers={"Accept-Language": "en"})
    assert res.status_code == 422, res.text
    error = res.json()["error"]
    assert error["code"] == "source_query_failed"
    assert 'column "no_such_column" does not exist' in error["message"]
    assert "court_pg" in error["message"]
    body["source"]["query"] = "SELECT id FROM no_such_table_anywhere"
    res = client.post("/api/v1/collect/preview", json=body)
    assert res.status_code == 422, res.text
    assert 'relation "no_such_table_anywhere" does not exist' in res.json()["error"]["message"]

    # no server there at all
    nowhere = _register(database, "court_pg_nowhere", "postgresql+psycopg://postgres@127.0.0.1:9/postgres")
    res = client.post("/api/v1/collect/preview", json={**body, "source": {"source_id": nowhere, "table": "x"}},
                      headers={"Accept-Language": "en"})
    assert res.status_code == 422 and res.json()["error"]["code"] == "source_unreachable", res.text
    assert "court_pg_nowhere' cannot be reached" in res.json()["error"]["message"]

    spec = ImportSpec(**{**body, "mapping": []})
    run = flows.run_now(database, spec=spec, run_by="tester")
    assert (run.status, run.error_code) == ("failed", "source_query_failed")
    assert 'relation "no_such_table_anywhere" does not exist' in run.error
    assert "OperationalError" not in run.error and "ProgrammingError" not in run.error
    with database.session() as db:
        assert warehouse.find_table(db, topic="case", name="cases") is None


@pytest.fixture
def maria_reader():
    """A MariaDB login ``pbshare_reader`` with the password ``right-pw`` and a table it may read."""
    engine = sa.create_engine(MARIADB)
    user, table = f"pbr_{uuid.uuid4().hex[:8]}", f"pbshare_login_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (id INT PRIMARY KEY, plate VARCHAR(16))")
        conn.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY 'right-pw'")
        conn.exec_driver_sql(f"GRANT SELECT ON test.{table} TO '{user}'@'%%'")
    yield user, table
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    engine.dispose()


def test_a_refused_login_is_reported_as_a_login_failure_not_a_missing_table(database, topic, as_user, maria_reader):
    """A wrong password (MariaDB checks it) and an unknown login (refused by PostgreSQL, which trusts
    local connections' passwords on this machine) both say: login refused, check the source's user name
    and password — never "no table"."""
    user, table = maria_reader
    wrong = _register(database, "vehicles_maria", f"mysql+pymysql://{user}:wrong-pw@127.0.0.1:3306/test")
    nobody = _register(database, "court_pg_nobody", "postgresql+psycopg://nobody_pbshare:pw@127.0.0.1:5432/postgres")
    right = _register(database, "vehicles_maria_ok", f"mysql+pymysql://{user}:right-pw@127.0.0.1:3306/test")
    client = as_user("dataadmin", ["data_admin"])
    for source_id, name, source in ((wrong, "vehicles_maria", {"table": table}),
                                    (wrong, "vehicles_maria", {"query": f"SELECT * FROM {table}"}),
                                    (nobody, "court_pg_nobody", {"table": "pg_database"})):
        body = {"source_kind": "database", "target_topic": "case", "target_table": "t",
                "source": {"source_id": source_id, **source}}
        res = client.post("/api/v1/collect/preview", json=body, headers={"Accept-Language": "en"})
        assert res.status_code == 422, res.text
        error = res.json()["error"]
        assert error["code"] == "source_login_refused", error
        assert f"Login refused by the database: check the user name and password of source '{name}'" \
            in error["message"]
        assert "no table" not in error["message"] and "wrong-pw" not in res.text
        zh = client.post("/api/v1/collect/preview", json=body, headers={"Accept-Language": "zh-CN"}).json()
        assert "登录被拒绝" in zh["error"]["message"]
    run = flows.run_now(database, spec=ImportSpec(source_kind="database", target_topic="case", target_table="t",
                                                  source={"source_id": wrong, "table": table}), run_by="tester")
    assert (run.status, run.error_code) == ("failed", "source_login_refused")
    assert "Access denied" in run.error and "wrong-pw" not in run.error
    # the right password reads the table
    ok = client.post("/api/v1/collect/preview", json={"source_kind": "database", "target_topic": "case",
                                                      "target_table": "t",
                                                      "source": {"source_id": right, "table": table}})
    assert ok.status_code == 200, ok.text


@pytest.fixture
def courts():
    """A small table of courts on the real PostgreSQL."""
    engine = sa.create_engine(PG)
    meta = sa.MetaData()
    table = sa.Table(f"pbshare_courts_{uuid.uuid4().hex[:8]}", meta, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("court", sa.String(50)))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [{"id": 1, "court": "演示·第一法院"}, {"id": 2, "court": "演示·第二法院"}])
    yield table.name
    meta.drop_all(engine)
    engine.dispose()


def test_a_profile_never_keeps_or_shows_a_database_password(database, topic, as_user, courts):
    """A raw URL in a profile is refused with a 422 that says to register the source and use its
    source_id; a profile on a registered source never shows the password, nor does a legacy profile
    saved with a URL before URLs were refused."""
    secret = "S3cret-pw-42"
    url = f"postgresql+psycopg://postgres:{secret}@127.0.0.1:5432/postgres"
    client = as_user("dataadmin", ["data_admin"])
    profile = {"name": "court_cases", "title": "法院案件", "source_kind": "database", "target_topic": "case",
               "target_table": "cases", "source": {"url": url, "table": courts}}
    res = client.post("/api/v1/collect/profiles", json=profile, headers={"Accept-Language": "en"})
    assert res.status_code == 422, res.text
    error = res.json()["error"]
    assert error["code"] == "url_not_allowed"
    assert "Register the database as a data source first" in error["message"] and "source_id" in error["message"]
    run = client.post("/api/v1/collect/runs", json={"spec": {k: v for k, v in profile.items() if k not in ("name", "title")},
                                                    "save_as": {k: v for k, v in profile.items()}})
    assert run.status_code == 422 and secret not in run.text

    source_id = _register(database, "court_pg", url)
    profile["source"] = {"source_id": source_id, "table": courts, "cursor_column": "id"}
    res = client.post("/api/v1/collect/profiles", json=profile)
    assert res.status_code == 201, res.text
    with database.session() as db:  # a profile saved with a URL before this release
        db.add(ImportProfile(name="legacy", title="旧配置", source_kind="database", target_topic="case",
                             target_table="legacy", source={"url": url, "table": "pg_database"}))
    texts = [client.get("/api/v1/collect/profiles").text, client.get("/api/v1/collect/profiles/court_cases").text,
             client.get("/api/v1/collect/profiles/legacy").text, client.get("/api/v1/metadata/sources").text]
    assert all(secret not in t for t in texts)
    legacy = client.get("/api/v1/collect/profiles/legacy").json()
    assert legacy["source"]["url"] == "postgresql+psycopg://postgres:***@127.0.0.1:5432/postgres"
    saved = client.get("/api/v1/collect/profiles/court_cases").json()["source"]
    assert saved == {"source_id": source_id, "table": courts, "cursor_column": "id"}
    # a database profile runs; its watermark is shown without the rows' fingerprints
    run = client.post("/api/v1/collect/profiles/court_cases/run")
    assert run.status_code == 202, run.text
    for _ in range(200):
        done = client.get(f"/api/v1/collect/runs/{run.json()['id']}").json()
        if done["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.05)
    assert done["status"] == "succeeded", (done["error_code"], done["error"])
    shown = client.get("/api/v1/collect/profiles/court_cases").json()["watermark"]
    assert shown == {"column": "id", "value": 2, "kind": "int", "rows_at_value": 1}
    with database.session() as db, pytest.raises(Invalid):
        profiles.update_profile(db, profile_id="legacy", data=ProfileIn(
            name="legacy", title="旧配置", source_kind="database", source={"url": url, "table": "pg_database"},
            target_topic="case", target_table="legacy"))




@pytest.mark.parametrize("contrib", ["mariadb"], indirect=True)
def test_the_cli_saves_a_database_profile_and_reruns_it(cli, database, contrib):
    """As docs/collect.md shows: register the source, create the topic, ``import db --query … --cursor-column
    … --save-as … --no-run`` saves a profile of source_id / query / cursor_column; ``import run`` runs it."""
    _kind, url, engine, table = contrib
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [{"id": i, "name": f"演示·{i}", "amount": i, "updated_at": T0}
                                        for i in range(1, 4)])
    assert cli("metadata", "source", "add", "si_source", url).exit_code == 0
    res = cli("import", "db", "si_source", "--topic", "case", "--table", "si_contrib", "--query",
              f"SELECT id, name, amount, updated_at FROM {table.name}", "--cursor-column", "updated_at",
              "--mode", "upsert", "--key", "id", "--save-as", "si_contrib", "--no-run")
    assert res.exit_code == 2 and "topic" in res.output.lower(), res.output  # the topic must exist first
    assert cli("topic", "create", "case", "--title", "案件专题库").exit_code == 0
    res = cli("import", "db", "si_source", "--topic", "case", "--table", "si_contrib", "--query",
              f"SELECT id, name, amount, updated_at FROM {table.name}", "--cursor-column", "updated_at",
              "--mode", "upsert", "--key", "id", "--save-as", "si_contrib", "--no-run")
    assert res.exit_code == 0, res.output
    with database.session() as db:
        saved = profiles.get_profile(db, profile_id="si_contrib")
        source_id = metadata_service.get_source(db, source_id="si_source").id
        assert saved.source == {"source_id": source_id, "query": f"SELECT id, name, amount, updated_at FROM "
                                                                 f"{table.name}", "cursor_column": "updated_at"}
    res = cli("import", "run", "si_contrib")
    assert res.exit_code == 0 and "loaded 3" in res.output, res.output
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [{"id": 4, "name": "演示·4", "amount": 4, "updated_at": T0}])
    res = cli("import", "run", "si_contrib")
    assert res.exit_code == 0 and "read 1, 装载 loaded 1" in res.output, res.output
    assert "跳过 / skipped 3 (already_loaded 3)" in res.output  # the rows loaded before at that time
    res = cli("metadata", "source", "list")
    assert source_id in res.output  # where a source's id is found
