"""The government sharing hub: the simulator as its own process, the platform on its govhub connection.

The platform registers 801002 in the hub's catalog; a district unit subscribed through the hub receives
the restriction the office decides (and receipts it); the platform subscribes through the hub to
natural resources' 201001 and what that unit pushes arrives in the platform's inbox and lands.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from pbshare.collect.deliveries import service as landing
from pbshare.demo import hubsim
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.cases import service as cases
from pbshare.exchange.govhub import service as govhub
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.subscriptions import service as subs
from tests.channels.conftest import channel_config, eventually, open_connection, prefix, runtime  # noqa: F401
from tests.exchange.requests_world import make_world

pytestmark = pytest.mark.services


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hub(tmp_path):
    members = tmp_path / "hub" / "members.json"
    port = _port()
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from pathlib import Path; from pbshare.demo import "
                             "hubsim; hubsim.serve(host='127.0.0.1', port=int(sys.argv[1]), members_file=Path(sys.argv[2]))",
                             str(port), str(members)], env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > end:
                raise AssertionError("the hub simulator did not start")
            time.sleep(0.2)
        yield url, members
    finally:
        proc.terminate()
        proc.wait(10)


class CallbackMember:
    """A unit whose system gives the hub a URL: the hub POSTs each envelope there, the receipt is the answer."""

    def __init__(self, url: str, members, code: str) -> None:
        self.code = code
        self.received: list[dict] = []
        self.key = env_mod.Key(key_id=f"{code}-hub-{secrets.token_hex(3)}", secret=secrets.token_bytes(32))
        member = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                env = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                member.received.append(env)
                receipt = env_mod.sign(env_mod.receipt_for(env, sender=member.code), member.key)
                body = env_mod.dumps(receipt)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                return None

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        callback = f"http://127.0.0.1:{self.server.server_port}/inbox"
        hubsim.add_member(members, code=code, key_id=self.key.key_id, secret_hex=(self.key.secret or b"").hex(),
                          callback=callback)

    def subscribe(self, url: str, resource: str) -> httpx.Response:
        env = env_mod.sign(env_mod.build(type="request", sender=self.code, receiver=hubsim.HUB,
                                         payload={"resource": resource}, resource="hub.subscribe"), self.key)
        return httpx.post(url + "/hub/v1/envelopes", content=env_mod.dumps(env), timeout=10)


class Member:
    """A unit's system that speaks to the hub (its own key, registered with the hub)."""

    def __init__(self, url: str, members, code: str) -> None:
        self.url, self.code = url, code
        self.secret = secrets.token_bytes(32)
        self.key = env_mod.Key(key_id=f"{code}-hub-{secrets.token_hex(3)}", secret=self.secret)
        hubsim.add_member(members, code=code, key_id=self.key.key_id, secret_hex=self.secret.hex())

    def send(self, type_: str, payload: dict, resource: str, correlation_id: str | None = None) -> httpx.Response:
        env = env_mod.sign(env_mod.build(type=type_, sender=self.code, receiver=hubsim.HUB, payload=payload,
                                         resource=resource, correlation_id=correlation_id), self.key)
        return httpx.post(self.url + "/hub/v1/envelopes", content=env_mod.dumps(env), timeout=10)

    def pull(self) -> list[dict]:
        ask = env_mod.sign(env_mod.build(type="request", sender=self.code, receiver=hubsim.HUB, payload={},
                                         resource="hub.pull"), self.key)
        items = httpx.post(self.url + "/hub/v1/pull", content=env_mod.dumps(ask), timeout=10).json()["items"]
        for env in items:
            assert env_mod.verify(env, self.key)  # the hub signs what it forwards with our key
        return items


