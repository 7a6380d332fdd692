"""Findings of an outside probe: sessions left valid, token minting, telling accounts apart, refusals
that were not audited, and a flood of refusals that must not fill the audit log."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pbshare.security.audit import service as audit
from pbshare.security.audit.service import AuditRecord
from pbshare.security.clients import service as api_clients
from pbshare.security.identity.policy import update_policy
from pbshare.units import service as unit_service
from tests.conftest import PASSWORD, login, make_user

LOGIN = "/api/v1/auth/login"


def _records(database, action: str) -> list[AuditRecord]:
    with database.session() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)))


def test_logging_in_again_from_the_same_browser_ends_the_earlier_session(client, database):
    make_user(database, "first", ["case_handler"])
    make_user(database, "second", ["case_handler"])
    login(client, "first")
    earlier = client.cookies.get("pbshare_session")
    login(client, "second")
    assert client.get("/api/v1/auth/me").json()["username"] == "second"
    with TestClient(client.app) as other:
        other.cookies.set("pbshare_session", earlier)
        assert other.get("/api/v1/auth/me").status_code == 401
    # logging in again as the same user ends the earlier session too
    again = client.cookies.get("pbshare_session")
    login(client, "second")
    with TestClient(client.app) as other:
        other.cookies.set("pbshare_session", again)
        assert other.get("/api/v1/auth/me").status_code == 401


def test_a_bearer_token_cannot_mint_tokens(client, database):
    make_user(database, "scripter", ["case_handler"])
    login(client, "scripter")
    secret = client.post("/api/v1/auth/tokens", json={"name": "nightly"}).json()["secret"]
    client.cookies.clear()
    del client.headers["X-CSRF-Token"]
    res = client.post("/api/v1/auth/tokens", json={"name": "more"}, headers={"Authorization": f"Bearer {secret}"})
    assert res.status_code == 403 and res.json()["error"]["code"] == "token_cannot_mint"
    assert "令牌" in res.json()["error"]["message"]
    # the token still works for what it is for
    assert client.get("/api/v1/auth/tokens", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_a_signed_api_client_has_no_tokens_and_no_logout(client, database, settings):
    with database.session() as s:
        unit_service.upsert_unit(s, code="SZPNR", name="不动产登记中心", kind="natural_resources")
        c, key, secret = api_clients.create_client(s, unit_code="SZPNR", name="不动产系统",
                                                   data_dir=settings.resolved_data_dir, alg="HMAC-SM3")
        sign = {"client_id": c.id, "key_id": key.id, "alg": "HMAC-SM3", "secret": bytes.fromhex(secret)}
    for method, path, body in (("POST", "/api/v1/auth/tokens", json.dumps({"name": "x"}).encode()),
                               ("GET", "/api/v1/auth/tokens", b""), ("POST", "/api/v1/auth/logout", b"")):
        headers = api_clients.sign_request(method, path, body, **sign)
        res = client.request(method, path, content=body, headers={**headers, "Content-Type": "application/json"})
        assert res.status_code == 403, (path, res.text)
        assert res.json()["error"]["code"] == "not_a_user"


def _policy(database, **changes) -> None:
    with database.session() as s:
        update_policy(s, changes=changes, actor="test")


def test_a_locked_account_answers_like_a_wrong_password_and_stays_locked(client, database):
    _policy(database, lockout_threshold=3)
    make_user(database, "lockme", ["case_handler"])
    for _ in range(3):
        client.post(LOGIN, json={"username": "lockme", "password": "Wrong#guess1"})
    locked = client.post(LOGIN, json={"username": "lockme", "password": PASSWORD})
    unknown = client.post(LOGIN, json={"username": "no_such_user", "password": PASSWORD})
    wrong = client.post(LOGIN, json={"username": "lockme", "password": "Wrong#guess2"})
    assert locked.status_code == unknown.status_code == wrong.status_code == 401
    assert locked.json() == unknown.json() == wrong.json()
    assert "锁定" in locked.json()["error"]["message"]  # the usual message tells of the lock
    reasons = [r.detail["reason"] for r in _records(database, "auth.login") if r.actor_name == "lockme"]
    assert reasons[-2:] == ["account_locked", "account_locked"]
    assert client.get("/api/v1/auth/me").status_code == 401


def test_throttled_logins_say_when_to_retry(client, database):
    _policy(database, login_ip_max_failures=3, login_ip_window_minutes=5)
    for i in range(3):
        client.post(LOGIN, json={"username": f"probe{i}", "password": "x"})
    res = client.post(LOGIN, json={"username": "probe", "password": "x"})
    assert res.status_code == 429
    assert int(res.headers["Retry-After"]) == 5 * 60
    # trying other names from the throttled address adds no record per name
    for i in range(30):
        assert client.post(LOGIN, json={"username": f"other{i}", "password": "x"}).status_code == 429
    throttled = [r for r in _records(database, "auth.login") if r.detail.get("reason") == "login_throttled"]
    assert 1 <= len(throttled) <= 2


def test_signed_requests_from_invented_clients_are_counted_not_recorded_one_by_one(client, database):
    for i in range(40):
        headers = api_clients.sign_request("GET", "/api/v1/auth/whoami", b"", client_id=f"made-up-{i}",
                                           key_id="k", alg="HMAC-SM3", secret=b"x" * 32)
        assert client.get("/api/v1/auth/whoami", headers=headers).status_code == 401
    rows = _records(database, "api.signature")
    assert 1 <= len(rows) <= 2 and all(r.object_id is None for r in rows)
    with database.session() as s:
        assert sum(audit.repeat_counts(s, seqs=[r.seq for r in rows]).values()) == 40


def test_permission_and_csrf_refusals_are_audited(as_user, database):
    client = as_user("nosy", ["report_viewer"])
    assert client.get("/api/v1/users").status_code == 403
    forbidden = _records(database, "auth.forbidden")
    assert [(r.actor_name, r.result, r.object_id, r.detail["missing"]) for r in forbidden] == [
        ("nosy", "denied", "GET /api/v1/users", ["users:read"])]
    token = client.headers.pop("X-CSRF-Token")
    assert client.post("/api/v1/auth/tokens", json={"name": "x"}).status_code == 403
    client.headers["X-CSRF-Token"] = token
    csrf = _records(database, "auth.csrf")
    assert [(r.actor_name, r.object_id) for r in csrf] == [("nosy", "POST /api/v1/auth/tokens")]


def test_a_flood_of_refusals_is_counted_into_a_few_records_and_the_chain_holds(as_user, client, database):
    make_user(database, "auditor1", ["auditor"])
    flooder = as_user("flooder", ["report_viewer"])
    with database.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditRecord))
    for _ in range(500):
        assert flooder.get("/api/v1/users").status_code == 403
    with database.session() as s:
        after = s.scalar(select(func.count()).select_from(AuditRecord))
        assert after - before <= 3  # one record a minute (the loop may cross a minute boundary)
        assert audit.verify(s).ok
    flooder.post("/api/v1/auth/logout")
    login(flooder, "auditor1")
    found = flooder.get("/api/v1/audit/records", params={"action": "auth.forbidden"}).json()["items"]
    assert sum(r["repeats"] for r in found if r["actor_name"] == "flooder") == 500


def test_refused_soap_xml_is_audited_once_a_minute(client, database):
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "SubmitJson"}
    for _ in range(30):
        res = client.post("/ws/exchange", content=b"<soapenv:Envelope><unclosed>", headers=headers)
        assert res.status_code == 500 and "malformed_xml" in res.text
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]><x>&a;</x>'
    assert "xml_forbidden" in client.post("/ws/exchange", content=bomb, headers=headers).text
    rows = _records(database, "exchange.soap_refused")
    reasons = [r.detail["reason"] for r in rows]
    assert reasons.count("xml_forbidden") == 1 and 1 <= reasons.count("malformed_xml") <= 2
    with database.session() as s:
        assert sum(audit.repeat_counts(s, seqs=[r.seq for r in rows]).values()) == 31


def test_sql_checker_refusals_are_audited(as_user, database):
    client = as_user("analyst", ["data_admin"])
    res = client.post("/api/v1/collect/sql/check", json={"sql": "DELETE FROM case.debtor"})
    assert res.status_code == 422 and res.json()["error"]["code"] == "sql_not_select"
    rows = _records(database, "sql.refused")
    assert [(r.actor_name, r.result, r.detail["reason"], r.detail["sql"]) for r in rows] == [
        ("analyst", "denied", "sql_not_select", "DELETE FROM case.debtor")]


def test_database_source_previews_and_their_refusals_are_audited(as_user, database, tmp_path_factory):
    import sqlalchemy as sa

    from pbshare.metadata import service as metadata_service

    path = tmp_path_factory.mktemp("unit_db") / "vehicles.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE vehicle (id INTEGER PRIMARY KEY, plate TEXT)"))
        conn.execute(sa.text("INSERT INTO vehicle VALUES (1, '粤B00001'), (2, '粤B00002')"))
    engine.dispose()
    with database.session() as s:
        source_id = metadata_service.add_source(s, data_dir=database.settings.resolved_data_dir, name="车辆库",
                                                url=f"sqlite:///{path}").id
    client = as_user("importer", ["data_admin"])
    spec = {"source_kind": "database", "source": {"source_id": source_id, "table": "vehicle"},
            "target_topic": "case", "target_table": "vehicle"}
    assert client.post("/api/v1/collect/preview", json=spec).status_code == 200
    bare = {**spec, "source": {"url": f"sqlite:///{path}", "table": "vehicle"}}
    assert client.post("/api/v1/collect/preview", json=bare).status_code == 403
    rows = _records(database, "collect.preview")
    assert [(r.actor_name, r.result, r.object_id) for r in rows] == [
        ("importer", "ok", source_id), ("importer", "denied", "url")]
    assert rows[0].detail["rows"] == 2 and rows[1].detail["reason"] == "url_not_allowed"


def test_the_demo_loader_names_itself_in_the_audit_log(database, settings):
    from pbshare.demo import service as demo_service

    with database.session() as s:
        demo_service.run(s, data_dir=settings.resolved_data_dir, cases=2, database=database)
    with database.session() as s:
        rows = list(s.scalars(select(AuditRecord)))
        assert rows and {r.actor_name for r in rows} == {"demo"}
        assert "user.create" in {r.action for r in rows}
