"""An SM2-SM3 connection over a real socket, the unit's side signing and checking with gmssl (the reference).

The platform signs and verifies SM2 in C (gmssl-pyx); a unit whose system uses gmssl, as the platform's did
before, must see no difference: its envelopes are accepted and the platform's receipts verify for it.
"""

from __future__ import annotations

import asyncio
import base64

from pbshare.exchange import envelope as env_mod
from pbshare.exchange.connections import service as connections
from pbshare.security.crypto import algorithms as crypto
from pbshare.units import service as unit_service
from tests.channels.test_socket import raw_round_trip, start
from tests.security.sm2_reference import gm_keypair, gm_sign, gm_verify


def _gm_signed(envelope: dict, key_id: str, private_hex: str) -> dict:
    value = gm_sign(private_hex, env_mod.canonical(envelope))
    return {**envelope, "sig": {"alg": crypto.SM2_SM3, "key_id": key_id, "value": base64.b64encode(value).decode()}}


async def test_a_unit_signing_with_gmssl_over_the_socket(runtime, database, settings):
    unit = gm_keypair()
    with database.session() as s:
        unit_service.upsert_unit(s, code="GMU", name="国密参照单位", kind="other")
        conn, creds = connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code="GMU",
                                                    channel="socket", name="gm", sig_alg=crypto.SM2_SM3,
                                                    unit_public_key="04" + unit.public_hex)
        for step in ("testing", "live"):
            connections.transition(s, connection_id=conn.id, to=step,
                                   override_reason="通道测试，无需联调 / channel test, no joint test")
    port = await start(runtime)

    sent = _gm_signed(env_mod.build(type="delivery", sender="GMU", receiver="SZBA", payload={"车牌": "粤B演示1"}),
                      creds.key_id, unit.private_hex)
    ack = await asyncio.to_thread(raw_round_trip, port, env_mod.dumps(sent))
    assert ack["type"] == "receipt" and ack["correlation_id"] == sent["id"]
    assert ack["payload"]["status"] == "accepted", ack
    # the receipt is signed by the platform's SM2 key, and the unit checks it with gmssl
    assert ack["sig"]["alg"] == crypto.SM2_SM3
    receipt_sig = base64.b64decode(ack["sig"]["value"])
    assert gm_verify(creds.platform_public_key, env_mod.canonical(ack), receipt_sig)
    assert not gm_verify(creds.platform_public_key, env_mod.canonical({**ack, "id": "x"}), receipt_sig)

    # an envelope signed by some other key is refused, and the refusal says why
    intruder = gm_keypair()
    forged = _gm_signed(env_mod.build(type="delivery", sender="GMU", receiver="SZBA"), creds.key_id,
                        intruder.private_hex)
    ack = await asyncio.to_thread(raw_round_trip, port, env_mod.dumps(forged))
    assert ack["type"] == "error" and ack["payload"]["code"] == "bad_signature", ack
    assert ack["correlation_id"] == forged["id"]
