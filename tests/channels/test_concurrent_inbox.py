"""Many units' requests at once over REST and SOAP (a real server, real concurrent clients): each is stored
exactly once and answered with its own signed receipt after the commit it shares with the others; a bad
request in the crowd is refused alone; the audit names every envelope and the chain stays intact."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from xml.sax.saxutils import escape

import httpx
import pytest
from sqlalchemy import func, select

from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging.models import InboxMessage
from pbshare.security.audit import service as audit
from pbshare.security.audit.models import AuditRecord
from pbshare.security.clients import service as api_clients
from pbshare.security.crypto import algorithms as crypto
from tests.channels.test_soap import LiveServer, free_port

URL = "/api/v1/exchange/messages"
SOAP = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
        '"http://schemas.xmlsoap.org/soap/envelope/" xmlns:ex="urn:pbshare:exchange"><soapenv:Body>'
        '<ex:SubmitJson><ex:envelope>{}</ex:envelope></ex:SubmitJson></soapenv:Body></soapenv:Envelope>')


@pytest.fixture
def live(app):
    port = free_port()
    server = LiveServer(app, port)
    yield f"http://127.0.0.1:{port}"
    server.stop()


def signer(database, settings, unit_code: str):
    with database.session() as s:
        client, key, secret_hex = api_clients.create_client(s, unit_code=unit_code, name=f"{unit_code} 系统",
                                                            alg=crypto.HMAC_SM3, data_dir=settings.resolved_data_dir)
        cid, kid = client.id, key.id

    def headers(body: bytes, path: str = URL) -> dict[str, str]:
        return {**api_clients.sign_request("POST", path, body, client_id=cid, key_id=kid, alg=crypto.HMAC_SM3,
                                           secret=bytes.fromhex(secret_hex)), "Content-Type": "application/json"}

    return headers


def inbox_ids(database) -> list[str]:
    with database.session() as s:
        return list(s.scalars(select(InboxMessage.envelope_id)))


def audited_envelopes(database, channel: str) -> tuple[set[str], bool]:
    """Envelope ids named by the channel's receive records, and whether the audit chain checks."""
    with database.session() as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.action == "exchange.receive")).all()
        named = {e for r in rows if r.detail.get("channel") == channel for e in r.detail.get("envelopes", [])}
        return named, audit.verify(s).ok


def test_concurrent_rest_posts_are_stored_once_each_with_their_own_receipt(live, open_connection, database,
                                                                           settings):
    units = [open_connection("rest") for _ in range(4)]
    sign = {u.unit_code: signer(database, settings, u.unit_code) for u in units}
    sent = [(u, u.envelope(payload={"n": i, "姓名": "演示·张三"})) for i in range(12) for u in units]
    forged = {**units[0].envelope(), "payload": {"n": "changed after signing"}}
    # A unit's client that signs its request well but sends another unit's envelope.
    other = units[2].envelope()

    def post(body: bytes, caller: str) -> httpx.Response:
        return httpx.post(live + URL, content=body, headers=sign[caller](body), timeout=60)

    jobs = [(env_mod.dumps(e), u.unit_code) for u, e in sent]
    jobs += [(env_mod.dumps(forged), units[0].unit_code), (env_mod.dumps(other), units[1].unit_code)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda job: post(*job), jobs))

    for (unit, env), res in zip(sent, answers, strict=False):
        assert res.status_code == 200, res.text
        receipt = res.json()
        assert receipt["type"] == "receipt" and receipt["correlation_id"] == env["id"]
        assert receipt["payload"]["status"] == "accepted" and env_mod.verify(receipt, unit.key)
    bad, wrong = answers[-2], answers[-1]
    assert bad.status_code == 422 and bad.json()["payload"]["code"] == "bad_signature"
    assert wrong.status_code == 422 and wrong.json()["payload"]["code"] == "wrong_caller"
    stored = inbox_ids(database)
    assert sorted(stored) == sorted(e["id"] for _, e in sent), "each stored exactly once, nothing else"

    # The same envelopes again, all at once: answered "duplicate", nothing stored twice.
    with ThreadPoolExecutor(8) as pool:
        again = list(pool.map(lambda job: post(*job), jobs[:len(sent)]))
    assert {r.json()["payload"]["status"] for r in again} == {"duplicate"}
    assert len(inbox_ids(database)) == len(sent)

    named, chain_ok = audited_envelopes(database, "rest")
    assert {e["id"] for _, e in sent} <= named and chain_ok


