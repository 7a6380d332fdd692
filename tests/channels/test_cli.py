"""The command line as an operator and a unit's engineer use it: real processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging import service as messaging
from pbshare.units import service as unit_service
from tests.channels.conftest import eventually


def pbshare(settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PBSHARE_DATA_DIR": str(settings.data_dir), "COLUMNS": "200"}
    if settings.database_url:
        env["PBSHARE_DATABASE_URL"] = settings.database_url
    return subprocess.run([str(Path(sys.executable).parent / "pbshare"), *args], capture_output=True, text=True, env=env,
                          input=stdin, timeout=60)


async def test_connection_life_cycle_and_socket_send(runtime, database, settings, tmp_path):

    with database.session() as s:
        unit_service.upsert_unit(s, code="CLIU", name="命令行测试单位", kind="other")
    out = await asyncio.to_thread(pbshare, settings, "connection", "add", "--unit", "CLIU", "--channel", "socket",
                                  "--name", "CLI socket")
    assert out.returncode == 0, out.stderr
    cid = re.search(r"created\S* (\S+)", out.stdout).group(1)
    creds = dict(re.findall(r"^(\w+): (\S+)$", out.stdout, re.M))
    res = await asyncio.to_thread(pbshare, settings, "connection", "state", cid, "testing")
    assert res.returncode == 0 and "→ testing" in res.stdout
    gated = await asyncio.to_thread(pbshare, settings, "connection", "state", cid, "live")
    assert gated.returncode == 2 and "joint test" in gated.stderr  # no passed joint-test report yet
    res = await asyncio.to_thread(pbshare, settings, "connection", "state", cid, "live",
                                  "--override-reason", "命令行测试 / CLI test")
    assert res.returncode == 0 and "→ live" in res.stdout
    bad = await asyncio.to_thread(pbshare, settings, "connection", "state", cid, "draft")
    assert bad.returncode == 2 and "cannot go from live to draft" in bad.stderr

    await runtime.start()
    port = await eventually(lambda: runtime.channels.get("socket") and runtime.channels["socket"].port)
    key = env_mod.Key(key_id=creds["key_id"], secret=bytes.fromhex(creds["secret_hex"]))
    good = env_mod.sign(env_mod.build(type="delivery", sender="CLIU", receiver="SZBA", payload={"a": 1}), key)
    forged = {**good, "payload": {"a": 2}}
    file = tmp_path / "envelopes.jsonl"
    file.write_text(f"{json.dumps(good, ensure_ascii=False)}\n{json.dumps(forged)}\n", encoding="utf-8")
    sent = await asyncio.to_thread(pbshare, settings, "socket", "send", "127.0.0.1", str(port), str(file))
    assert sent.returncode == 1, "an error ack makes the exit status non-zero"
    assert '"type": "receipt"' in sent.stdout and '"bad_signature"' in sent.stdout

    listing = await asyncio.to_thread(pbshare, settings, "connection", "list")
    row = next(line for line in listing.stdout.splitlines() if cid[:8] in line)
    assert "live" in row and "CLIU" in row


async def test_deadletter_list_and_replay(runtime, open_connection, database, settings):
    unit = open_connection("socket", conn_settings={"host": "127.0.0.1", "port": 9})
    with database.session() as s:
        mid = messaging.enqueue(s, connection_id=unit.connection_id, type="delivery", payload={},
                                data_dir=settings.resolved_data_dir).id
    await runtime.start()

    def dead():
        with database.session() as s:
            return [m.id for m in messaging.dead_letters(s)]

    await eventually(lambda: dead() == [mid])
    await runtime.stop()
    listed = await asyncio.to_thread(pbshare, settings, "deadletter", "list")
    assert mid in listed.stdout and "dead" in listed.stdout
    replayed = await asyncio.to_thread(pbshare, settings, "deadletter", "replay", mid)
    assert replayed.returncode == 0
    assert dead() == []
    again = await asyncio.to_thread(pbshare, settings, "deadletter", "replay", mid)
    assert again.returncode == 2 and "Only dead or refused" in again.stderr
