"""Data sources on the real PostgreSQL, MariaDB and SQLite: credentials sealed, test connection,
harvest with changes since the last harvest, the data dictionary, metadata types, lineage."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from pbshare.metadata import service
from pbshare.metadata.models import DataSource
from tests.conftest import PG_ADMIN_DSN, RUN_ID, _pg_url

MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


@pytest.fixture
def pg_scratch() -> Iterator[str]:
    """A scratch PostgreSQL database with two related tables (dropped with the run's databases)."""
    name = f"pbshare_md_{uuid.uuid4().hex[:8]}_{RUN_ID}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _pg_url(name)
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE court (id integer PRIMARY KEY, name varchar(100) NOT NULL)"))
        c.execute(sa.text("COMMENT ON TABLE court IS '法院'"))
        c.execute(sa.text("CREATE TABLE bk_case (case_no varchar(64) PRIMARY KEY, court_id integer REFERENCES court(id),"
                          " accepted_on date, debtor_name varchar(50))"))
        c.execute(sa.text("COMMENT ON COLUMN bk_case.debtor_name IS '债务人姓名'"))
        c.execute(sa.text("INSERT INTO court VALUES (1, '深圳中院'), (2, '福田法院')"))
        c.execute(sa.text("INSERT INTO bk_case VALUES ('(2026)粤03破1号', 1, '2026-01-05', '演示·张三')"))
    engine.dispose()
    yield url
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def maria_table() -> Iterator[str]:
    name = f"pbshare_md_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(MARIADB_URL)
    with engine.begin() as c:
        c.execute(sa.text(f"CREATE TABLE `{name}` (id BIGINT PRIMARY KEY, id_no VARCHAR(18) NOT NULL COMMENT '身份证号', "
                          "amount DECIMAL(12,2)) COMMENT='社保缴费'"))
        c.execute(sa.text(f"INSERT INTO `{name}` VALUES (1, '440303199001011234', 10.5), (2, '440303199001015678', 3)"))
    yield name
    with engine.begin() as c:
        c.execute(sa.text(f"DROP TABLE IF EXISTS `{name}`"))
    engine.dispose()


def test_postgresql_source_harvest_and_changes(db, settings, pg_scratch):
    data_dir = settings.resolved_data_dir
    secret_url = pg_scratch.replace("postgres@", "postgres:s3cret-pw@")
    source = service.add_source(db, data_dir=data_dir, name="court_pg", url=secret_url)
    row = db.get(DataSource, source.id)
    # the password is sealed at rest and hidden on display
    assert "s3cret-pw" not in row.url_sealed and "s3cret-pw" not in row.url_display and "***" in row.url_display
    assert service.source_url(db, source_id=source.id, data_dir=data_dir) == secret_url
    assert service.test_source(db, source_id="court_pg", data_dir=data_dir)["ok"] is True

    first = service.harvest(db, source_id="court_pg", data_dir=data_dir)
    assert first.ok and first.tables == 2 and first.columns == 6 and first.changes == []
    tables = {t.name: t for t in service.source_tables(db, source_id="court_pg")}
    assert tables["court"].comment == "法院" and tables["court"].harvested["row_count"] == 2
    assert tables["bk_case"].harvested["primary_key"] == ["case_no"]
    assert tables["bk_case"].harvested["foreign_keys"] == [{"columns": ["court_id"], "references": "court(id)"}]
    cols = {c.name: c for c in service.children(db, object_id=tables["bk_case"].id)}
    assert cols["debtor_name"].comment == "债务人姓名" and cols["case_no"].harvested["primary_key"] is True
    assert cols["accepted_on"].harvested["data_type"] == "date"

    # the source changes: a column added, one widened, a table dropped, rows added
    engine = service.get_source_engine(db, source_id=source.id, data_dir=data_dir)
    with engine.begin() as c:
        c.execute(sa.text("ALTER TABLE bk_case ADD COLUMN stage varchar(16)"))
        c.execute(sa.text("ALTER TABLE bk_case ALTER COLUMN debtor_name TYPE text"))
        c.execute(sa.text("CREATE TABLE admin_person (id integer PRIMARY KEY)"))
        c.execute(sa.text("INSERT INTO court VALUES (3, '南山法院')"))
    engine.dispose()
    second = service.harvest(db, source_id="court_pg", data_dir=data_dir)
    got = {(c["object"], c["change"]) for c in second.changes}
    assert {("admin_person", "table_added"), ("bk_case.stage", "column_added"),
            ("bk_case.debtor_name", "data_type_changed"), ("court", "row_count")} <= got
    assert second.tables == 3
    hits = service.search_dictionary(db, q="债务人")
    assert any(h["qualified_name"] == "source:court_pg.bk_case.debtor_name" for h in hits)


def test_mariadb_source(db, settings, maria_table):
    data_dir = settings.resolved_data_dir
    service.add_source(db, data_dir=data_dir, name="hrss_maria", url=MARIADB_URL)
    assert service.test_source(db, source_id="hrss_maria", data_dir=data_dir)["ok"] is True
    run = service.harvest(db, source_id="hrss_maria", data_dir=data_dir)
    assert run.ok
    table = next(t for t in service.source_tables(db, source_id="hrss_maria") if t.name == maria_table)
    assert table.comment == "社保缴费" and table.harvested["row_count"] == 2
    assert table.harvested["primary_key"] == ["id"]
    cols = {c.name: c.harvested for c in service.children(db, object_id=table.id)}
    assert cols["id_no"]["nullable"] is False and cols["id_no"]["comment"] == "身份证号"
    assert cols["amount"]["data_type"].startswith("decimal(12, 2)") or cols["amount"]["data_type"] == "numeric(12, 2)"


def test_sqlite_source_and_failed_connection(db, settings, tmp_path):
    data_dir = settings.resolved_data_dir
    path = tmp_path / "unit.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE vehicle (plate_no TEXT PRIMARY KEY, owner TEXT)")
        conn.execute("INSERT INTO vehicle VALUES ('粤B12345', '演示·李四')")
    service.add_source(db, data_dir=data_dir, name="psb_file", url=f"sqlite:///{path}")
    run = service.harvest(db, source_id="psb_file", data_dir=data_dir)
    assert run.tables == 1 and service.source_tables(db, source_id="psb_file")[0].harvested["row_count"] == 1

    service.add_source(db, data_dir=data_dir, name="typo", url=f"sqlite:///{tmp_path}/nosuch.db")
    result = service.test_source(db, source_id="typo", data_dir=data_dir)
    assert result["ok"] is False and "nosuch.db" in result["message"]
    assert not (tmp_path / "nosuch.db").exists()
    service.add_source(db, data_dir=data_dir, name="down", url="postgresql+psycopg://nobody:pw@127.0.0.1:1/none")
    result = service.test_source(db, source_id="down", data_dir=data_dir)
    assert result["ok"] is False and "pw" not in result["message"].replace("password", "")
    failed = service.harvest(db, source_id="down", data_dir=data_dir)
    assert failed.ok is False and "refused" in failed.error.lower()
    assert [h.ok for h in service.list_harvests(db, source_id="down")] == [False]


