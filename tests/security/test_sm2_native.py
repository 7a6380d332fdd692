"""SM2-SM3 in C (gmssl-pyx) against the pure-Python gmssl the platform used before, as the reference.

Both directions, with the formats units already hold: a private key of 64 hex, a public key of 128 hex x||y
(or 04 || x || y), a signature of 64 bytes r||s over SM3(Z || message) with the default user ID.
A key or signature a unit made with gmssl keeps working, and what the platform signs verifies in gmssl.
"""

from __future__ import annotations

import json
import time

import pytest

from pbshare.security.clients import service as api_clients
from pbshare.security.crypto import algorithms as crypto
from pbshare.units import service as unit_service
from tests.security.sm2_reference import gm_keypair, gm_public, gm_sign, gm_verify

WHOAMI = "/api/v1/auth/whoami"

# Made once with gmssl 3.2.2 (the code the platform ran before), kept verbatim: signatures and keys that
# units and the platform's data dir hold today.
GM_PRIVATE = "e3f7f899cfbc20acfac62965bde75fe6681a77453f963a71ce8d04134bcb4b57"
GM_PUBLIC = ("78dc6738e6cf1d8279e4f76f621be9ac5736069e5a64c48aefacd2d35d3d8623"
             "388d5ca393548d5eea897dd8464598f490848d20e8288a626dbe4739eff924ab")
GM_MESSAGE = b"GET\n/api/v1/auth/whoami\n1764633600\n0123456789abcdef0123456789abcdef\n"
GM_SIGNATURE = ("413829dbaef77a4f69c0b505b688bde8d46de84164e4ae2ccd48995a9f65a408"
                "d747d38098f63dda335ddab2ce1d0310f4e30e28d69f90c5f5bc2bf5432e3533")


def test_a_signature_made_by_gmssl_before_the_change_still_verifies():
    assert gm_verify(GM_PUBLIC, GM_MESSAGE, bytes.fromhex(GM_SIGNATURE))  # the vector is what gmssl made
    assert crypto.verify(crypto.SM2_SM3, GM_PUBLIC, GM_MESSAGE, bytes.fromhex(GM_SIGNATURE))
    assert crypto.verify(crypto.SM2_SM3, "04" + GM_PUBLIC.upper(), GM_MESSAGE, bytes.fromhex(GM_SIGNATURE))
    assert not crypto.verify(crypto.SM2_SM3, GM_PUBLIC, GM_MESSAGE + b"x", bytes.fromhex(GM_SIGNATURE))
    # a key stored before the change signs, and gmssl accepts the result
    ours = crypto.sign(crypto.SM2_SM3, GM_PRIVATE, GM_MESSAGE)
    assert gm_verify(GM_PUBLIC, GM_MESSAGE, ours)


def test_signatures_cross_both_ways_for_keys_made_by_either_side():
    messages = [b"", b"payload", "姓名：演示·李四".encode(), bytes(range(256)) * 8]
    for i in range(8):
        pair = gm_keypair() if i % 2 else crypto.sm2_generate()
        assert gm_public(pair.private_hex) == pair.public_hex  # the same public key from the private key
        for data in messages:
            ours = crypto.sign(crypto.SM2_SM3, pair.private_hex, data)
            assert len(ours) == 64
            assert gm_verify(pair.public_hex, data, ours), "gmssl refuses a signature made in C"
            reference = gm_sign(pair.private_hex, data)
            assert crypto.verify(crypto.SM2_SM3, pair.public_hex, data, reference), "C refuses gmssl's signature"
            assert crypto.verify(crypto.SM2_SM3, "04" + pair.public_hex, data, reference)
            assert not crypto.verify(crypto.SM2_SM3, pair.public_hex, data + b"!", reference)
            assert not gm_verify(pair.public_hex, data + b"!", ours)


def test_keys_whose_x_starts_with_0_or_4_cross_both_ways():
    """The keys gmssl's lstrip("04") once broke: made by each side, checked by the other."""
    seen: set[tuple[str, int]] = set()
    for i in range(800):
        pair = gm_keypair() if i % 2 else crypto.sm2_generate()
        lead = pair.public_hex[0]
        if lead not in "04" or (lead, i % 2) in seen:
            continue
        seen.add((lead, i % 2))
        assert gm_verify(pair.public_hex, b"x", crypto.sign(crypto.SM2_SM3, pair.private_hex, b"x"))
        assert crypto.verify(crypto.SM2_SM3, "04" + pair.public_hex, b"x", gm_sign(pair.private_hex, b"x"))
        if len(seen) == 4:
            break
    assert seen == {("0", 0), ("0", 1), ("4", 0), ("4", 1)}


