"""Connections, dead letters and refusals through the API, as the office's administrator sees them."""

from __future__ import annotations

from sqlalchemy import select

from pbshare.core.clock import utcnow
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.messaging.models import OutboxMessage
from pbshare.security.audit import service as audit
from pbshare.units import service as unit_service


def add_unit(database, code: str = "FY01") -> None:
    with database.session() as s:
        unit_service.upsert_unit(s, code=code, name="测试法院", kind="court")


def test_connection_life_cycle_through_the_api(as_user, database):
    add_unit(database)
    client = as_user("ops", ["sys_admin"])
    channels = {c["name"] for c in client.get("/api/v1/exchange/channels").json()}
    assert channels >= {"rest", "amqp", "mqtt", "nats", "soap", "socket"}
    res = client.post("/api/v1/exchange/connections", json={
        "unit_code": "FY01", "channel": "socket", "name": "法院套接字", "settings": {"host": "127.0.0.1", "port": 9}})
    assert res.status_code == 201, res.text
    created = res.json()
    cid, creds = created["connection"]["id"], created["credentials"]
    assert created["connection"]["state"] == "draft" and len(creds["secret_hex"]) == 64
    listed = client.get("/api/v1/exchange/connections").json()
    assert "secret_hex" not in str(listed), "the secret is shown once, never listed"

    bad = client.post(f"/api/v1/exchange/connections/{cid}/state", json={"to": "live"})
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "bad_transition"
    assert bad.json()["error"]["detail"]["allowed"] == ["terminated", "testing"]
    live_units = []  # the units page shows a unit as connected only while it has a live connection
    for step in ("testing", "live", "suspended", "live"):
        body = {"to": step, "override_reason": "测试 / test setup"} if step == "live" else {"to": step}
        assert client.post(f"/api/v1/exchange/connections/{cid}/state", json=body).json()["state"] == step
        live_units.append(client.get("/api/v1/exchange/connections/live-units").json())
    assert live_units == [[], ["FY01"], [], ["FY01"]]
    ended = client.post(f"/api/v1/exchange/connections/{cid}/state", json={"to": "terminated", "reason": "退出共享"})
    assert ended.json()["keys_revoked"] is True
    assert client.get("/api/v1/exchange/connections/live-units").json() == []
    assert client.post(f"/api/v1/exchange/connections/{cid}/rotate-keys").status_code == 409
    with database.session() as s:
        actions = [r.action for r in s.scalars(select(audit.AuditRecord).order_by(audit.AuditRecord.seq))]
    assert actions.count("exchange.connection.state") == 5 and "exchange.connection.create" in actions


def test_test_messages_only_in_testing_and_traffic_counts(as_user, database, settings):
    add_unit(database)
    client = as_user("ops", ["sys_admin"])
    cid = client.post("/api/v1/exchange/connections", json={
        "unit_code": "FY01", "channel": "socket", "name": "x"}).json()["connection"]["id"]
    draft = client.post(f"/api/v1/exchange/connections/{cid}/test-message", json={})
    assert draft.status_code == 409 and draft.json()["error"]["code"] == "connection_not_live"
    client.post(f"/api/v1/exchange/connections/{cid}/state", json={"to": "testing"})
    sent = client.post(f"/api/v1/exchange/connections/{cid}/test-message", json={"payload": {"ping": 1}})
    assert sent.status_code == 201 and sent.json()["test"] is True
    with database.session() as s:
        try:
            messaging.enqueue(s, connection_id=cid, type="delivery", payload={}, data_dir=settings.resolved_data_dir)
            raise AssertionError("production traffic must not leave a connection in testing")
        except Exception as exc:
            assert getattr(exc, "code", "") == "testing_only"
    [row] = client.get("/api/v1/exchange/connections").json()
    assert row["traffic"]["outbound"] == 1 and row["state_label"] == "联调测试"


