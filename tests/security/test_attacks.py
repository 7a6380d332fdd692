"""Attacks that must fail: no auth, crossing units by id, replayed and forged signatures, password
brute force, SQL injection through every query and path parameter in the OpenAPI document, and
altering the audit log unnoticed."""

from __future__ import annotations

import re
from urllib.parse import quote

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from pbshare.security.audit.service import AuditRecord
from pbshare.security.clients import service as api_clients
from pbshare.security.identity.models import User
from pbshare.units import service as unit_service
from tests.conftest import PASSWORD, login, make_user

UUID0 = "00000000-0000-7000-8000-000000000000"
SQL_PAYLOADS = [
    "' OR 1=1 --",
    "%' OR '%'='",
    "1; DROP TABLE user_account; --",
    "' UNION SELECT username, password_hash FROM user_account --",
]


def _operations(app):
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            yield path, method.upper(), op


def test_no_route_answers_to_forged_credentials(app, client):
    """Every protected route refuses a forged bearer token, a forged cookie and a forged signature."""
    forged_sig = {"X-PB-Client": UUID0, "X-PB-Key": UUID0, "X-PB-Alg": "HMAC-SM3", "X-PB-Timestamp": "1",
                  "X-PB-Nonce": "a" * 32, "X-PB-Signature": "00" * 32}
    checked = 0
    for path, method, _ in _operations(app):
        if path == "/api/v1/auth/login":
            continue
        url = re.sub(r"\{[^}]+\}", UUID0, path)
        for headers, cookies in (({"Authorization": "Bearer pbs_forged"}, {}), ({}, {"pbshare_session": "forged"}),
                                 (forged_sig, {})):
            client.cookies.clear()
            for k, v in cookies.items():
                client.cookies.set(k, v)
            res = client.request(method, url, headers=headers, json={})
            assert res.status_code == 401, f"{method} {path} with {headers or cookies} → {res.status_code}"
        checked += 1
    assert checked >= 20


def test_units_cannot_reach_each_others_objects_by_id(client, database, settings):

    with database.session() as s:
        for code, kind in (("SZPNR", "natural_resources"), ("SZCA", "civil_affairs")):
            unit_service.upsert_unit(s, code=code, name=code, kind=kind)
        theirs, _, _ = api_clients.create_client(s, unit_code="SZCA", name="民政系统", alg="HMAC-SM3",
                                                 data_dir=settings.resolved_data_dir)
        mine, key, secret = api_clients.create_client(s, unit_code="SZPNR", name="不动产系统", alg="HMAC-SM3",
                                                      data_dir=settings.resolved_data_dir)
        theirs_id, mine_id, key_id = theirs.id, mine.id, key.id
    make_user(database, "pnr_op", ["unit_operator"], unit_code="SZPNR")
    login(client, "pnr_op")
    assert client.get(f"/api/v1/api-clients/{theirs_id}").status_code == 404
    assert client.patch(f"/api/v1/api-clients/{theirs_id}", json={"is_active": False}).status_code == 403
    assert client.post(f"/api/v1/api-clients/{theirs_id}/keys", json={}).status_code == 403
    assert theirs_id not in client.get("/api/v1/api-clients").text
    uid = make_user(database, "office_user", ["case_handler"])
    assert client.get(f"/api/v1/users/{uid}").status_code == 403
    assert client.get("/api/v1/cases").status_code == 403
    # a unit's system with a valid signature cannot read the office's data or other units' clients either
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    sign = {"client_id": mine_id, "key_id": key_id, "alg": "HMAC-SM3", "secret": bytes.fromhex(secret)}
    for path in (f"/api/v1/api-clients/{theirs_id}", "/api/v1/cases", "/api/v1/users", "/api/v1/audit/records"):
        res = client.get(path, headers=api_clients.sign_request("GET", path, b"", **sign))
        assert res.status_code in (403, 404), path


def test_a_replayed_or_forged_signed_request_is_refused(client, database, settings):
    with database.session() as s:
        c, key, secret = api_clients.create_client(s, unit_code="SZBA", name="x", alg="HMAC-SM3",
                                                   data_dir=settings.resolved_data_dir)
        sign = {"client_id": c.id, "key_id": key.id, "alg": "HMAC-SM3", "secret": bytes.fromhex(secret)}
    path = "/api/v1/auth/whoami"
    captured = api_clients.sign_request("POST", path, b'{"x":1}', **sign)
    assert client.post(path, content=b'{"x":1}', headers=captured).status_code == 200
    assert client.post(path, content=b'{"x":1}', headers=captured).json()["error"]["code"] == "nonce_reused"
    # a new nonce without the secret: the signature no longer matches
    res = client.post(path, content=b'{"x":1}', headers={**captured, "X-PB-Nonce": "b" * 32})
    assert res.json()["error"]["code"] == "signature_invalid"
    # a signature for another client's key id
    forged = api_clients.sign_request("GET", path, b"", **{**sign, "key_id": UUID0})
    assert client.get(path, headers=forged).status_code == 401
    # an SM2 signature claimed for an HMAC key
    pair = __import__("pbshare.security.crypto.algorithms", fromlist=["sm2_generate"]).sm2_generate()
    sm2 = api_clients.sign_request("GET", path, b"", client_id=c.id, key_id=key.id, alg="SM2-SM3",
                                   private_key_hex=pair.private_hex)
    assert client.get(path, headers=sm2).status_code == 401


