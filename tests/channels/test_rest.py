"""REST channel: signed requests from a unit's system (httpx), pull, and webhooks to a real small server."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.messaging.models import InboxMessage, OutboxMessage
from pbshare.security.clients import service as api_clients
from pbshare.security.crypto import algorithms as crypto
from tests.channels.conftest import eventually
from tests.conftest import make_user

URL = "/api/v1/exchange/messages"


@pytest.fixture
def api_client(database, settings):
    """``api_client(unit_code)`` registers the unit's system and returns a function that signs requests."""

    def _make(unit_code: str):
        with database.session() as s:
            client, key, secret_hex = api_clients.create_client(s, unit_code=unit_code, name=f"{unit_code} 系统",
                                                                alg=crypto.HMAC_SM3, data_dir=settings.resolved_data_dir)
            cid, kid = client.id, key.id

        def headers(method: str, path: str, body: bytes) -> dict[str, str]:
            h = api_clients.sign_request(method, path, body, client_id=cid, key_id=kid, alg=crypto.HMAC_SM3,
                                         secret=bytes.fromhex(secret_hex))
            return {**h, "Content-Type": "application/json"}

        return headers

    return _make


def post(client, sign, body: bytes, path: str = URL):
    return client.post(path, content=body, headers=sign("POST", path, body))


def inbox_count(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(InboxMessage))


def test_signed_post_round_trip_and_refusals(client, open_connection, api_client, database):
    unit = open_connection("rest")
    sign = api_client(unit.unit_code)
    sent = unit.envelope(payload={"x": 1})
    res = post(client, sign, env_mod.dumps(sent))
    assert res.status_code == 200, res.text
    receipt = res.json()
    assert receipt["type"] == "receipt" and receipt["correlation_id"] == sent["id"]
    assert env_mod.verify(receipt, unit.key)
    again = post(client, sign, env_mod.dumps(sent))  # same envelope, new request signature
    assert again.status_code == 200 and again.json()["payload"]["status"] == "duplicate"

    question = unit.envelope(type="request", resource="R9", payload={"q": "?"})
    answer = post(client, sign, env_mod.dumps(question), f"{URL}?wait=response").json()
    assert answer["type"] == "response" and answer["correlation_id"] == question["id"]

    forged = {**unit.envelope(), "payload": {"x": 2}}
    bad = post(client, sign, env_mod.dumps(forged))
    assert bad.status_code == 422 and bad.json()["payload"]["code"] == "bad_signature"
    assert bad.json()["correlation_id"] == forged["id"]
    broken = post(client, sign, b'{"id": "x"')
    assert broken.status_code == 422 and broken.json()["payload"]["code"] == "malformed_json"
    huge = post(client, sign, b'{"pad": "' + b"x" * env_mod.MAX_BYTES + b'"}')
    assert huge.status_code == 413 and huge.json()["payload"]["code"] == "too_large"
    assert inbox_count(database) == 2
    with database.session() as s:
        assert sorted(r.code for r in messaging.list_rejected(s)) == ["bad_signature", "malformed_json", "too_large"]


def test_a_unit_cannot_send_for_another(client, open_connection, api_client):
    unit = open_connection("rest")
    other = open_connection("rest")
    sign_other = api_client(other.unit_code)
    res = post(client, sign_other, unit.body())
    assert res.status_code == 422 and res.json()["payload"]["code"] == "wrong_caller"


def test_a_logged_in_person_cannot_post_envelopes(client, open_connection, database):
    from tests.conftest import login

    unit = open_connection("rest")
    make_user(database, "ops", ["sys_admin"])
    login(client, "ops")
    res = client.post(URL, content=unit.body(), headers={"Content-Type": "application/json"})
    assert res.status_code == 403


def test_pull_then_receipt_closes_the_delivery(client, open_connection, api_client, database, settings):
    unit = open_connection("rest")
    sign = api_client(unit.unit_code)
    with database.session() as s:
        mid = messaging.enqueue(s, connection_id=unit.connection_id, type="delivery", payload={"d": 1},
                                data_dir=settings.resolved_data_dir).id
    res = client.get(f"{URL}?limit=10", headers=sign("GET", f"{URL}?limit=10", b""))
    assert res.status_code == 200, res.text
    [env] = res.json()["items"]
    assert env_mod.verify(env, unit.key) and env["payload"] == {"d": 1}
    receipt = env_mod.sign(env_mod.receipt_for(env, sender=unit.unit_code), unit.key)
    assert post(client, sign, env_mod.dumps(receipt)).status_code == 200
    with database.session() as s:
        assert s.get(OutboxMessage, mid).state == "delivered"
    assert client.get(URL, headers=sign("GET", URL, b"")).json()["items"] == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnitWebhook:
    """The unit's own HTTP endpoint: checks the X-PB-* signature and answers with a signed receipt."""

    def __init__(self, unit, fail_first: int = 0) -> None:
        self.unit, self.fail_left, self.got = unit, fail_first, []
        app = FastAPI()

        @app.post("/pbshare/inbox")
        async def inbox(request: Request):
            body = await request.body()
            h = request.headers
            data = api_clients.string_to_sign("POST", "/pbshare/inbox", h["X-PB-Timestamp"], h["X-PB-Nonce"], body)
            if h["X-PB-Key"] != self.unit.key.key_id or not crypto.mac_verify(
                    crypto.HMAC_SM3, self.unit.key.secret, data, bytes.fromhex(h["X-PB-Signature"])):
                return JSONResponse({"error": "bad request signature"}, status_code=401)
            if self.fail_left > 0:
                self.fail_left -= 1
                return JSONResponse({"error": "busy"}, status_code=503)
            env = json.loads(body)
            self.got.append(env)
            return JSONResponse(env_mod.sign(env_mod.receipt_for(env, sender=self.unit.unit_code), self.unit.key))

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/pbshare/inbox"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


async def test_webhook_delivery_retries_then_receipt(runtime, open_connection, database, settings):
    holder = open_connection("rest", conn_settings={"url": "http://127.0.0.1:9/unused"})
    hook = UnitWebhook(holder, fail_first=1)
    try:
        with database.session() as s:
            from pbshare.exchange.connections.models import ExchangeConnection

            s.get(ExchangeConnection, holder.connection_id).settings = {"url": hook.url}
            mid = messaging.enqueue(s, connection_id=holder.connection_id, type="delivery", payload={"w": 1},
                                    data_dir=settings.resolved_data_dir).id
        await runtime.start()

        def row():
            with database.session() as s:
                m = s.get(OutboxMessage, mid)
                return m.state, m.attempts

        _state, attempts = await eventually(lambda: row()[0] == "delivered" and row())
        assert attempts == 2, "one 503, then delivered"
        assert hook.got[0]["payload"] == {"w": 1}
    finally:
        hook.stop()
