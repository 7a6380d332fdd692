"""Configurable password policy, lockout, unlock, force logout, per-IP throttling, TOTP with recovery codes."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pyotp
from sqlalchemy import select

from pbshare.core.clock import utcnow
from pbshare.security.audit.service import AuditRecord
from pbshare.security.identity.models import User
from tests.conftest import PASSWORD, login, make_user

LOGIN = "/api/v1/auth/login"


def _set_policy(client, database, **changes):
    """Change the policy as a security admin, then drop that admin's session."""
    make_user(database, "policy_sec", ["security_admin"]) if not _exists(database, "policy_sec") else None
    login(client, "policy_sec")
    res = client.put("/api/v1/security/policy", json=changes)
    assert res.status_code == 200, res.text
    client.post("/api/v1/auth/logout")
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    return res.json()


def _exists(database, username):
    with database.session() as s:
        return s.scalar(select(User.id).where(User.username == username)) is not None


def _last_refusal(database, username):
    """Why the newest refused login of a user was refused (the audit log says; the answer does not)."""
    with database.session() as s:
        return s.scalars(select(AuditRecord.detail).where(
            AuditRecord.action == "auth.login", AuditRecord.result == "denied", AuditRecord.actor_name == username)
            .order_by(AuditRecord.seq.desc()).limit(1)).one()["reason"]


