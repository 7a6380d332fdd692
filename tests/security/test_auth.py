"""Login, sessions, CSRF, first-login password change, lockout, bearer tokens, roles."""

from __future__ import annotations

import pytest

from pbshare.core.errors import Conflict
from pbshare.security.identity import service as security_service
from tests.conftest import PASSWORD, login, make_user


def test_login_me_logout(client, database):
    make_user(database, "alice", ["case_handler"])
    me = login(client, "alice")
    assert me["username"] == "alice" and "cases:read" in me["permissions"]
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_session_cookie_is_http_only(client, database):
    make_user(database, "cookie", ["case_handler"])
    res = client.post("/api/v1/auth/login", json={"username": "cookie", "password": PASSWORD})
    header = res.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header


def test_wrong_password_is_refused_without_saying_which_part(client, database):
    make_user(database, "bob", ["case_handler"])
    res = client.post("/api/v1/auth/login", json={"username": "bob", "password": "nope"})
    other = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope"})
    assert res.status_code == other.status_code == 401
    assert res.json()["error"]["message"] == other.json()["error"]["message"]


def test_account_locks_after_five_failures(client, database):
    make_user(database, "carol", ["case_handler"])
    for _ in range(5):
        assert client.post("/api/v1/auth/login", json={"username": "carol", "password": "bad"}).status_code == 401
    res = client.post("/api/v1/auth/login", json={"username": "carol", "password": PASSWORD})
    assert res.status_code == 401  # locked: the right password is refused like a wrong one
    assert res.json()["error"]["code"] == "bad_credentials"


def test_writes_need_the_csrf_header(client, database):
    make_user(database, "dave", ["case_handler"])
    login(client, "dave")
    del client.headers["X-CSRF-Token"]
    res = client.post("/api/v1/auth/tokens", json={"name": "x"})
    assert res.status_code == 403 and res.json()["error"]["code"] == "csrf_failed"


def test_first_login_must_change_password(client, database):
    with database.session() as s:
        _, one_time = security_service.create_user(s, username="newbie", display_name="新人", unit_code="SZBA",
                                                   roles=["case_handler"])
    me = login(client, "newbie", one_time)
    assert me["must_change_password"] is True
    blocked = client.get("/api/v1/cases")
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "password_change_required"
    weak = client.post("/api/v1/auth/password", json={"old_password": one_time, "new_password": "short"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    ok = client.post("/api/v1/auth/password", json={"old_password": one_time, "new_password": "Better#pass2026"})
    assert ok.status_code == 200 and ok.json()["must_change_password"] is False
    assert client.get("/api/v1/cases").status_code == 200


def test_bearer_token_for_scripts(client, database):
    make_user(database, "erin", ["case_handler"])
    login(client, "erin")
    created = client.post("/api/v1/auth/tokens", json={"name": "nightly script"}).json()
    secret = created["secret"]
    client.cookies.clear()
    del client.headers["X-CSRF-Token"]
    res = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"})
    assert res.status_code == 200
    bad = client.get("/api/v1/cases", headers={"Authorization": "Bearer pbs_forged"})
    assert bad.status_code == 401
    # revoke with the token itself, then it stops working
    revoke = client.delete(f"/api/v1/auth/tokens/{created['token']['id']}", headers={"Authorization": f"Bearer {secret}"})
    assert revoke.status_code == 204
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_separation_of_duties(db):
    with pytest.raises(Conflict) as err:
        security_service.create_user(db, username="both", display_name="x", unit_code="SZBA",
                                     roles=["sys_admin", "auditor"])
    assert err.value.code == "separation_of_duties"


def test_permission_denied_is_403_with_missing_permission(as_user):
    client = as_user("viewer1", ["report_viewer"])
    res = client.get("/api/v1/users")
    assert res.status_code == 403
    assert res.json()["error"]["detail"] == {"missing": ["users:read"]}


def test_admin_creates_user_with_one_time_password(as_user):
    client = as_user("sec", ["security_admin"])
    res = client.post("/api/v1/users", json={"username": "frank", "display_name": "弗兰克", "unit_code": "SZBA",
                                             "roles": ["data_admin"]})
    assert res.status_code == 201
    assert len(res.json()["one_time_password"]) >= 10
    assert res.json()["user"]["must_change_password"] is True
    dup = client.post("/api/v1/users", json={"username": "frank", "display_name": "x", "unit_code": "SZBA"})
    assert dup.status_code == 409
