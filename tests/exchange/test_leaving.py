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

