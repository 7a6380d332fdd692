"""SOAP channel: zeep against our own WSDL on a real server; hostile XML refused and kept."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
import uvicorn
import zeep
from spyne.server.wsgi import WsgiApplication
from sqlalchemy import func, select

from pbshare.channels.soap import build_application, dict_to_envelope
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.messaging.models import InboxMessage, OutboxMessage
from tests.channels.conftest import eventually


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, app, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live(app):
    port = free_port()
    server = LiveServer(app, port)
    yield f"http://127.0.0.1:{port}"
    server.stop()


def inbox_count(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(InboxMessage))


def test_wsdl_describes_typed_operations(live):
    wsdl = httpx.get(f"{live}/ws/exchange?wsdl").text
    for op in ("Submit", "SubmitJson", "Query", "urn:pbshare:exchange", "sig_value"):
        assert op in wsdl
    assert f"{live}/ws/exchange" in wsdl, "the service address points back at us"


def test_zeep_submit_query_and_refusals(live, open_connection, database):
    unit = open_connection("soap")
    client = zeep.Client(f"{live}/ws/exchange?wsdl")
    sent = unit.envelope(payload={"姓名": "演示·张三"})
    reply = client.service.Submit(envelope=dict_to_envelope(sent))
    assert reply.status == "accepted"
    receipt = env_mod.parse(reply.envelope)
    assert receipt["type"] == "receipt" and receipt["correlation_id"] == sent["id"] and env_mod.verify(receipt, unit.key)
    assert client.service.Submit(envelope=dict_to_envelope(sent)).status == "duplicate"

    question = unit.envelope(type="request", resource="RES01", payload={"q": "ping"})
    answer = client.service.Query(envelope=dict_to_envelope(question))
    response = env_mod.parse(answer.envelope)
    assert response["type"] == "response" and response["correlation_id"] == question["id"]
    assert env_mod.verify(response, unit.key)

    forged = dict_to_envelope(unit.envelope())
    forged["payload_json"] = '{"n": 2}'
    bad = client.service.Submit(envelope=forged)
    assert bad.status == "rejected" and bad.code == "bad_signature"
    assert env_mod.parse(bad.envelope)["type"] == "error"
    via_json = client.service.SubmitJson(envelope="{broken")
    assert via_json.status == "rejected" and via_json.code == "malformed_json"
    assert inbox_count(database) == 2
    with database.session() as s:
        assert {r.code for r in messaging.list_rejected(s)} == {"bad_signature", "malformed_json"}


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:x="urn:pbshare:exchange">
<soapenv:Body><x:SubmitJson><x:envelope>&lol3;</x:envelope></x:SubmitJson></soapenv:Body></soapenv:Envelope>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:x="urn:pbshare:exchange">
<soapenv:Body><x:SubmitJson><x:envelope>&xxe;</x:envelope></x:SubmitJson></soapenv:Body></soapenv:Envelope>"""


def test_hostile_and_broken_xml_get_a_fault_and_are_kept(live, database, settings):
    url = f"{live}/ws/exchange"
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "SubmitJson"}
    results = {}
    for name, body in (("bomb", BOMB), ("xxe", XXE), ("broken", b"<soapenv:Envelope><unclosed>"),
                       ("huge", b"<a>" + b"x" * (env_mod.MAX_BYTES + 10) + b"</a>")):
        res = httpx.post(url, content=body, headers=headers, timeout=30)
        assert res.status_code == 500 and "Fault" in res.text, name
        results[name] = res.text
    assert "xml_forbidden" in results["bomb"] and "xml_forbidden" in results["xxe"]
    assert "root:" not in results["xxe"], "no file content leaks"
    assert "malformed_xml" in results["broken"] and "too_large" in results["huge"]
    with database.session() as s:
        kept = messaging.list_rejected(s)
        assert sorted(r.code for r in kept) == ["malformed_xml", "too_large", "xml_forbidden", "xml_forbidden"]
        xxe = next(r for r in kept if r.code == "xml_forbidden" and "passwd" in messaging.rejected_raw(
            s, rejected_id=r.id, data_dir=settings.resolved_data_dir))
        assert xxe.channel == "soap"


def test_server_restart_mid_stream(app, open_connection, database):
    """The unit resends what got no reply while the server was down; nothing is doubled."""
    unit = open_connection("soap")
    port = free_port()
    server = LiveServer(app, port)
    client = zeep.Client(f"http://127.0.0.1:{port}/ws/exchange?wsdl")
    envs = [unit.envelope(payload={"i": i}) for i in range(20)]
    for env in envs[:10]:
        assert client.service.Submit(envelope=dict_to_envelope(env)).status == "accepted"
    server.stop()
    with pytest.raises(Exception):  # noqa: B017 - any transport error: the server is down
        client.service.Submit(envelope=dict_to_envelope(envs[10]))
    server = LiveServer(app, port)
    try:
        statuses = [client.service.Submit(envelope=dict_to_envelope(env)).status for env in envs]
    finally:
        server.stop()
    assert statuses == ["duplicate"] * 10 + ["accepted"] * 10
    assert inbox_count(database) == 20


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


async def test_outbound_call_to_a_units_soap_service(runtime, open_connection, database, settings):
    """The unit's Web Service is a small real spyne server in the test; it answers with a signed receipt."""
    holder: dict = {}

    def unit_handler(raw: bytes, peer, want_response: bool) -> dict:
        env = env_mod.parse(raw)
        holder["got"] = env
        ok = env_mod.verify(env, holder["unit"].key)
        answer = env_mod.sign(env_mod.receipt_for(env, sender=holder["unit"].unit_code), holder["unit"].key)
        return {"status": "accepted" if ok else "rejected", "envelope": env_mod.dumps(answer).decode()}

    wsgi = WsgiApplication(build_application(unit_handler))
    httpd = make_server("127.0.0.1", 0, wsgi, handler_class=QuietHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    wsdl = f"http://127.0.0.1:{httpd.server_port}/?wsdl"
    unit = open_connection("soap", conn_settings={"wsdl": wsdl})
    holder["unit"] = unit
    with database.session() as s:
        mid = messaging.enqueue(s, connection_id=unit.connection_id, type="delivery", payload={"d": "交付"},
                                data_dir=settings.resolved_data_dir).id
    try:
        await runtime.start()

        def state():
            with database.session() as s:
                return s.get(OutboxMessage, mid).state

        await eventually(lambda: state() == "delivered")
        assert holder["got"]["payload"] == {"d": "交付"}
        health = await runtime.channel("soap").health(type("C", (), {"settings": {"wsdl": wsdl}})())
        assert health.ok
    finally:
        await asyncio.to_thread(httpd.shutdown)