def test_concurrent_soap_calls_are_stored_once_each(live, open_connection, database):
    unit = open_connection("soap")
    sent = [unit.envelope(payload={"n": i}) for i in range(24)]

    def call(env: dict) -> httpx.Response:
        body = SOAP.format(escape(env_mod.dumps(env).decode())).encode()
        return httpx.post(live + "/ws/exchange", content=body, timeout=60,
                          headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"SubmitJson"'})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, sent))
    for env, res in zip(sent, answers, strict=True):
        assert res.status_code == 200 and "<tns:status>accepted</tns:status>" in res.text, res.text
        start = res.text.index("<tns:envelope>") + len("<tns:envelope>")
        receipt = json.loads(res.text[start:res.text.index("</tns:envelope>")].replace("&quot;", '"')
                             .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
        assert receipt["correlation_id"] == env["id"] and env_mod.verify(receipt, unit.key)
    assert sorted(inbox_ids(database)) == sorted(e["id"] for e in sent)
    named, chain_ok = audited_envelopes(database, "soap")
    assert {e["id"] for e in sent} <= named and chain_ok


def test_inbox_count_is_exact_after_concurrent_duplicates(live, open_connection, database, settings):
    """Eight clients send the same envelope at the same moment: one stored, every one answered."""
    unit = open_connection("rest")
    sign = signer(database, settings, unit.unit_code)
    body = unit.body(payload={"once": True})
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: httpx.post(live + URL, content=body, headers=sign(body), timeout=60),
                                range(8)))
    statuses = sorted(r.json()["payload"]["status"] for r in answers)
    assert statuses == ["accepted"] + ["duplicate"] * 7
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(InboxMessage)) == 1


def test_a_batched_request_answers_each_envelope_in_order(client, open_connection, database, settings):
    unit = open_connection("rest")
    sign = signer(database, settings, unit.unit_code)
    sent = [unit.envelope(payload={"n": i}) for i in range(30)]
    forged = {**unit.envelope(), "payload": {"n": "changed after signing"}}
    batch = [*sent[:10], forged, sent[3], *sent[10:]]  # a forged one and a repeat in the middle
    body = json.dumps({"envelopes": batch}, ensure_ascii=False).encode()
    res = client.post(f"{URL}/batch", content=body, headers=sign(body, f"{URL}/batch"))
    assert res.status_code == 200, res.text
    answer = res.json()
    assert (answer["accepted"], answer["duplicate"], answer["rejected"]) == (30, 1, 1)
    items = answer["items"]
    assert len(items) == len(batch)
    for env, reply in zip(batch, items, strict=True):
        assert reply["correlation_id"] == env["id"] and env_mod.verify(reply, unit.key)
    assert items[10]["type"] == "error" and items[10]["payload"]["code"] == "bad_signature"
    assert items[11]["payload"]["status"] == "duplicate"
    assert sorted(inbox_ids(database)) == sorted(e["id"] for e in sent)

    for bad in (b'{"envelopes": []}', b'[1, 2]', b'{"envelopes": "x"}', b'{"envelopes": [NaN]}'):
        refused = client.post(f"{URL}/batch", content=bad, headers=sign(bad, f"{URL}/batch"))
        assert refused.status_code == 422, bad
        assert refused.json()["payload"]["code"] in ("bad_batch", "bad_number"), refused.text
    assert len(inbox_ids(database)) == len(sent)


async def test_several_socket_connections_at_once_each_get_their_own_receipts(runtime, open_connection, database):
    from pbshare.channels.socket import send_frames
    from tests.channels.conftest import eventually

    units = [open_connection("socket") for _ in range(3)]
    await runtime.start()
    port = await eventually(lambda: runtime.channels.get("socket") and runtime.channels["socket"].port)
    sent = {u.unit_code: [u.envelope(payload={"n": i}) for i in range(25)] for u in units}
    acks = await asyncio.gather(*(send_frames("127.0.0.1", port, [env_mod.dumps(e) for e in sent[u.unit_code]])
                                  for u in units for _ in range(2)))  # each unit on two connections, same frames
    for k, unit in enumerate(units):
        for copy in (acks[2 * k], acks[2 * k + 1]):
            assert [a["correlation_id"] for a in copy] == [e["id"] for e in sent[unit.unit_code]]
            assert all(env_mod.verify(a, unit.key) for a in copy)
        statuses = [a["payload"]["status"] for a in acks[2 * k] + acks[2 * k + 1]]
        assert statuses.count("accepted") == 25 and statuses.count("duplicate") == 25, "stored once each"
    assert sorted(inbox_ids(database)) == sorted(e["id"] for es in sent.values() for e in es)
    named, chain_ok = audited_envelopes(database, "socket")
    assert {e["id"] for es in sent.values() for e in es} <= named and chain_ok
