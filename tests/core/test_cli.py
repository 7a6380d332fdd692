"""The command line a new user runs: init, demo, user add/passwd, db upgrade, version."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import login

PBSHARE = str(Path(sys.executable).parent / "pbshare")


def run(settings, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PBSHARE_DATA_DIR": str(settings.data_dir), "COLUMNS": "200"}
    if settings.database_url:
        env["PBSHARE_DATABASE_URL"] = settings.database_url
    res = subprocess.run([PBSHARE, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert res.returncode == 0, res.stdout + res.stderr
    return res


def test_init_creates_admin_once_with_one_time_password(settings, client):
    first = run(settings, "init")
    match = re.search(r"one-time password: (\S+)", first.stdout)
    assert match, first.stdout
    me = login(client, "admin", match.group(1))
    assert me["must_change_password"] is True and "sys_admin" in me["roles"]
    second = run(settings, "init")
    assert "one-time password" not in second.stdout
    assert "users exist" in second.stdout


def test_demo_and_user_commands(settings, client):
    out = run(settings, "demo", "--cases", "5").stdout
    assert "cases: 5" in out
    again = run(settings, "demo", "--cases", "5").stdout
    assert "cases: 0" in again  # idempotent: nothing new the second time
    added = run(settings, "user", "add", "zhang", "--name", "张三", "--role", "case_handler").stdout
    one_time = re.search(r"one-time password: (\S+)", added).group(1)
    assert login(client, "zhang", one_time)["must_change_password"] is True
    bad = run(settings, "user", "add", "li", "--name", "李四", "--role", "sys_admin", "--role", "auditor",
              check=False)
    assert bad.returncode == 2
    assert "三员分立" in bad.stderr and "separation of duties" in bad.stderr
    assert "[separation_of_duties]" in bad.stderr  # the error code survives Rich's markup
    reset = run(settings, "user", "passwd", "zhang").stdout
    assert re.search(r"one-time password: (\S+)", reset)


def test_version_and_db_current(settings):
    assert run(settings, "version").stdout.startswith("pbshare ")
    run(settings, "db", "upgrade")
    out = run(settings, "db", "current").stdout
    current = re.search(r"current: +(.*)", out).group(1)
    expected = re.search(r"expected: +(.*)", out).group(1)
    assert current == expected and "security_" in current
