"""TCP socket channel against a real listener: round trip, refusals kept, restart, TLS, outbound."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import ssl
import struct

import pytest
from sqlalchemy import func, select

from pbshare.channels.socket import frame, read_frame, send_frames
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.messaging.models import InboxMessage, OutboxMessage, RejectedMessage
from tests.channels.conftest import eventually


async def start(runtime) -> int:
    await runtime.start()
    return await eventually(lambda: runtime.channels.get("socket") and runtime.channels["socket"].port)


def raw_round_trip(port: int, body: bytes) -> dict:
    """What a unit's engineer would write with nothing but the standard library."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(struct.pack(">I", len(body)) + body)
        size = struct.unpack(">I", sock.recv(4, socket.MSG_WAITALL))[0]
        return json.loads(sock.recv(size, socket.MSG_WAITALL))


def count(database, model, **where) -> int:
    with database.session() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return s.scalar(stmt)


async def test_round_trip_from_a_raw_socket(runtime, open_connection, database):
    unit = open_connection("socket")
    port = await start(runtime)
    sent = unit.envelope(type="delivery", payload={"case_no": "(2026)粤03破1号", "amount": 12.5}, resource="R1")
    ack = await asyncio.to_thread(raw_round_trip, port, env_mod.dumps(sent))
    assert ack["type"] == "receipt" and ack["correlation_id"] == sent["id"]
    assert ack["payload"]["status"] == "accepted"
    assert env_mod.verify(ack, unit.key), "the platform signs its receipt with the connection's key"
    with database.session() as s:
        stored = messaging.inbox_envelope(s, envelope_id=sent["id"], data_dir=runtime.config.data_dir)
    assert stored["payload"] == {"case_no": "(2026)粤03破1号", "amount": 12.5}
    from pbshare.security.audit import service as audit

    with database.session() as s:
        [rec] = s.scalars(select(audit.AuditRecord).where(audit.AuditRecord.action == "exchange.receive")).all()
        assert rec.detail["envelopes"] == [sent["id"]] and rec.detail["accepted"] == 1
        assert audit.verify(s).ok


async def test_encrypted_payload_is_decrypted_into_the_inbox(runtime, open_connection, database):
    unit = open_connection("socket", encrypt=True)
    port = await start(runtime)
    sent = unit.envelope(payload={"secret": "保密"}, encrypt=True)
    assert "payload" not in sent and sent["enc"]["alg"] == "SM4-GCM"
    [ack] = await send_frames("127.0.0.1", port, [env_mod.dumps(sent)])
    assert ack["type"] == "receipt"
    with database.session() as s:
        assert messaging.inbox_envelope(s, envelope_id=sent["id"], data_dir=runtime.config.data_dir)["payload"] == {
            "secret": "保密"}