def test_dead_letters_and_refusals_are_visible_and_replayable(as_user, database, settings):
    add_unit(database)
    client = as_user("ops", ["sys_admin"])
    created = client.post("/api/v1/exchange/connections", json={
        "unit_code": "FY01", "channel": "socket", "name": "x"}).json()
    cid = created["connection"]["id"]
    for step in ("testing", "live"):
        client.post(f"/api/v1/exchange/connections/{cid}/state", json={"to": step, "override_reason": "测试 / test"})
    with database.session() as s:
        msg = messaging.enqueue(s, connection_id=cid, type="delivery", payload={"a": 1},
                                data_dir=settings.resolved_data_dir)
        for _ in range(messaging.MAX_ATTEMPTS):
            messaging.mark_failed(s, msg, error="ConnectionRefusedError: [Errno 111]")
        mid = msg.id
        key = env_mod.Key(key_id=created["credentials"]["key_id"], secret=b"wrong" * 8)
        forged = env_mod.sign(env_mod.build(type="delivery", sender="FY01", receiver="SZBA"), key)
        messaging.receive(s, raw=env_mod.dumps(forged), channel="socket", data_dir=settings.resolved_data_dir)
    [dead] = client.get("/api/v1/exchange/dead-letters").json()
    assert dead["id"] == mid and dead["attempts"] == messaging.MAX_ATTEMPTS and "refused" in dead["last_error"].lower()
    row = client.get(f"/api/v1/exchange/connections/{cid}").json()
    assert row["traffic"]["dead"] == 1 and row["traffic"]["rejected"] == 1
    replayed = client.post(f"/api/v1/exchange/dead-letters/{mid}/replay").json()
    assert replayed["state"] == "pending" and replayed["attempts"] == 0
    assert client.get("/api/v1/exchange/dead-letters").json() == []
    [refused] = client.get("/api/v1/exchange/rejected").json()
    assert refused["code"] == "bad_signature" and refused["connection_id"] == cid
    raw = client.get(f"/api/v1/exchange/rejected/{refused['id']}/raw").json()["raw"]
    assert forged["id"] in raw


def test_backoff_grows_then_parks(database, settings):
    add_unit(database)
    from pbshare.exchange.connections import service as connections

    with database.session() as s:
        conn, _ = connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code="FY01",
                                                channel="socket", name="x")
        connections.transition(s, connection_id=conn.id, to="testing")
        connections.transition(s, connection_id=conn.id, to="live", override_reason="测试 / test setup")
        msg = messaging.enqueue(s, connection_id=conn.id, type="delivery", payload={},
                                data_dir=settings.resolved_data_dir)
        delays = []
        for _ in range(messaging.MAX_ATTEMPTS - 1):
            messaging.mark_failed(s, msg, error="down")
            delays.append(round((msg.next_attempt_at - utcnow()).total_seconds()))
        assert msg.state == "pending"
        messaging.mark_failed(s, msg, error="down")
        assert msg.state == "dead"
    assert delays == [5, 10, 20, 40, 80], "exponential backoff from 5 s"


def test_only_administrators_manage_connections(as_user, database):
    client = as_user("handler", ["case_handler"])
    assert client.get("/api/v1/exchange/connections").status_code == 403
    assert client.get("/api/v1/exchange/dead-letters").status_code == 403


def test_outbox_row_commits_with_the_business_change(database, settings):
    """Enqueue joins the caller's transaction: roll the change back and the message is gone too."""
    add_unit(database)
    from pbshare.exchange.connections import service as connections

    with database.session() as s:
        conn, _ = connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code="FY01",
                                                channel="socket", name="x")
        connections.transition(s, connection_id=conn.id, to="testing")
        connections.transition(s, connection_id=conn.id, to="live", override_reason="测试 / test setup")
        cid = conn.id
    s = database.session_factory()
    try:
        unit_service.upsert_unit(s, code="NEW1", name="新单位", kind="other")
        messaging.enqueue(s, connection_id=cid, type="delivery", payload={"unit": "NEW1"},
                          data_dir=settings.resolved_data_dir)
        s.rollback()
    finally:
        s.close()
    with database.session() as s:
        assert s.scalars(select(OutboxMessage)).all() == []
        assert unit_service.find_unit_by_code(s, code="NEW1") is None
