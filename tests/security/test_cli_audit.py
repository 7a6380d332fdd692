"""What the command line does to users is in the audit log, as it is from the API; ``connection add``
shows a payload key only for a connection that encrypts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from sqlalchemy import select

from pbshare.security.audit import service as audit
from pbshare.security.audit.service import AuditRecord
from pbshare.units import service as unit_service
from tests.conftest import PASSWORD, login


def test_user_add_and_passwd_from_the_cli_are_audited(cli, database, client):
    added = cli("user", "add", "clerk", "--name", "书记员", "--role", "case_handler")
    assert added.exit_code == 0, added.output
    changed = cli("user", "passwd", "clerk", "--password", PASSWORD)
    assert changed.exit_code == 0, changed.output
    with database.session() as s:
        rows = list(s.scalars(select(AuditRecord).where(AuditRecord.action.in_(["user.create", "user.reset_password"]))
                              .order_by(AuditRecord.seq)))
        assert [(r.action, r.detail["username"], r.detail["via"]) for r in rows] == [
            ("user.create", "clerk", "cli"), ("user.reset_password", "clerk", "cli")]
        assert all(r.actor_name == audit.cli_actor() for r in rows)
        assert PASSWORD not in str([r.detail for r in rows])
        assert audit.verify(s).ok
    assert login(client, "clerk")["username"] == "clerk"


def test_connection_add_shows_a_payload_key_only_when_it_encrypts(cli, database):
    with database.session() as s:
        unit_service.upsert_unit(s, code="SZPNR", name="不动产登记中心", kind="natural_resources")
    plain = cli("connection", "add", "--unit", "SZPNR", "--channel", "rest", "--name", "明文",
                "--setting", "url=http://127.0.0.1:9/in")
    assert plain.exit_code == 0, plain.output
    assert "secret_hex" in plain.output and "enc_key_hex" not in plain.output
    sealed = cli("connection", "add", "--unit", "SZPNR", "--channel", "rest", "--name", "加密", "--encrypt",
                 "--setting", "url=http://127.0.0.1:9/in")
    assert sealed.exit_code == 0, sealed.output
    assert "enc_key_hex" in sealed.output


def test_serve_on_the_loopback_says_where_the_socket_listener_binds(tmp_path):
    """A real ``pbshare serve --host 127.0.0.1``: its startup log names the socket listener's wider address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PBSHARE_DATA_DIR": str(tmp_path), "PBSHARE_LOG_JSON": "false"}
    env.pop("PBSHARE_DATABASE_URL", None)
    env.pop("PBSHARE_SOCKET_HOST", None)
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from pbshare.cli import app; sys.exit(app())",
                             "serve", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line:
                break
            lines.append(line)
            if "socket listener binds" in line or "Uvicorn running" in line:
                break
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    said = [line for line in lines if "socket listener binds" in line]
    assert said, "".join(lines)
    assert "0.0.0.0:7070" in said[0] and "127.0.0.1" in said[0]
