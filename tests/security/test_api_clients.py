"""Signed requests from units' systems: HMAC-SM3 and SM2-SM3, window, replay, rotation, allowlist, rate limit."""

from __future__ import annotations

import json
import time

from pbshare.security.clients import service as api_clients
from pbshare.security.crypto import algorithms as crypto
from pbshare.units import service as unit_service
from tests.conftest import make_user

WHOAMI = "/api/v1/auth/whoami"


def _register(client, database, settings, **kwargs):

    with database.session() as s:
        if unit_service.find_unit_by_code(s, code="SZPNR") is None:
            unit_service.upsert_unit(s, code="SZPNR", name="不动产登记中心", kind="natural_resources")
        c, key, secret = api_clients.create_client(s, unit_code="SZPNR", name="不动产系统", data_dir=settings.resolved_data_dir,
                                                   **({"alg": "HMAC-SM3"} | kwargs))
        return c.id, key.id, secret


def _signed(client, method, path, body=b"", **sign):
    headers = api_clients.sign_request(method, path, body, **sign)
    return client.request(method, path, content=body, headers={**headers, "Content-Type": "application/json"})


def test_hmac_signed_request_is_a_unit_principal_without_csrf(client, database, settings):
    cid, kid, secret = _register(client, database, settings)
    sign = {"client_id": cid, "key_id": kid, "alg": "HMAC-SM3", "secret": bytes.fromhex(secret)}
    body = json.dumps({"hello": "世界"}).encode()
    res = _signed(client, "POST", WHOAMI + "?probe=1", body, **sign)
    assert res.status_code == 200, res.text
    out = res.json()
    assert out["via"] == "signature" and out["unit_code"] == "SZPNR" and out["roles"] == ["api_client"]
    assert out["body_sm3"] == crypto.sm3_hex(body)
    # the client's role does not reach office data
    assert _signed(client, "GET", "/api/v1/cases", **sign).status_code == 403


def test_sm2_signed_request(client, database, settings):
    pair = crypto.sm2_generate()
    cid, kid, secret = _register(client, database, settings, alg="SM2-SM3", public_key_hex="04" + pair.public_hex)
    assert secret is None
    sign = {"client_id": cid, "key_id": kid, "alg": "SM2-SM3", "private_key_hex": pair.private_hex}
    assert _signed(client, "GET", WHOAMI, **sign).status_code == 200
    other = crypto.sm2_generate()
    forged = _signed(client, "GET", WHOAMI, **{**sign, "private_key_hex": other.private_hex})
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "signature_invalid"


def test_replay_old_timestamp_and_tampering_are_refused(client, database, settings):
    cid, kid, secret = _register(client, database, settings)
    sign = {"client_id": cid, "key_id": kid, "alg": "HMAC-SM3", "secret": bytes.fromhex(secret)}
    headers = api_clients.sign_request("POST", WHOAMI, b'{"a":1}', **sign)
    first = client.post(WHOAMI, content=b'{"a":1}', headers=headers)
    assert first.status_code == 200
    again = client.post(WHOAMI, content=b'{"a":1}', headers=headers)
    assert again.status_code == 401 and again.json()["error"]["code"] == "nonce_reused"
    stale = api_clients.sign_request("GET", WHOAMI, b"", timestamp=int(time.time()) - 301, **sign)
    res = client.get(WHOAMI, headers=stale)
    assert res.status_code == 401 and res.json()["error"]["code"] == "signature_expired"
    fresh = api_clients.sign_request("POST", WHOAMI, b'{"a":1}', **sign)
    tampered = client.post(WHOAMI, content=b'{"a":2}', headers=fresh)
    assert tampered.status_code == 401 and tampered.json()["error"]["code"] == "signature_invalid"
    wrong_path = api_clients.sign_request("GET", WHOAMI + "?x=1", b"", **sign)
    assert client.get(WHOAMI + "?x=2", headers=wrong_path).status_code == 401
    bad_secret = api_clients.sign_request("GET", WHOAMI, b"", **{**sign, "secret": b"guess" * 8})
    assert client.get(WHOAMI, headers=bad_secret).status_code == 401
    # every refusal is in the audit log
    from sqlalchemy import select

    from pbshare.security.audit import service as audit
    from pbshare.security.audit.service import AuditRecord

    with database.session() as s:
        seqs = list(s.scalars(select(AuditRecord.seq).where(
            AuditRecord.action == "api.signature", AuditRecord.result == "denied")))
        # the three bad signatures of one minute share one record that counts them
        assert len(seqs) == 3 and sum(audit.repeat_counts(s, seqs=seqs).values()) == 5


