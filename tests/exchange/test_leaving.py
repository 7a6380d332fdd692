"""Leaving the sharing (退出): the administrator sees exactly what terminating a unit's connection closes,
terminates it, and the unit's next message over the socket is refused with a clear error while everything it
sent before stays readable."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from pbshare.channels.socket import send_frames
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging import service as messaging
from pbshare.security.audit.models import AuditRecord
from pbshare.security.clients import service as api_clients
from pbshare.security.crypto import algorithms as crypto
from tests.channels.conftest import channel_config, eventually, open_connection, prefix, runtime  # noqa: F401
from tests.e2e.conftest import live_server  # noqa: F401


async def start(runtime) -> int:  # noqa: F811
    await runtime.start()
    return await eventually(lambda: runtime.channels.get("socket") and runtime.channels["socket"].port)


async def test_terminated_unit_is_refused_and_its_history_kept(runtime, open_connection, database, settings,  # noqa: F811
                                                               as_user):
    leaving = open_connection("socket")
    staying = open_connection("socket")  # another unit keeps the socket listener open
    with database.session() as s:
        client, _, _ = api_clients.create_client(s, unit_code=leaving.unit_code, name="单位系统",
                                                 alg=crypto.HMAC_SM3, data_dir=settings.resolved_data_dir)
        client_id = client.id
        queued = messaging.enqueue(s, connection_id=leaving.connection_id, type="receipt", payload={"x": 1},
                                   data_dir=settings.resolved_data_dir).envelope_id
    port = await start(runtime)
    before = leaving.envelope(type="delivery", resource="R1", payload={"case_no": "(2026)粤03破1号"})
    [ack] = await send_frames("127.0.0.1", port, [env_mod.dumps(before)])
    assert ack["type"] == "receipt" and ack["payload"]["status"] == "accepted"

    admin = as_user("ops", ["sys_admin"])
    cid = leaving.connection_id
    preview = (await asyncio.to_thread(admin.get, f"/api/v1/exchange/connections/{cid}/termination")).json()
    kinds = {i["kind"]: i for i in preview["closes"]}
    assert preview["whole_unit"] is True and preview["unit_code"] == leaving.unit_code
    assert set(kinds) >= {"keys", "listener", "api_client"}
    assert kinds["keys"]["label"] == leaving.creds.key_id and kinds["api_client"]["label"] == "单位系统"
    assert any("1" in k for k in preview["kept"])  # what it sent stays readable

    unconfirmed = await asyncio.to_thread(admin.post, f"/api/v1/exchange/connections/{cid}/termination",
                                          json={"reason": "单位撤并，退出共享"})
    assert unconfirmed.status_code == 422 and unconfirmed.json()["error"]["code"] == "confirm_required"
    done = await asyncio.to_thread(admin.post, f"/api/v1/exchange/connections/{cid}/termination",
                                   json={"reason": "单位撤并，退出共享", "confirm": True})
    assert done.status_code == 200 and done.json()["done"] is True and done.json()["state"] == "terminated"

    # The listener stops serving it (restarted for the units that stay: on a new port in this test).
    await eventually(lambda: all(c[0] != cid for c in runtime._listening.get("socket", ())))
    # The next message is refused, saying why and what to do; the other unit still gets through.
    for _ in range(50):
        try:
            port = runtime.channels["socket"].port
            acks = await send_frames("127.0.0.1", port, [leaving.body(), staying.body()])
            break
        except (OSError, TypeError):  # the listener is starting again
            await asyncio.sleep(0.1)
    assert acks[0]["type"] == "error" and acks[0]["payload"]["code"] == "connection_terminated"
    assert "终止" in acks[0]["payload"]["message"] and "new connection" in acks[0]["payload"]["message_en"]
    assert acks[1]["type"] == "receipt"

    # Closed for good: keys revoked, the API client disabled, no way back to live.
    view = (await asyncio.to_thread(admin.get, f"/api/v1/exchange/connections/{cid}")).json()
    assert view["state"] == "terminated" and view["keys_revoked"] is True
    again = await asyncio.to_thread(admin.post, f"/api/v1/exchange/connections/{cid}/state", json={"to": "live"})
    assert again.status_code == 409
    # History kept and readable: what it sent, the queued message, the refusal.
    assert view["traffic"]["inbound"] == 1 and view["traffic"]["rejected"] == 1 and view["traffic"]["outbound"] == 1
    with database.session() as s:
        assert api_clients.get_client(s, client_id=client_id).is_active is False
        assert messaging.inbox_envelope(s, envelope_id=before["id"], data_dir=settings.resolved_data_dir)[
            "payload"] == {"case_no": "(2026)粤03破1号"}
        assert any(m.envelope_id == queued for m in messaging.list_outbox(s, connection_id=cid))
        [left] = s.scalars(select(AuditRecord).where(AuditRecord.action == "exchange.leave")).all()
        assert left.actor_name == "ops" and left.detail["whole_unit"] is True
        assert "api_client:单位系统" in left.detail["closed"]


def test_one_of_two_connections_leaves_the_unit_open(database, settings, open_connection):  # noqa: F811
    from pbshare.exchange.leaving import service as leaving
    from pbshare.exchange.subscriptions import service as subscriptions

    first = open_connection("socket", unit_code="LVU01")
    second = open_connection("rest", unit_code="LVU01")
    with database.session() as s:
        api_clients.create_client(s, unit_code="LVU01", name="单位系统", alg=crypto.HMAC_SM3,
                                  data_dir=settings.resolved_data_dir)
        on_socket = subscriptions.ensure_active(s, unit_code="LVU01", resource_code="801002",
                                                connection_id=first.connection_id, purpose="测试订阅", actor="t",
                                                source="office").id
        on_rest = subscriptions.ensure_active(s, unit_code="LVU01", resource_code="801002",
                                              connection_id=second.connection_id, purpose="测试订阅", actor="t",
                                              source="office").id
    with database.session() as s:
        what = leaving.preview(s, connection_id=first.connection_id)
        assert what.whole_unit is False and "api_client" not in {i.kind for i in what.closes}
        assert [i.id for i in what.closes if i.kind == "subscription"] == [on_socket]
        assert any("LVU01 rest" in k for k in what.kept)
        leaving.terminate(s, connection_id=first.connection_id, reason="改用 REST 通道",
                          data_dir=settings.resolved_data_dir)
    with database.session() as s:
        assert all(c.is_active for c in api_clients.list_clients(s))
        assert subscriptions.get_subscription(s, subscription_id=on_socket).state == "ended"
        assert subscriptions.get_subscription(s, subscription_id=on_rest).state == "active"
    with database.session() as s:  # the last one: the whole unit leaves
        what = leaving.preview(s, connection_id=second.connection_id)
        assert what.whole_unit and {"api_client", "subscription"} <= {i.kind for i in what.closes}
        leaving.terminate(s, connection_id=second.connection_id, reason="单位退出共享",
                          data_dir=settings.resolved_data_dir)
    with database.session() as s:
        assert not any(c.is_active for c in api_clients.list_clients(s))
        assert subscriptions.get_subscription(s, subscription_id=on_rest).state == "ended"



def test_a_unit_that_left_is_off_the_catalog_and_its_next_rest_call_says_when_and_whom_to_call(
        database, settings, open_connection, as_user, live_server):  # noqa: F811
    """Market regulation leaves: the confirmation lists the catalog resources it received; terminating takes it off
    their receivers (a new version, the old one kept); its system's next REST call is told it left today and whom
    to contact (403 ``unit_left``), not a bare 401."""
    import httpx

    from pbshare.catalog.resources import service as catalog
    from pbshare.core.clock import LOCAL_TZ, utcnow
    from pbshare.demo import catalog as demo_catalog

    with database.session() as s:
        demo_catalog.load_catalog(s, data_dir=settings.resolved_data_dir, database=database)
        before = catalog.get_resource(s, code="801002")
    assert "SZAMR" in before.receivers
    unit = open_connection("rest", unit_code="SZAMR")
    with database.session() as s:
        client, key, secret_hex = api_clients.create_client(s, unit_code="SZAMR", name="市场监管系统",
                                                            alg=crypto.HMAC_SM3, data_dir=settings.resolved_data_dir)
        cid, kid = client.id, key.id

    def post(body: bytes, secret: str = secret_hex, lang: str = "zh-CN") -> httpx.Response:
        path = "/api/v1/exchange/messages"
        headers = api_clients.sign_request("POST", path, body, client_id=cid, key_id=kid, alg=crypto.HMAC_SM3,
                                           secret=bytes.fromhex(secret))
        return httpx.post(live_server + path, content=body, timeout=30,
                          headers={**headers, "Content-Type": "application/json", "Accept-Language": lang})

    first = post(unit.body(type="delivery", resource="501001", payload={"n": 1}))
    assert first.status_code == 200 and first.json()["type"] == "receipt", first.text

    admin = as_user("ops", ["sys_admin"])
    preview = admin.get(f"/api/v1/exchange/connections/{unit.connection_id}/termination").json()
    receivers = {i["id"]: i for i in preview["closes"] if i["kind"] == "catalog_receiver"}
    assert set(receivers) == {"801002"}  # the one resource naming SZAMR among its receivers
    assert f"第 {before.version + 1} 版" in receivers["801002"]["detail"]
    assert "unit_state" in {i["kind"] for i in preview["closes"]}
    done = admin.post(f"/api/v1/exchange/connections/{unit.connection_id}/termination",
                      json={"reason": "机构改革，退出共享", "confirm": True})
    assert done.status_code == 200, done.text

    with database.session() as s:
        after = catalog.get_resource(s, code="801002")
        assert after.version == before.version + 1 and "SZAMR" not in after.receivers
        assert set(after.receivers) == set(before.receivers) - {"SZAMR"}
        # history kept: the earlier version still names it, and says nothing changed but the receivers
        old = catalog.document_at(s, code="801002", version=before.version)
        assert "SZAMR" in old["receivers"]
        changed = catalog.diff_versions(s, code="801002", from_version=before.version, to_version=after.version)
        assert "SZAMR" in str(changed) and "items" not in str(changed.get("changed", ""))
        [latest] = catalog.list_versions(s, code="801002")[:1]
        assert "SZAMR" in (latest.note or "") and "机构改革" in latest.note

    today = utcnow().astimezone(LOCAL_TZ).date().isoformat()
    refused = post(unit.body(type="delivery", resource="501001", payload={"n": 2}))
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "unit_left"
    assert today in error["message"] and "退出" in error["message"] and "深圳市破产事务管理署" in error["message"]
    english = post(unit.body(type="delivery", resource="501001", payload={"n": 3}), lang="en").json()["error"]
    assert f"left the personal-bankruptcy information sharing on {today}" in english["message"]
    assert "contact" in english["message"]
    # someone without the unit's key learns nothing: the bare refusal
    forged = post(unit.body(), secret="00" * 32)
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "signature_invalid"

    # on the envelope channels (socket, MQ, SOAP) the connection's refusal says the same
    with database.session() as s:
        outcome = messaging.receive(s, raw=unit.body(), channel="rest", data_dir=settings.resolved_data_dir)
        assert outcome.error is not None and outcome.error.code == "connection_terminated"
        assert today in outcome.error.message.render("zh-CN") and "退出" in outcome.error.message.render("zh-CN")
        # and everything it sent before is still there
        assert messaging.traffic(s)[unit.connection_id]["in"] == 1