async def test_a_unit_subscribed_through_the_hub_receives_pushes(hub, database, settings, runtime, open_connection):  # noqa: F811
    url, members = hub
    world = make_world(database, settings)
    side = open_connection("govhub", unit_code=govhub.HUB_UNIT, conn_settings={"url": url})
    hubsim.add_member(members, code="SZBA", key_id=side.creds.key_id, secret_hex=side.creds.secret_hex)
    district = await asyncio.to_thread(Member, url, members, "SZFTQ")  # a district government
    pnr = await asyncio.to_thread(Member, url, members, "SZPNR")  # natural resources, publishing 201001
    data_dir = settings.resolved_data_dir

    with database.session() as s:
        assert {d["code"] for d in govhub.publishable(s)} >= {"801001", "801002", "801003"}
        govhub.register_resources(s, codes=["801002"], principal=None, data_dir=data_dir)
    await runtime.start()

    def registered():
        with database.session() as s:
            return [r for r in govhub.registrations(s) if r["resource_code"] == "801002" and r["state"] == "registered"]

    await eventually(registered, timeout=20)
    catalog = httpx.get(url + "/hub/v1/catalog").json()["items"]
    assert [c["code"] for c in catalog] == ["801002"] and catalog[0]["publisher"] == "SZBA"

    res = await asyncio.to_thread(district.send, "request", {"resource": "801002"}, "hub.subscribe")
    assert res.status_code == 200 and res.json()["type"] == "receipt"
    answer = (await asyncio.to_thread(district.pull))[0]
    assert answer["type"] == "response" and answer["payload"]["status"] == "active"
    await asyncio.to_thread(district.send, "receipt", {"status": "accepted"}, "hub.subscribe", answer["id"])
    # a second unit receives by callback instead of pulling
    borough = await asyncio.to_thread(CallbackMember, url, members, "SZLGQ")
    assert (await asyncio.to_thread(borough.subscribe, url, "801002")).status_code == 200
    refused = await asyncio.to_thread(district.send, "delivery", {"x": 1}, "801002")
    assert refused.status_code == 422 and refused.json()["payload"]["code"] == "not_registered"

    with database.session() as s:
        cases.decide_restriction(s, case_id=world.case_id, restriction="限制高消费", decision_no="（演示）限-HUB-1",
                                 effective_on=date.today(), principal=None, data_dir=data_dir)

    async def pushed():
        items = await asyncio.to_thread(district.pull)
        return [e for e in items if e["type"] == "delivery"]

    got: list[dict] = []
    end = asyncio.get_running_loop().time() + 20
    while not got and asyncio.get_running_loop().time() < end:
        got = await pushed()
        await asyncio.sleep(0.3)
    assert got, "the district unit received no push"
    push = got[0]
    assert push["resource"] == "801002" and push["sender"] == hubsim.HUB
    assert push["payload"]["restriction"] == "限制高消费" and push["payload"]["origin"]["unit"] == "SZBA"
    await asyncio.to_thread(district.send, "receipt", {"status": "accepted"}, "801002", push["id"])
    status = httpx.get(url + "/hub/v1/status").json()
    delivered = [p for p in status["pushes"] if p["to"] == "SZFTQ" and p["type"] == "delivery"]
    assert delivered and delivered[0]["acked_at"] is not None

    def called_back():
        return [e for e in borough.received if e["type"] == "delivery"]

    called = (await eventually(called_back, timeout=20))[0]
    assert called["payload"]["restriction"] == "限制高消费" and env_mod.verify(called, borough.key)
    borough.server.shutdown()
    status = httpx.get(url + "/hub/v1/status").json()
    assert all(p["acked_at"] for p in status["pushes"] if p["to"] == "SZLGQ")

    # the platform's push to the hub was receipted by the hub (tracked like any subscriber's)
    def hub_acknowledged():
        with database.session() as s:
            rows = subs.deliveries(s, principal=_office(), unit_code=govhub.HUB_UNIT)
            return rows if rows and all(r.acknowledged for r in rows) else None

    await eventually(hub_acknowledged, timeout=20)

    # the other way: the platform subscribes through the hub to 201001 and receives what SZPNR pushes
    res = await asyncio.to_thread(pnr.send, "request", {"op": "register", "resources": [{"code": "201001",
                                                                                          "name": "不动产登记信息"}]},
                                  "hub.catalog")
    assert res.status_code == 200
    with database.session() as s:
        govhub.subscribe_remote(s, resource_code="201001", principal=None, data_dir=data_dir)

    def active():
        with database.session() as s:
            return [r for r in govhub.remote_subscriptions(s) if r["state"] == "active"]

    await eventually(active, timeout=20)
    res = await asyncio.to_thread(pnr.send, "delivery", {"rows": [{"owner_name": "演示·张三"}]}, "201001")
    assert res.json()["payload"]["subscribers"] == 1

    def arrived():
        with database.session() as s:
            return [i for i in messaging.pending_inbox(s, type_="delivery") if i.resource == "201001"]

    item = (await eventually(arrived, timeout=20))[0]
    assert item.sender == govhub.HUB_UNIT
    result = await asyncio.to_thread(landing.land, database, item=item)
    assert result["status"] in ("accepted", "accepted_with_warnings", "rejected"), result
    assert result.get("rows") == 1


def _office():
    from pbshare.units.principal import Principal

    return Principal(user_id="t", username="t", display_name="t", unit_id="", unit_code="SZBA", roles=frozenset(),
                     permissions=frozenset(), via="token")


def test_without_a_hub_connection_the_api_says_what_to_do(client, database, settings, as_user):
    make_world(database, settings)
    as_user("hub_admin", ["data_admin"])
    rows = client.get("/api/v1/hub/registrations").json()
    assert {r["resource_code"]: r["state"] for r in rows} == dict.fromkeys(("801001", "801002", "801003"),
                                                                           "not_registered")
    res = client.post("/api/v1/hub/registrations", json={"codes": []})
    assert res.status_code == 409 and res.json()["error"]["code"] == "no_hub_connection"
    assert "govhub" in res.json()["error"]["message"]
    res = client.post("/api/v1/hub/subscriptions", json={"resource_code": "201001"})
    assert res.status_code == 409
    as_user("hub_viewer", ["report_viewer"])
    assert client.post("/api/v1/hub/registrations", json={"codes": []}).status_code == 403