def test_metadata_types_and_object_attributes(client, database, settings, as_user, tmp_path):
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE tax_record (id INTEGER PRIMARY KEY, period TEXT)")
    admin = as_user("mdadmin", ["data_admin"])
    types = {t["code"] for t in admin.get("/api/v1/metadata/types").json()}
    assert {"database", "table", "column", "resource", "api", "file"} <= types
    res = admin.put("/api/v1/metadata/types/table", json={
        "name_zh": "数据表", "name_en": "Table",
        "attributes": [{"code": "owner", "label_zh": "责任人", "type": "string", "required": True},
                       {"code": "level", "label_zh": "安全级别", "type": "enum", "options": ["一般", "重要", "核心"]}]})
    assert res.status_code == 200, res.text
    res = admin.put("/api/v1/metadata/types/report_model", json={"name_zh": "报表模型", "name_en": "Report model"})
    assert res.status_code == 200
    src = admin.post("/api/v1/metadata/sources", json={"name": "tax_file", "url": f"sqlite:///{path}"}).json()
    assert src["url"] == f"sqlite:///{path}"
    assert admin.post(f"/api/v1/metadata/sources/{src['id']}/test").json()["ok"] is True
    harvest = admin.post(f"/api/v1/metadata/sources/{src['id']}/harvest").json()
    assert harvest["tables"] == 1
    table = admin.get(f"/api/v1/metadata/sources/{src['id']}/tables").json()[0]
    res = admin.put(f"/api/v1/metadata/objects/{table['id']}/attributes", json={"level": "绝密"})
    assert res.status_code == 422
    res = admin.put(f"/api/v1/metadata/objects/{table['id']}/attributes", json={"level": "重要"})
    assert res.status_code == 422 and res.json()["error"]["code"] == "required_attribute"
    res = admin.put(f"/api/v1/metadata/objects/{table['id']}/attributes", json={"level": "重要", "owner": "税务科"})
    assert res.json()["attributes"] == {"level": "重要", "owner": "税务科"}
    assert admin.delete("/api/v1/metadata/types/table").json()["error"]["code"] == "builtin_type"
    hits = admin.get("/api/v1/metadata/dictionary?q=period").json()
    assert [h["qualified_name"] for h in hits if h["kind"] == "column"] == ["source:tax_file.tax_record.period"]
    # a viewer without metadata rights sees nothing
    viewer = as_user("v2", ["report_viewer"])
    assert viewer.get("/api/v1/metadata/sources").status_code == 403