def test_brute_force_stops_at_the_lock_and_then_at_the_address_limit(client, database):
    make_user(database, "target", ["case_handler"])
    codes = [client.post("/api/v1/auth/login", json={"username": "target", "password": f"Guess#{i:04d}x"}).status_code
             for i in range(25)]
    assert codes[:5] == [401] * 5
    assert set(codes[5:20]) == {401}  # locked: refused like a wrong password, however good the guess
    assert set(codes[20:]) == {429}  # the address is throttled
    assert client.post("/api/v1/auth/login", json={"username": "target", "password": PASSWORD}).status_code != 200
    with database.session() as s:
        assert s.scalar(select(User.locked_until).where(User.username == "target")) is not None


def _string_like(schema: dict) -> bool:
    if schema.get("type") == "string":
        return True
    return any(_string_like(s) for s in schema.get("anyOf", []))


def test_sql_injection_through_every_parameter(app, database, settings):
    """Every GET parameter (query and path) and every path parameter of the other methods gets SQL payloads."""
    from pbshare.demo import service as demo_service

    with database.session() as s:
        demo_service.load_units(s)
        demo_service.load_cases(s, data_dir=settings.resolved_data_dir, count=5)
    make_user(database, "inj_ops", ["sys_admin", "data_admin", "case_handler", "report_viewer", "unit_operator"])
    make_user(database, "inj_sec", ["security_admin"])
    make_user(database, "inj_aud", ["auditor"])
    clients = []
    for username in ("inj_ops", "inj_sec", "inj_aud"):
        c = TestClient(app)
        login(c, username)
        clients.append(c)
    with database.session() as s:
        users_before = s.scalar(select(func.count()).select_from(User))

    def pick(method, url):
        for c in clients:
            res = c.request(method, url)
            if res.status_code != 403:
                return c, res
        return None, None

    exercised = 0
    for path, method, op in _operations(app):
        params = op.get("parameters", [])
        path_params = [p for p in params if p["in"] == "path"]
        query_params = [p for p in params if p["in"] == "query"] if method == "GET" else []
        if not path_params and not query_params:
            continue
        base = re.sub(r"\{[^}]+\}", UUID0, path)
        if method == "GET":
            c, _ = pick("GET", base)
            if c is None:
                continue
        else:
            c = clients[0]
        harmless = {p["name"]: c.get(base, params={p["name"]: "zzzz-no-such-value"}) for p in query_params}
        for payload in SQL_PAYLOADS:
            for p in path_params:
                url = path.replace("{" + p["name"] + "}", quote(payload, safe=""))
                url = re.sub(r"\{[^}]+\}", UUID0, url)
                res = c.request(method, url, json={} if method != "GET" else None)
                assert res.status_code in (400, 401, 403, 404, 405, 409, 422), f"{method} {url} → {res.status_code}"
                exercised += 1
            for p in query_params:
                ref_res = harmless[p["name"]]
                res = c.get(base, params={p["name"]: payload})
                assert res.status_code < 500, f"GET {path}?{p['name']}={payload} → {res.status_code}: {res.text[:200]}"
                assert "$argon2" not in res.text and "password_hash" not in res.text.replace(payload, "")
                if _string_like(p.get("schema", {})) and res.headers.get("content-type", "").startswith(
                        "application/json") and ref_res.status_code == 200 and res.status_code == 200:
                    got, ref = res.json(), ref_res.json()
                    if isinstance(got, dict) and "total" in got and isinstance(ref, dict) and "total" in ref:
                        assert got["total"] <= ref["total"], f"{path}?{p['name']} leaked rows"
                    elif isinstance(got, list) and isinstance(ref, list):
                        assert len(got) <= len(ref), f"{path}?{p['name']} leaked rows"
                exercised += 1
    for c in clients:
        c.close()
    assert exercised >= 50
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == users_before


def _fill_audit(database, n=5):
    from pbshare.security.audit import service as audit

    with database.session() as s:
        for i in range(n):
            audit.record(s, action="test.write", actor_name="t", detail={"i": i})


def _cli_verify(settings, monkeypatch):
    from typer.testing import CliRunner

    from pbshare.cli import app as cli_app
    from pbshare.config import get_settings

    monkeypatch.setenv("PBSHARE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("PBSHARE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli_app, ["audit", "verify"])
    finally:
        get_settings.cache_clear()


def test_altering_the_audit_log_is_refused_or_noticed(backend, database, settings, monkeypatch):
    _fill_audit(database)
    if backend == "postgresql":
        dsn = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
        for sql in ("UPDATE audit_record SET result = 'ok' WHERE seq = 2", "DELETE FROM audit_record WHERE seq = 2",
                    "TRUNCATE audit_record"):
            with psycopg.connect(dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
        # an attacker who owns the database can switch the trigger off: the chain still tells
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("ALTER TABLE audit_record DISABLE TRIGGER USER")
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_record SET actor_name = 'someone else' WHERE seq = 3"))
    out = _cli_verify(settings, monkeypatch)
    assert out.exit_code == 1
    assert "#3" in out.output and "changed" in out.output
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_record SET actor_name = 't' WHERE seq = 3"))
        conn.execute(text("DELETE FROM audit_record WHERE seq = 2"))
    out = _cli_verify(settings, monkeypatch)
    assert out.exit_code == 1 and "#2" in out.output and "removed" in out.output
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "audit.verify")) == 2
