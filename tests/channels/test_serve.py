"""`pbshare serve`: the app's lifespan starts the listeners for connections in testing or live."""

from __future__ import annotations

import json
import socket
import struct
import time

from fastapi.testclient import TestClient

from pbshare.config import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_lifespan_starts_the_socket_listener(settings, database, open_connection, monkeypatch, prefix):
    from pbshare.app import create_app

    unit = open_connection("socket")
    port = free_port()
    monkeypatch.setenv("PBSHARE_SOCKET_PORT", str(port))
    monkeypatch.setenv("PBSHARE_SOCKET_HOST", "127.0.0.1")
    monkeypatch.setenv("PBSHARE_CHANNEL_PREFIX", prefix)
    # Settings read the environment when made, as `pbshare serve` does at start: make them after setenv.
    served = Settings(data_dir=settings.data_dir, database_url=settings.database_url, start_listeners=True)
    app = create_app(served, database=database)
    with TestClient(app):
        body = unit.body(payload={"via": "serve"})
        # Wait for the listener itself: connecting to a free ephemeral port in a retry loop can make the
        # kernel pick that very port as the source and connect the socket to itself.
        runtime = app.state.channels
        for _ in range(200):
            if "socket" in runtime.channels and runtime.channel("socket").port == port:
                break
            time.sleep(0.05)
        sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        assert sock.getsockname() != sock.getpeername()
        with sock:
            sock.sendall(struct.pack(">I", len(body)) + body)
            size = struct.unpack(">I", sock.recv(4, socket.MSG_WAITALL))[0]
            ack = json.loads(sock.recv(size, socket.MSG_WAITALL))
        assert ack["type"] == "receipt" and ack["payload"]["status"] == "accepted"
    # the listener stops with the app
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        raise AssertionError("the listener should have stopped with the app")
    except OSError:
        pass