def test_rotation_keeps_both_keys_valid_then_revocation_stops_the_old(client, database, settings, as_user):
    cid, kid, secret = _register(client, database, settings)
    admin = as_user("sec1", ["security_admin"])
    rotated = admin.post(f"/api/v1/api-clients/{cid}/keys", json={"overlap_hours": 24})
    assert rotated.status_code == 201
    new_kid, new_secret = rotated.json()["key_id"], rotated.json()["secret_hex"]
    keys = {k["id"]: k for k in rotated.json()["client"]["keys"]}
    assert keys[kid]["valid"] and keys[kid]["expires_at"] and keys[new_kid]["valid"]
    old = {"client_id": cid, "key_id": kid, "alg": "HMAC-SM3", "secret": bytes.fromhex(secret)}
    new = {"client_id": cid, "key_id": new_kid, "alg": "HMAC-SM3", "secret": bytes.fromhex(new_secret)}
    client.cookies.clear()
    assert _signed(client, "GET", WHOAMI, **old).status_code == 200
    assert _signed(client, "GET", WHOAMI, **new).status_code == 200
    # the new key's secret does not sign for the old key id
    assert _signed(client, "GET", WHOAMI, **{**old, "secret": new["secret"]}).status_code == 401
    with database.session() as s:
        api_clients.revoke_key(s, client_id=cid, key_id=kid)
    assert _signed(client, "GET", WHOAMI, **old).status_code == 401
    assert _signed(client, "GET", WHOAMI, **new).status_code == 200
    with database.session() as s:
        api_clients.revoke_client(s, client_id=cid)
    assert _signed(client, "GET", WHOAMI, **new).status_code == 401


def test_ip_allowlist_and_rate_limit(client, database, settings):
    cid, kid, secret = _register(client, database, settings, ip_allowlist=["10.0.0.0/8"])
    sign = {"client_id": cid, "key_id": kid, "alg": "HMAC-SM3", "secret": bytes.fromhex(secret)}
    res = _signed(client, "GET", WHOAMI, **sign)  # the test client comes from "testclient", not 10.x
    assert res.status_code == 403 and res.json()["error"]["code"] == "ip_not_allowed"
    with database.session() as s:
        api_clients.update_client(s, client_id=cid, ip_allowlist=[], rate_limit_per_minute=3)
    codes = [_signed(client, "GET", WHOAMI, **sign).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_unit_operator_sees_only_its_own_units_clients(client, database, settings):

    cid, _, _ = _register(client, database, settings)
    with database.session() as s:
        unit_service.upsert_unit(s, code="SZCA", name="民政局", kind="civil_affairs")
        other, _, _ = api_clients.create_client(s, unit_code="SZCA", name="民政系统", alg="HMAC-SM3",
                                                data_dir=settings.resolved_data_dir)
        other_id = other.id
    make_user(database, "pnr_op", ["unit_operator"], unit_code="SZPNR")
    from tests.conftest import login

    login(client, "pnr_op")
    listed = client.get("/api/v1/api-clients").json()
    assert [c["id"] for c in listed] == [cid]
    assert client.get(f"/api/v1/api-clients/{cid}").status_code == 200
    assert client.get(f"/api/v1/api-clients/{other_id}").status_code == 404
    assert client.post(f"/api/v1/api-clients/{other_id}/keys", json={}).status_code == 403
    assert client.delete(f"/api/v1/api-clients/{other_id}").status_code == 403


def test_security_admin_registers_a_client_and_sees_the_secret_once(as_user):
    admin = as_user("sec2", ["security_admin"])
    res = admin.post("/api/v1/api-clients", json={"unit_code": "SZBA", "name": "署内测试系统", "alg": "HMAC-SM3"})
    assert res.status_code == 201
    assert len(res.json()["secret_hex"]) == 64
    shown = admin.get(f"/api/v1/api-clients/{res.json()['client']['id']}").json()
    assert "secret" not in json.dumps(shown)
    bad = admin.post("/api/v1/api-clients", json={"unit_code": "SZBA", "name": "x", "alg": "SM2-SM3",
                                                  "public_key_hex": "zz"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_public_key"
