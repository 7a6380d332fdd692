"""The envelope itself: canonical signing, SM2 and HMAC-SM3, SM4-GCM payloads, precise validation errors."""

from __future__ import annotations

import json

import pytest

from pbshare.exchange import envelope as env_mod
from pbshare.exchange.connections import service as connections
from pbshare.exchange.envelope import EnvelopeError, Key
from pbshare.exchange.messaging import service as messaging
from pbshare.security.crypto import algorithms as crypto
from pbshare.units import service as unit_service

HKEY = Key(key_id="U1-socket-1", secret=b"s" * 32, enc_key=b"e" * 16)


def test_signature_survives_any_json_layout():
    env = env_mod.sign(env_mod.build(type="delivery", sender="U1", receiver="SZBA",
                                     payload={"姓名": "演示·李四", "n": [1, 2.5, None]}), HKEY)
    # a unit's system may serialise with other key order, spacing and escapes
    other = json.dumps(dict(reversed(list(env.items()))), indent=2, ensure_ascii=True)
    assert env_mod.verify(env_mod.parse(other), HKEY)
    tampered = json.loads(other)
    tampered["payload"]["n"][1] = 2.6
    assert not env_mod.verify(tampered, HKEY)


def test_sm2_signatures():
    pair = crypto.sm2_generate()
    env = env_mod.sign(env_mod.build(type="request", sender="U1", receiver="SZBA"),
                       Key(key_id="k", alg=crypto.SM2_SM3, private_hex=pair.private_hex))
    assert env["sig"]["alg"] == "SM2-SM3"
    assert env_mod.verify(env, Key(key_id="k", alg=crypto.SM2_SM3, public_hex=pair.public_hex))
    other = crypto.sm2_generate()
    assert not env_mod.verify(env, Key(key_id="k", alg=crypto.SM2_SM3, public_hex=other.public_hex))


def test_encrypted_payload_is_bound_to_its_envelope():
    env = env_mod.encrypt_payload(env_mod.build(type="delivery", sender="U1", receiver="SZBA",
                                                payload={"id_no": "演示"}), HKEY)
    assert "演示" not in json.dumps(env, ensure_ascii=False)
    assert env_mod.decrypt_payload(env, HKEY) == {"id_no": "演示"}
    other = env_mod.build(type="delivery", sender="U1", receiver="SZBA")
    pasted = {**{k: v for k, v in other.items() if k != "payload"}, "enc": env["enc"]}
    with pytest.raises(EnvelopeError) as exc:
        env_mod.decrypt_payload(pasted, HKEY)
    assert exc.value.code == "decrypt_failed"


@pytest.mark.parametrize(("mutate", "code", "field"), [
    (lambda e: e.pop("sender"), "missing_field", "sender"),
    (lambda e: e.update(type="gossip"), "bad_type", "type"),
    (lambda e: e.update(created_at="yesterday"), "bad_created_at", "created_at"),
    (lambda e: e.update(enc={"alg": "SM4-GCM", "key_id": "k", "iv": "", "ct": ""}), "payload_or_enc", "payload"),
    (lambda e: e.pop("sig"), "missing_signature", "sig"),
    (lambda e: e["sig"].update(alg="MD5"), "bad_sig_alg", "sig.alg"),
    (lambda e: e.update(test="yes"), "bad_test_flag", "test"),
])
def test_validation_says_what_is_wrong_and_which_id(mutate, code, field):
    env = env_mod.sign(env_mod.build(type="delivery", sender="U1", receiver="SZBA"), HKEY)
    mutate(env)
    with pytest.raises(EnvelopeError) as exc:
        env_mod.parse(json.dumps(env))
    assert exc.value.code == code and exc.value.field == field and exc.value.answers == env["id"]
    assert exc.value.message.render("zh-CN") and exc.value.message.render("en")


def test_sm2_connection_end_to_end(database, settings, open_connection):
    """A unit that signs with its own SM2 key; the platform answers signed with its SM2 key."""

    unit_pair = crypto.sm2_generate()
    with database.session() as s:
        unit_service.upsert_unit(s, code="SM2U", name="国密单位", kind="other")
        conn, creds = connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code="SM2U",
                                                    channel="socket", name="sm2", sig_alg=crypto.SM2_SM3,
                                                    unit_public_key=unit_pair.public_hex)
        connections.transition(s, connection_id=conn.id, to="testing")
        env = env_mod.sign(env_mod.build(type="delivery", sender="SM2U", receiver="SZBA", test=True),
                           Key(key_id=creds.key_id, alg=crypto.SM2_SM3, private_hex=unit_pair.private_hex))
        outcome = messaging.receive(s, raw=env_mod.dumps(env), channel="socket", data_dir=settings.resolved_data_dir)
    assert outcome.status == "accepted"
    assert env_mod.verify(outcome.reply, Key(key_id=creds.key_id, alg=crypto.SM2_SM3,
                                             public_hex=creds.platform_public_key))
