"""Request bodies are capped while they stream in, before anyone logs in: a flood costs the server nothing."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pbshare.core.pagination import PageParams
from pbshare.security.audit import log as audit_log

FLOOD = 100 * 1024 * 1024
CHUNK = 64 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def served(settings):
    """``pbshare serve`` in its own process, on the test's database, so its memory can be measured alone."""
    port = _free_port()
    env = {**os.environ, "PBSHARE_DATA_DIR": str(settings.data_dir), "PBSHARE_START_LISTENERS": "false",
           "PBSHARE_LOG_LEVEL": "WARNING"}
    if settings.database_url:
        env["PBSHARE_DATABASE_URL"] = settings.database_url
    proc = subprocess.Popen([str(Path(sys.executable).parent / "pbshare"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
    yield port, proc.pid
    proc.terminate()
    proc.wait(10)


def _read_answer(sock: socket.socket) -> tuple[int, bytes]:
    sock.settimeout(10)
    data = b""
    while True:
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                       if line.startswith(b"content-length:")), None)
        if length is not None and len(body) >= length:
            return int(head.split()[1]), body
        part = sock.recv(65536)
        if not part:
            return int(head.split()[1]), body
        data += part


def test_a_streamed_100_mb_login_is_refused_413_while_it_arrives_and_never_held(served, database):
    port, pid = served
    before = _peak_rss_kib(pid)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n" % CHUNK + b"a" * CHUNK + b"\r\n"
    sent = 0
    try:
        head = b'{"username": "nobody", "password": "'
        sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        while sent < FLOOD:  # a generator of 1600 chunks, stopped as soon as the server answers
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(chunk)
            sent += CHUNK
        else:
            sock.sendall(b'2\r\n"}\r\n0\r\n\r\n')
    except (BrokenPipeError, ConnectionResetError):
        pass
    status, body = _read_answer(sock)
    sock.close()
    assert status == 413, body[:300]
    assert b'"too_large"' in body
    assert sent < FLOOD // 4, f"the answer came only after {sent} bytes"
    grown_mib = (_peak_rss_kib(pid) - before) / 1024
    assert grown_mib < 30, f"the server grew by {grown_mib:.0f} MiB"
    with database.session() as s:
        _, logins = audit_log.search(s, f=audit_log.AuditFilter(action="auth.login"), params=PageParams())
    assert logins == 0, "no login was attempted"

    # a declared Content-Length over the limit is refused before a single body byte is sent
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % FLOOD)
    status, body = _read_answer(sock)
    sock.close()
    assert status == 413 and b'"too_large"' in body


def test_each_route_class_has_its_own_limit(settings, database):
    from pbshare.app import create_app

    small = settings.model_copy(update={"max_body_kb": 4, "max_upload_mb": 1})
    with TestClient(create_app(small, database=database)) as client:
        res = client.post("/api/v1/auth/login", content=b"x" * 5000, headers={"Accept-Language": "en",
                                                                               "Content-Type": "application/json"})
        assert res.status_code == 413
        err = res.json()["error"]
        assert err["code"] == "too_large" and "4 KiB" in err["message"] and err["detail"] == {"limit_bytes": 4096}
        zh = client.post("/api/v1/auth/login", content=b"x" * 5000, headers={"Accept-Language": "zh-CN"})
        assert "上限" in zh.json()["error"]["message"]
        # an upload of the same size is within its class (it then needs a login, not a smaller file)
        upload = client.post("/api/v1/collect/uploads", files={"file": ("a.csv", b"x" * 5000, "text/csv")})
        assert upload.status_code == 401
        too_big = client.post("/api/v1/collect/uploads", files={"file": ("a.csv", b"x" * (1024 * 1024 + 1))})
        assert too_big.status_code == 413 and "1 MiB" in too_big.json()["error"]["message"]
