"""The auditor reads the log: search, Excel export (audited), chain verification, signed archives."""

from __future__ import annotations

import gzip
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pbshare.core.clock import utcnow
from pbshare.core.errors import Invalid
from pbshare.security.audit import log as audit_log
from pbshare.security.audit import service as audit
from tests.conftest import login, make_user


def _some_records(database, n=5):
    with database.session() as s:
        for i in range(n):
            audit.record(s, action="catalog.publish", actor_name="dataadmin", object_type="resource",
                         object_id=f"10100{i}", detail={"i": i})
        audit.record(s, action="pii.unmask", actor_name="handler", object_type="debtor", object_id="d-1",
                     purpose="核实财产", detail={"note": "身份证 440301199001011234"})


def test_only_the_auditor_reads_the_log(client, database):
    _some_records(database)
    for username, roles in (("sec", ["security_admin"]), ("sys", ["sys_admin"]), ("hand", ["case_handler"])):
        make_user(database, username, roles)
        login(client, username)
        assert client.get("/api/v1/audit/records").status_code == 403, username
        assert client.get("/api/v1/audit/records/export").status_code == 403, username
        client.cookies.clear()


def test_search_by_user_action_object_and_time(as_user, database):
    _some_records(database)
    client = as_user("aud", ["auditor"])
    by_user = client.get("/api/v1/audit/records", params={"user": "dataadmin"}).json()
    assert by_user["total"] == 5 and {r["action"] for r in by_user["items"]} == {"catalog.publish"}
    by_prefix = client.get("/api/v1/audit/records", params={"action": "pii"}).json()
    assert by_prefix["total"] == 1 and by_prefix["items"][0]["purpose"] == "核实财产"
    # identifiers never reach the log in clear
    assert "440301199001011234" not in json.dumps(by_prefix)
    by_object = client.get("/api/v1/audit/records", params={"object_type": "resource", "object_id": "101003"}).json()
    assert by_object["total"] == 1
    future = (utcnow() + timedelta(hours=1)).isoformat()
    assert client.get("/api/v1/audit/records", params={"since": future}).json()["total"] == 0
    assert client.get("/api/v1/audit/records", params={"until": future, "user": "handler"}).json()["total"] == 1
    logins = client.get("/api/v1/audit/records", params={"action": "auth.login", "user": "aud"}).json()
    assert logins["total"] == 1 and logins["items"][0]["result"] == "ok"


def test_export_to_excel_is_audited(as_user, database):
    _some_records(database)
    client = as_user("aud", ["auditor"])
    res = client.get("/api/v1/audit/records/export", params={"user": "dataadmin"})
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(res.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0].startswith("序号") and len(rows) == 6
    assert {r[2] for r in rows[1:]} == {"dataadmin"}
    exports = client.get("/api/v1/audit/records", params={"action": "audit.export"}).json()
    assert exports["total"] == 1 and exports["items"][0]["detail"]["rows"] == 5


def test_verify_endpoint_reports_an_intact_chain(as_user, database):
    _some_records(database)
    client = as_user("aud", ["auditor"])
    out = client.get("/api/v1/audit/verify").json()
    assert out["ok"] is True and out["checked"] >= 7


def test_archive_moves_old_records_to_a_signed_file_and_the_chain_still_verifies(database, settings):
    _some_records(database)
    data_dir = settings.resolved_data_dir
    with database.session() as s, pytest.raises(Invalid):
        audit_log.archive(s, data_dir=data_dir, older_than_days=30)
    with database.session() as s:
        result = audit_log.archive(s, data_dir=data_dir, older_than_days=180, actor="test",
                                   now=utcnow() + timedelta(days=181))
    assert result.count == 6 and result.from_seq == 1 and result.to_seq == 6
    archive_file = Path(result.file)
    lines = gzip.decompress(archive_file.read_bytes()).decode().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [1, 2, 3, 4, 5, 6]
    sig = json.loads(Path(result.file + ".sig.json").read_text())
    assert sig["alg"] == "HMAC-SM3" and sig["count"] == 6
    with database.session() as s:
        audit.record(s, action="after.archive", actor_name="x")
        report = audit.verify(s, data_dir=data_dir)
        assert report.ok and report.archived_up_to == 6 and report.checked == 2  # audit.archive + after.archive
        assert all(a["ok"] for a in audit_log.verify_archives(s, data_dir=data_dir))
    # a changed archive file is noticed
    raw = bytearray(archive_file.read_bytes())
    raw[-5] ^= 0x01
    archive_file.write_bytes(bytes(raw))
    with database.session() as s:
        [bad] = audit_log.verify_archives(s, data_dir=data_dir)
    assert bad["ok"] is False and "SM3" in bad["problem"]


def test_a_forged_checkpoint_is_noticed(database, settings):
    _some_records(database)
    data_dir = settings.resolved_data_dir
    with database.session() as s:
        audit_log.archive(s, data_dir=data_dir, older_than_days=180, now=utcnow() + timedelta(days=181))
    from pbshare.security.audit.models import AuditArchive

    with database.session() as s:
        row = s.query(AuditArchive).one()
        row.to_seq = 3  # pretend fewer were archived
    with database.session() as s:
        report = audit.verify(s, data_dir=data_dir)
    assert not report.ok and report.problem == "archive checkpoint forged"


def test_cli_audit_verify_and_export(database, settings, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pbshare.cli import app
    from pbshare.config import get_settings

    _some_records(database)
    monkeypatch.setenv("PBSHARE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("PBSHARE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        ok = runner.invoke(app, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert "chain intact" in ok.output
        out = tmp_path / "a.xlsx"
        res = runner.invoke(app, ["audit", "export", "--out", str(out), "--action", "catalog"])
        assert res.exit_code == 0, res.output
        assert len(list(load_workbook(out).worksheets[0].iter_rows())) == 6
    finally:
        get_settings.cache_clear()


def test_records_name_the_objects_they_point_at(as_user, database):
    """The auditor reads a table's and a person's name with a link, not ``case.si_monthly`` or a UUID."""
    from pbshare.warehouse import service as warehouse

    with database.session() as s:
        warehouse.create_topic(s, database, name="case", title="案件专题库")
    with database.session() as s:
        warehouse.create_table(s, database, topic="case", name="si_monthly", title="社保缴费明细",
                               fields=[{"name": "period", "type": "string"}])
        audit.record(s, action="warehouse.read", actor_name="handler", object_type="table", object_id="case.gone")
    client = as_user("aud", ["auditor"])
    user_id = make_user(database, "zhang", ["case_handler"])
    with database.session() as s:
        audit.record(s, action="user.update", actor_name="aud", object_type="user", object_id=user_id)
    tables = client.get("/api/v1/audit/records", params={"object_type": "table"}).json()["items"]
    named = {r["object_id"]: (r["object_name"], r["object_link"]) for r in tables}
    assert named["case.si_monthly"] == ("案件专题库 · 社保缴费明细", "/warehouse")
    assert named["case.gone"] == (None, None)  # a table no longer there keeps its id
    people = client.get("/api/v1/audit/records", params={"object_type": "user", "action": "user.update"}).json()
    assert people["items"][0]["object_name"] == "测试·zhang"
    assert people["items"][0]["object_link"] == "/users"