def test_lineage_recorded_by_other_domains_and_drawn(client, database, as_user):
    with database.session() as s:
        service.record_lineage(s, target="case.debtor_assets", sources=["case.property", "case.vehicle"],
                               via_kind="job", via_id="nightly-assets")
        service.record_lineage(s, target="case.property", sources=["source:pnr_pg.property"], via_kind="import",
                               via_id="profile-7")
        service.record_lineage(s, target="case.vehicle", sources=["file:vehicles-2026-11.csv"], via_kind="import")
        # recording the same edge again does not duplicate it
        service.record_lineage(s, target="case.property", sources=["source:pnr_pg.property"], via_kind="import",
                               via_id="profile-7")
    admin = as_user("lin", ["data_admin"])
    graph = admin.get("/api/v1/metadata/lineage", params={"node": "case.debtor_assets"}).json()
    names = {n["name"] for n in graph["nodes"]}
    assert names == {"case.debtor_assets", "case.property", "case.vehicle", "source:pnr_pg.property",
                     "file:vehicles-2026-11.csv"}
    assert len(graph["edges"]) == 4
    kinds = {n["name"]: n["kind"] for n in graph["nodes"]}
    assert kinds["file:vehicles-2026-11.csv"] == "file" and kinds["case.property"] == "table"
    down = admin.get("/api/v1/metadata/lineage", params={"node": "source:pnr_pg.property", "depth": 1}).json()
    assert {e["target"] for e in down["edges"]} == {"case.property"}
    res = admin.post("/api/v1/metadata/lineage", json={"target": "report.assets", "sources": ["case.debtor_assets"],
                                                        "via_kind": "report"})
    assert res.status_code == 204
    assert len(admin.get("/api/v1/metadata/lineage").json()["edges"]) == 5


def test_dictionary_lists_the_tables_imported_into_topic_databases(database, as_user):
    """An imported table and its columns are found by name or title, beside the harvested ones."""
    from pbshare.warehouse import service as warehouse

    with database.session() as s:
        warehouse.create_topic(s, database, name="case", title="案件专题库")
    with database.session() as s:
        warehouse.create_table(s, database, topic="case", name="si_monthly", title="社保缴费明细",
                               fields=[{"name": "period", "type": "string", "title": "缴费所属期"},
                                       {"name": "amount", "type": "decimal", "title": "缴费金额"}])
    client = as_user("meta", ["data_admin"])
    tables = client.get("/api/v1/metadata/dictionary", params={"q": "社保", "kind": "table"}).json()
    assert [(h["kind"], h["qualified_name"], h["comment"]) for h in tables] == [
        ("table", "topic:case.si_monthly", "社保缴费明细")]
    columns = client.get("/api/v1/metadata/dictionary", params={"q": "金额"}).json()
    hit = next(h for h in columns if h["qualified_name"] == "topic:case.si_monthly.amount")
    assert hit["kind"] == "column" and hit["comment"] == "缴费金额（社保缴费明细）" and hit["data_type"] == "decimal"
    assert client.get("/api/v1/metadata/dictionary", params={"q": "社保", "kind": "item"}).json() == []