@pytest.mark.parametrize("signature", [b"", b"\x00" * 64, b"\xff" * 64, b"\x01" * 63, b"\x01" * 65])
def test_malformed_signatures_are_refused_not_raised(signature):
    pair = crypto.sm2_generate()
    assert crypto.verify(crypto.SM2_SM3, pair.public_hex, b"x", signature) is False


def test_a_public_key_off_the_curve_is_refused_where_it_is_given():
    pair = crypto.sm2_generate()
    off = pair.public_hex[:-1] + ("0" if pair.public_hex[-1] != "0" else "1")  # one digit mistyped
    with pytest.raises(crypto.CryptoError, match="not a point on the SM2 curve"):
        crypto.sm2_public_raw(off)
    assert not crypto.verify(crypto.SM2_SM3, off, b"x", crypto.sign(crypto.SM2_SM3, pair.private_hex, b"x"))


def test_a_bad_private_key_says_what_it_should_be():
    for bad in ("", "zz", "00" * 32, "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123"):
        with pytest.raises(crypto.CryptoError, match="64 hex"):
            crypto.sign(crypto.SM2_SM3, bad, b"x")


def _register_sm2(database, settings, public_hex: str) -> tuple[str, str]:
    with database.session() as s:
        if unit_service.find_unit_by_code(s, code="SZPNR") is None:
            unit_service.upsert_unit(s, code="SZPNR", name="不动产登记中心", kind="natural_resources")
        c, key, _ = api_clients.create_client(s, unit_code="SZPNR", name="国密系统", alg="SM2-SM3",
                                              public_key_hex=public_hex, data_dir=settings.resolved_data_dir)
        return c.id, key.id


def test_a_unit_system_signing_with_gmssl_is_let_in(client, database, settings):
    """A unit's system that signs its X-PB-* headers with gmssl (or any SM2 library with the default ID)."""
    pair = gm_keypair()
    cid, kid = _register_sm2(database, settings, "04" + pair.public_hex)
    body = json.dumps({"问": "车辆"}, ensure_ascii=False).encode()
    ts, nonce = str(int(time.time())), "ab" * 16
    data = api_clients.string_to_sign("POST", WHOAMI, ts, nonce, body)
    headers = {"X-PB-Client": cid, "X-PB-Key": kid, "X-PB-Alg": "SM2-SM3", "X-PB-Timestamp": ts,
               "X-PB-Nonce": nonce, "X-PB-Signature": gm_sign(pair.private_hex, data).hex()}
    res = client.post(WHOAMI, content=body, headers={**headers, "Content-Type": "application/json"})
    assert res.status_code == 200, res.text
    assert res.json()["via"] == "signature" and res.json()["unit_code"] == "SZPNR"
    # the same headers signed by another key are refused
    other = gm_keypair()
    forged = {**headers, "X-PB-Nonce": "cd" * 16}
    forged["X-PB-Signature"] = gm_sign(other.private_hex, api_clients.string_to_sign(
        "POST", WHOAMI, ts, forged["X-PB-Nonce"], body)).hex()
    res = client.post(WHOAMI, content=body, headers={**forged, "Content-Type": "application/json"})
    assert res.status_code == 401 and res.json()["error"]["code"] == "signature_invalid"


def test_the_platform_client_code_signs_what_gmssl_accepts(client, database, settings):
    """``sign_request`` (what a unit's system built on pbshare runs) makes headers a gmssl-based server accepts."""
    pair = gm_keypair()
    cid, kid = _register_sm2(database, settings, pair.public_hex)
    headers = api_clients.sign_request("GET", WHOAMI + "?p=1", b"", client_id=cid, key_id=kid, alg="SM2-SM3",
                                       private_key_hex=pair.private_hex)
    data = api_clients.string_to_sign("GET", WHOAMI + "?p=1", headers["X-PB-Timestamp"], headers["X-PB-Nonce"], b"")
    assert gm_verify(pair.public_hex, data, bytes.fromhex(headers["X-PB-Signature"]))
    assert client.get(WHOAMI + "?p=1", headers=headers).status_code == 200


def test_registering_a_mistyped_public_key_says_what_is_wrong(database, settings):
    from pbshare.core.errors import Invalid

    pair = crypto.sm2_generate()
    off = pair.public_hex[:-1] + ("0" if pair.public_hex[-1] != "0" else "1")
    with pytest.raises(Invalid) as exc:
        _register_sm2(database, settings, off)
    assert exc.value.code == "bad_public_key"
    assert "曲线" in exc.value.message.render("zh-CN") and "copied whole" in exc.value.message.render("en")