def _actions(database, action):
    with database.session() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def test_policy_is_editable_only_by_the_security_admin_and_audited(client, database):
    make_user(database, "aud", ["auditor"])
    login(client, "aud")
    assert client.put("/api/v1/security/policy", json={"password_min_length": 12}).status_code == 403
    client.cookies.clear()
    out = _set_policy(client, database, password_min_length=14, password_min_classes=4)
    assert out["password_min_length"] == 14
    [rec] = _actions(database, "security.policy")
    assert rec.detail["password_min_length"] == {"old": 10, "new": 14}
    make_user(database, "u1", ["case_handler"])
    login(client, "u1")
    weak = client.post("/api/v1/auth/password", json={"old_password": PASSWORD, "new_password": "Abcdef#12345"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    assert "14" in weak.json()["error"]["message"]
    ok = client.post("/api/v1/auth/password", json={"old_password": PASSWORD, "new_password": "Abcdefg#1234567"})
    assert ok.status_code == 200


def test_bad_policy_values_are_refused_with_the_field(client, database):
    make_user(database, "sec_b", ["security_admin"])
    login(client, "sec_b")
    res = client.put("/api/v1/security/policy", json={"audit_online_days": 30, "lockout_threshold": 1})
    assert res.status_code == 422 and res.json()["error"]["code"] == "bad_policy"
    assert "audit_online_days" in res.json()["error"]["message"]
    assert client.put("/api/v1/security/policy", json={"nonsense": 1}).status_code == 422


def test_the_last_five_passwords_cannot_be_reused(client, database):
    make_user(database, "hist", ["case_handler"])
    login(client, "hist")
    passwords = [PASSWORD] + [f"Rotate#{i}pass2026" for i in range(5)]
    for old, new in itertools.pairwise(passwords):
        assert client.post("/api/v1/auth/password", json={"old_password": old, "new_password": new}).status_code == 200
    for reused in (passwords[1], passwords[-1]):  # the oldest still in the window, and the current one
        res = client.post("/api/v1/auth/password", json={"old_password": passwords[-1], "new_password": reused})
        assert res.status_code == 422 and res.json()["error"]["code"] == "password_reused", reused
    # the sixth-last is allowed again
    res = client.post("/api/v1/auth/password", json={"old_password": passwords[-1], "new_password": passwords[0]})
    assert res.status_code == 200


def test_expired_password_must_be_changed(client, database):
    _set_policy(client, database, password_max_age_days=90)
    uid = make_user(database, "old", ["case_handler"])
    with database.session() as s:
        s.get(User, uid).password_changed_at = utcnow() - timedelta(days=91)
    me = login(client, "old")
    assert me["must_change_password"] is True
    assert client.get("/api/v1/cases").json()["error"]["code"] == "password_change_required"


def test_lockout_settings_unlock_and_force_logout(client, database):
    _set_policy(client, database, lockout_threshold=3, lockout_minutes=60)
    uid = make_user(database, "victim", ["case_handler"])
    for _ in range(3):
        assert client.post(LOGIN, json={"username": "victim", "password": "guess"}).status_code == 401
    locked = client.post(LOGIN, json={"username": "victim", "password": PASSWORD})
    assert locked.status_code == 401 and locked.json()["error"]["code"] == "bad_credentials"
    assert _last_refusal(database, "victim") == "account_locked"
    # the security admin unlocks
    from fastapi.testclient import TestClient

    with TestClient(client.app) as admin:
        login(admin, "policy_sec")
        assert admin.post(f"/api/v1/users/{uid}/unlock").status_code == 200
        assert login(client, "victim")["username"] == "victim"
        assert client.get("/api/v1/auth/me").status_code == 200
        ended = admin.post(f"/api/v1/users/{uid}/logout")
        assert ended.json()["sessions_ended"] == 1
    assert client.get("/api/v1/auth/me").status_code == 401
    assert len(_actions(database, "user.unlock")) == 1 and len(_actions(database, "user.force_logout")) == 1


def test_login_throttled_per_address(client, database):
    _set_policy(client, database, login_ip_max_failures=4, login_ip_window_minutes=10)
    make_user(database, "good", ["case_handler"])
    for i in range(4):
        client.post(LOGIN, json={"username": f"nobody{i}", "password": "x"})
    res = client.post(LOGIN, json={"username": "good", "password": PASSWORD})
    assert res.status_code == 429 and res.json()["error"]["code"] == "login_throttled"


def _enrol(client) -> pyotp.TOTP:
    started = client.post("/api/v1/auth/totp/enrol").json()
    assert started["qr_data_url"].startswith("data:image/svg+xml;base64,")
    assert started["otpauth_uri"].startswith("otpauth://totp/")
    otp = pyotp.TOTP(started["secret"])
    wrong = client.post("/api/v1/auth/totp/confirm", json={"code": "000000" if otp.now() != "000000" else "111111"})
    assert wrong.status_code == 422
    confirmed = client.post("/api/v1/auth/totp/confirm", json={"code": otp.now()})
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    otp.recovery = codes
    return otp


def test_totp_login_replay_and_recovery_codes(client, database):
    make_user(database, "two", ["case_handler"])
    login(client, "two")
    otp = _enrol(client)
    assert client.get("/api/v1/auth/me").json()["totp_enrolled"] is True
    client.post("/api/v1/auth/logout")
    need = client.post(LOGIN, json={"username": "two", "password": PASSWORD})
    assert need.status_code == 401 and need.json()["error"]["code"] == "totp_required"
    bad = client.post(LOGIN, json={"username": "two", "password": PASSWORD, "totp": "123456"
                                   if otp.now() != "123456" else "654321"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "totp_invalid"
    # the code the confirmation used is spent; the next step's code works once
    code = otp.at(utcnow() + timedelta(seconds=30))
    assert client.post(LOGIN, json={"username": "two", "password": PASSWORD, "totp": code}).status_code == 200
    client.post("/api/v1/auth/logout")
    again = client.post(LOGIN, json={"username": "two", "password": PASSWORD, "totp": code})
    assert again.status_code == 401 and again.json()["error"]["code"] == "totp_invalid"
    rc = otp.recovery[0]
    assert client.post(LOGIN, json={"username": "two", "password": PASSWORD, "totp": rc.upper()}).status_code == 200
    client.post("/api/v1/auth/logout")
    assert client.post(LOGIN, json={"username": "two", "password": PASSWORD, "totp": rc}).status_code == 401
    # a login that needed a code is recorded as a challenge, not as a failure
    results = [r.result for r in _actions(database, "auth.login") if r.actor_name == "two"]
    assert "challenge" in results and results.count("ok") == 3


def test_totp_guesses_lock_the_account_even_with_the_right_password(client, database):
    make_user(database, "guessme", ["case_handler"])
    login(client, "guessme")
    otp = _enrol(client)
    client.post("/api/v1/auth/logout")
    now = {otp.at(utcnow() + timedelta(seconds=30 * k)) for k in (-1, 0, 1, 2)}
    guesses = [g for g in (f"{n:06d}" for n in range(100000, 100020)) if g not in now][:5]
    for g in guesses:
        client.post(LOGIN, json={"username": "guessme", "password": PASSWORD, "totp": g})
    res = client.post(LOGIN, json={"username": "guessme", "password": PASSWORD,
                                   "totp": otp.at(utcnow() + timedelta(seconds=30))})
    assert res.status_code == 401 and res.json()["error"]["code"] == "bad_credentials"
    assert _last_refusal(database, "guessme") == "account_locked"


def test_admin_roles_must_enrol_after_the_grace_period(client, database):
    _set_policy(client, database, totp_grace_days=0)
    make_user(database, "sys1", ["sys_admin"])
    me = login(client, "sys1")
    assert me["totp_required"] is True and me["totp_enrolment_required"] is True
    blocked = client.get("/api/v1/users")
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "totp_enrolment_required"
    _enrol(client)
    assert client.get("/api/v1/users").status_code == 200
    # a required factor cannot be switched off by its owner
    res = client.post("/api/v1/auth/totp/disable", json={"code": "000000"})
    assert res.status_code == 403 and res.json()["error"]["code"] == "totp_required_by_policy"


def test_security_admin_resets_a_lost_totp(client, database):
    uid = make_user(database, "lost", ["case_handler"])
    login(client, "lost")
    _enrol(client)
    client.cookies.clear()
    make_user(database, "sec_r", ["security_admin"])
    login(client, "sec_r")
    assert client.post(f"/api/v1/users/{uid}/totp/reset").json()["totp_enrolled"] is False
    client.cookies.clear()
    assert client.post(LOGIN, json={"username": "lost", "password": PASSWORD}).status_code == 200


def test_role_matrix_shows_separation_of_duties(as_user):
    client = as_user("aud2", ["auditor"])
    matrix = client.get("/api/v1/security/roles").json()
    separated = {r["code"] for r in matrix["roles"] if r["separated"]}
    assert separated == {"sys_admin", "security_admin", "auditor"}
    auditor = next(r for r in matrix["roles"] if r["code"] == "auditor")
    assert "audit:read" in auditor["permissions"] and "security:manage" not in auditor["permissions"]
