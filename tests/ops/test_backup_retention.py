"""Backup → verify → restore onto an empty instance gives back the same data (SQLite and PostgreSQL);
retention destroys expired personal data and leaves a record without the data."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from pbshare.config import Settings
from pbshare.core.clock import utcnow
from pbshare.core.db import Database
from pbshare.core.errors import Conflict, Invalid
from pbshare.demo import service as demo_service
from pbshare.exchange.cases.models import BankruptcyCase, Debtor
from pbshare.ops import backup, retention
from pbshare.ops.models import DestructionRecord
from pbshare.security.audit import service as audit
from pbshare.security.clients import service as api_clients
from pbshare.security.crypto.pii import vault_for
from tests.conftest import RUN_ID, _pg_admin, _pg_url, login, make_user

PASSPHRASE = "correct horse battery staple"


def _empty_target(backend: str, tmp_path) -> Settings:
    data_dir = tmp_path / "restored"
    if backend == "sqlite":
        return Settings(data_dir=data_dir, start_listeners=False)
    name = f"pbshare_restore_{uuid.uuid4().hex[:8]}_{RUN_ID}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    return Settings(data_dir=data_dir, database_url=_pg_url(name), start_listeners=False)


def _fill(database, settings):
    with database.session() as s:
        demo_service.load_units(s)
        demo_service.load_cases(s, data_dir=settings.resolved_data_dir, count=6)
        api_clients.create_client(s, unit_code="SZBA", name="署内系统", alg="HMAC-SM3",
                                  data_dir=settings.resolved_data_dir)
        for i in range(3):
            audit.record(s, action="test.fill", actor_name="t", detail={"i": i})
    make_user(database, "keeper", ["case_handler"])


def _snapshot(database, data_dir):
    with database.session() as s:
        vault = vault_for(data_dir)
        ids = sorted(vault.open(d.id_no_sealed) for d in s.scalars(select(Debtor)))
        return {
            "cases": s.scalar(select(func.count()).select_from(BankruptcyCase)),
            "ids": ids,
            "audit_ok": audit.verify(s).ok,
        }


def test_backup_round_trip_onto_an_empty_instance(backend, database, settings, tmp_path):
    _fill(database, settings)
    before = _snapshot(database, settings.resolved_data_dir)
    assert before["cases"] == 6 and len(before["ids"]) == 6
    with pytest.raises(Invalid):
        backup.create(database, passphrase="short")
    folder = backup.create(database, passphrase=PASSPHRASE, out_dir=tmp_path / "bk")
    names = {p.name for p in folder.iterdir()}
    assert {"manifest.json", "manifest.mac", "keys.enc", "archive.tar.gz"} <= names
    assert ("database.sqlite" if backend == "sqlite" else "database.pgdump") in names
    # the key files are not readable from the backup without the passphrase
    master = (settings.resolved_data_dir / "keys" / "master.key").read_bytes()
    assert master not in (folder / "keys.enc").read_bytes()
    assert backup.verify(folder, passphrase=PASSPHRASE).ok
    wrong = backup.verify(folder, passphrase="not the passphrase at all")
    assert not wrong.ok and "manifest.mac" in wrong.problems[0]

    target_settings = _empty_target(backend, tmp_path)
    vault_for.cache_clear()
    counts = backup.restore(folder, settings=target_settings, passphrase=PASSPHRASE)
    assert counts["bankruptcy_case"] == 6 and counts["api_client"] == 1
    target = Database.from_settings(target_settings)
    try:
        after = _snapshot(target, target_settings.resolved_data_dir)
        assert after == before
        from pbshare.app import create_app

        with TestClient(create_app(target_settings, database=target)) as c:
            me = login(c, "keeper")
            assert me["username"] == "keeper"
        # a second restore onto the now non-empty instance is refused
        with pytest.raises(Conflict) as refused:
            backup.restore(folder, settings=target_settings, passphrase=PASSPHRASE)
        assert refused.value.code == "restore_target_not_empty"
    finally:
        target.dispose()


def test_a_damaged_backup_is_reported_and_not_restored(database, settings, tmp_path):
    _fill(database, settings)
    folder = backup.create(database, passphrase=PASSPHRASE, out_dir=tmp_path / "bk")
    damaged = folder / ("database.sqlite" if (folder / "database.sqlite").exists() else "database.pgdump")
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    report = backup.verify(folder)
    assert not report.ok and any("SM3 differs" in p for p in report.problems)
    with pytest.raises(Invalid) as err:
        backup.restore(folder, settings=_empty_target("sqlite", tmp_path), passphrase=PASSPHRASE)
    assert err.value.code == "backup_invalid"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_backup_damaged_where_sqlite_cannot_even_check_is_reported(database, settings, tmp_path):
    """Damage in the file's first page makes SQLite refuse to run integrity_check at all: verify must
    still answer with the problem, not crash."""
    _fill(database, settings)
    folder = backup.create(database, passphrase=PASSPHRASE, out_dir=tmp_path / "bk")
    damaged = folder / "database.sqlite"
    data = bytearray(damaged.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema table's page, after the 100-byte file header
    damaged.write_bytes(bytes(data))
    report = backup.verify(folder)
    assert not report.ok
    assert any(p.startswith("database.sqlite: damaged") for p in report.problems), report.problems


def test_cli_backup_create_and_verify(database, settings, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pbshare.cli import app
    from pbshare.config import get_settings

    _fill(database, settings)
    monkeypatch.setenv("PBSHARE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("PBSHARE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PBSHARE_BACKUP_PASSPHRASE", PASSPHRASE)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        made = runner.invoke(app, ["backup", "create", "--out", str(tmp_path / "cli")])
        assert made.exit_code == 0, made.output
        [folder] = list((tmp_path / "cli").iterdir())
        checked = runner.invoke(app, ["backup", "verify", str(folder)])
        assert checked.exit_code == 0 and "backup verified" in checked.output
        (folder / "archive.tar.gz").write_bytes(b"changed")
        assert runner.invoke(app, ["backup", "verify", str(folder)]).exit_code == 1
    finally:
        get_settings.cache_clear()
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(audit.AuditRecord)
                        .where(audit.AuditRecord.action == "backup.create")) == 1


def test_retention_destroys_expired_cases_and_records_it_without_the_data(database, settings):
    _fill(database, settings)
    with database.session() as s:
        cases = list(s.scalars(select(BankruptcyCase).order_by(BankruptcyCase.case_no)))
        ids = [c.id for c in cases]
        long_ago = utcnow() - timedelta(days=8 * 365 + 10)
        s.execute(update(BankruptcyCase).where(BankruptcyCase.id == ids[0]).values(stage="discharged", updated_at=long_ago))
        s.execute(update(BankruptcyCase).where(BankruptcyCase.id == ids[1]).values(
            stage="discharged", updated_at=utcnow() - timedelta(days=400)))  # discharged recently: kept
        s.execute(update(BankruptcyCase).where(BankruptcyCase.id == ids[2]).values(
            stage="closed", updated_at=utcnow() - timedelta(days=400)))  # closed > 1 year: destroyed
        s.execute(update(BankruptcyCase).where(BankruptcyCase.id.in_(ids[3:])).values(
            stage="trial", updated_at=long_ago))  # still open: kept however old
        victim_no = cases[0].case_no
    with database.session() as s:
        dry = retention.run(s, data_dir=settings.resolved_data_dir, actor="tester", dry_run=True)
        assert {o.policy_code: o.found for o in dry.outcomes} == {"case.closed": 1, "case.discharged": 1}
        assert s.scalar(select(func.count()).select_from(BankruptcyCase)) == 6
    with database.session() as s:
        retention.run(s, data_dir=settings.resolved_data_dir, actor="tester")
    with database.session() as s:
        left = set(s.scalars(select(BankruptcyCase.id)))
        assert left == set(ids) - {ids[0], ids[2]}
        assert s.scalar(select(func.count()).select_from(Debtor)) == 4
        records = list(s.scalars(select(DestructionRecord).order_by(DestructionRecord.policy_code)))
        assert [(r.policy_code, r.count, r.actor) for r in records] == [("case.closed", 1, "tester"),
                                                                          ("case.discharged", 1, "tester")]
        assert records[0].detail["rows"] == {"bankruptcy_case": 1, "debtor": 1}
        # the record says what and how many, never which person
        import json

        assert victim_no not in json.dumps([r.detail for r in records], ensure_ascii=False)
        assert audit.verify(s).ok


def test_auditor_sees_destruction_records_and_security_admin_runs_retention(client, database):
    make_user(database, "sec", ["security_admin"])
    login(client, "sec")
    policies = client.get("/api/v1/security/retention").json()
    assert {p["code"] for p in policies} == {"case.discharged", "case.closed"}
    assert client.put("/api/v1/security/retention/case.closed", json={"keep_days": 10}).status_code == 422
    assert client.put("/api/v1/security/retention/case.closed", json={"keep_days": 400}).json()["keep_days"] == 400
    ran = client.post("/api/v1/security/retention/run?dry_run=true")
    assert ran.status_code == 200 and ran.json()["dry_run"] is True
    client.cookies.clear()
    make_user(database, "aud", ["auditor"])
    login(client, "aud")
    assert client.get("/api/v1/audit/destructions").status_code == 200
    assert client.post("/api/v1/security/retention/run").status_code == 403