async def test_refusals_are_answered_and_kept(runtime, open_connection, database):
    unit = open_connection("socket")
    port = await start(runtime)
    good = unit.envelope()
    forged = {**good, "payload": {"n": 999}}  # changed after signing
    stale = unit.envelope(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    acks = await send_frames("127.0.0.1", port, [env_mod.dumps(forged), b"{not json", env_mod.dumps(stale),
                                                 env_mod.dumps(good), env_mod.dumps(good)])
    assert [a["type"] for a in acks] == ["error", "error", "error", "receipt", "receipt"]
    assert acks[0]["payload"]["code"] == "bad_signature" and acks[0]["correlation_id"] == good["id"]
    assert acks[1]["payload"]["code"] == "malformed_json"
    assert acks[2]["payload"]["code"] == "stale" and acks[2]["payload"]["answers"] == stale["id"]
    assert acks[4]["payload"]["status"] == "duplicate"
    assert count(database, InboxMessage) == 1
    with database.session() as s:
        kept = {r.code: r for r in messaging.list_rejected(s)}
        assert set(kept) == {"bad_signature", "malformed_json", "stale"}
        assert messaging.rejected_raw(s, rejected_id=kept["malformed_json"].id,
                                      data_dir=runtime.config.data_dir) == "{not json"


async def test_oversized_frame_is_refused_and_kept(runtime, open_connection, database):
    open_connection("socket")
    port = await start(runtime)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    big = b'{"id":"' + b"x" * (200 * 1024) + b'"}'
    writer.write(frame(big))
    await writer.drain()
    body, _ = await read_frame(reader, 1 << 20)
    err = json.loads(body)
    assert err["type"] == "error" and err["payload"]["code"] == "too_large"
    assert await reader.read() == b"", "the listener closes a stream it cannot trust"
    writer.close()
    with database.session() as s:
        [row] = messaging.list_rejected(s)
        assert row.code == "too_large" and row.size == len(big) and row.truncated


async def test_connection_states_gate_traffic(runtime, open_connection, database):
    testing = open_connection("socket", state="testing")
    ended = open_connection("socket", state="terminated")
    port = await start(runtime)
    acks = await send_frames("127.0.0.1", port, [testing.body(), testing.body(test=True), ended.body()])
    assert acks[0]["payload"]["code"] == "testing_only"
    assert acks[1]["type"] == "receipt"
    assert acks[2]["payload"]["code"] == "connection_terminated"
    assert "终止" in acks[2]["payload"]["message"]
    assert count(database, InboxMessage, test=True) == 1 and count(database, InboxMessage, test=False) == 0


async def test_heartbeat_and_idle_timeout(runtime, open_connection):
    open_connection("socket")
    runtime.config.idle_timeout = 0.5
    port = await start(runtime)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(frame(b'{"type":"heartbeat"}'))
    body, _ = await read_frame(reader, 1024)
    assert json.loads(body) == {"type": "heartbeat"}
    assert await asyncio.wait_for(reader.read(), timeout=5) == b"", "an idle connection is closed"
    writer.close()


async def test_listener_restart_mid_stream_loses_nothing_and_duplicates_nothing(runtime, open_connection, database):
    unit = open_connection("socket")
    port = await start(runtime)
    bodies = [unit.body(payload={"i": i}) for i in range(60)]
    first = await send_frames("127.0.0.1", port, bodies[:30])
    assert all(a["type"] == "receipt" for a in first)
    await runtime.stop()  # the listener goes away mid-stream
    with pytest.raises(OSError):
        await send_frames("127.0.0.1", port, bodies[30:], timeout=2)
    runtime.config.socket_port = port
    await runtime.start()
    await eventually(lambda: runtime.channels["socket"].port)
    # The unit resends everything it has no ack for (here: all, to be safe): nothing is doubled.
    again = await send_frames("127.0.0.1", port, bodies)
    assert all(a["type"] == "receipt" for a in again)
    assert count(database, InboxMessage) == 60


def make_certs(tmp_path):
    """A CA, a server certificate and a client certificate, made in the test."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("test CA")).issuer_name(name("test CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    paths = {"ca": tmp_path / "ca.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for who, serial in (("server", 2), ("client", 3)):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(name(who)).issuer_name(ca.subject)
                   .public_key(key.public_key()).serial_number(serial).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1)))
        if who == "server":
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(
                "127.0.0.1"))]), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        paths[who] = tmp_path / f"{who}.pem"
        paths[who + "_key"] = tmp_path / f"{who}.key"
        paths[who].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        paths[who + "_key"].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return paths


async def test_mutual_tls(runtime, open_connection, tmp_path):
    unit = open_connection("socket")
    certs = make_certs(tmp_path)
    runtime.config.socket_tls_cert, runtime.config.socket_tls_key = str(certs["server"]), str(certs["server_key"])
    runtime.config.socket_tls_ca = str(certs["ca"])
    port = await start(runtime)
    ctx = ssl.create_default_context(cafile=str(certs["ca"]))
    ctx.load_cert_chain(str(certs["client"]), str(certs["client_key"]))
    [ack] = await send_frames("127.0.0.1", port, [unit.body()], ssl_context=ctx)
    assert ack["type"] == "receipt"
    anonymous = ssl.create_default_context(cafile=str(certs["ca"]))
    with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
        await send_frames("127.0.0.1", port, [unit.body()], ssl_context=anonymous, timeout=5)


async def test_outbound_delivery_gets_a_receipt_and_failures_become_dead_letters(runtime, open_connection, database,
                                                                              settings):
    """The unit's system is a small real socket server that answers with a signed receipt."""
    holder: dict = {}

    async def unit_system(reader, writer):
        body, _ = await read_frame(reader, 1 << 20)
        env = json.loads(body)
        holder["got"] = env
        unit = holder["unit"]
        assert env_mod.verify(env, unit.key)
        receipt = env_mod.sign(env_mod.receipt_for(env, sender=unit.unit_code), unit.key)
        writer.write(frame(env_mod.dumps(receipt)))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(unit_system, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    unit = open_connection("socket", conn_settings={"host": "127.0.0.1", "port": port})
    holder["unit"] = unit
    dead_end = socket.socket()
    dead_end.bind(("127.0.0.1", 0))
    closed_port = dead_end.getsockname()[1]
    dead_end.close()
    broken = open_connection("socket", conn_settings={"host": "127.0.0.1", "port": closed_port})
    with database.session() as s:
        ok = messaging.enqueue(s, connection_id=unit.connection_id, type="delivery", payload={"x": 1},
                               data_dir=settings.resolved_data_dir).id
        bad = messaging.enqueue(s, connection_id=broken.connection_id, type="delivery", payload={"x": 2},
                                data_dir=settings.resolved_data_dir).id
    await runtime.start()

    def state(mid):
        with database.session() as s:
            return s.get(OutboxMessage, mid).state

    await eventually(lambda: state(ok) == "delivered")
    assert holder["got"]["payload"] == {"x": 1}
    await eventually(lambda: state(bad) == "dead")
    with database.session() as s:
        [dead] = messaging.dead_letters(s)
        assert dead.id == bad and dead.attempts == 3 and "ConnectionRefused" in (dead.last_error or "")
        messaging.replay(s, outbox_id=bad)
    assert state(bad) == "pending"
    server.close()
    assert count(database, RejectedMessage) == 0
