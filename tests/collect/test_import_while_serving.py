"""The embedded database never locks an import out: with a real ``pbshare serve`` running on SQLite
(listeners on), a CLI import and a 200,000-row API import complete, also while 1,000 envelopes a second
arrive over AMQP; a run that meets a lock held too long, or a table the database refuses, fails whole,
says why in words and leaves nothing half-registered."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import httpx
import psycopg
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from pbshare.collect.runs import flows
from pbshare.config import Settings
from pbshare.core.db import Database
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import ChannelConfig
from pbshare.exchange.connections import service as connections
from pbshare.exchange.messaging.models import InboxMessage
from pbshare.exchange.registry import channel_class
from pbshare.units import service as unit_service
from pbshare.warehouse import service as warehouse
from tests.collect.conftest import MAPPING, people, run, spec, write_csv
from tests.conftest import PASSWORD, make_user

ROWS = 200_000
OFFICE = "SZBA"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _id_no(i: int) -> str:
    first17 = f"440305{1991 + i % 9}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"  # 南山区 since 1990
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    """200,000 people paying in (valid ID numbers, some repeated: a person pays for several months)."""
    rows = [[f"演示·人员{i}", _id_no(i), "养老保险", "202301", f"{1000 + i % 5000:,}.50元", f"2023年1月{i % 28 + 1}日"]
            for i in range(ROWS)]
    return write_csv(tmp_path_factory.mktemp("big") / "si-200k.csv", rows)


class Served:
    """A ``pbshare serve`` subprocess on a SQLite data dir, with a unit's live AMQP connection."""

    def __init__(self, data_dir: Path, prefix: str) -> None:
        self.data_dir, self.prefix = data_dir, prefix
        self.port = _free_port()
        self.env = {**os.environ, "PBSHARE_DATA_DIR": str(data_dir), "PBSHARE_PORT": str(self.port),
                    "PBSHARE_SOCKET_HOST": "127.0.0.1", "PBSHARE_SOCKET_PORT": str(_free_port()),
                    "PBSHARE_CHANNEL_PREFIX": prefix, "PBSHARE_LOG_LEVEL": "WARNING"}
        self.env.pop("PBSHARE_DATABASE_URL", None)
        self.env.pop("PBSHARE_WAREHOUSE_URL", None)
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = Settings(data_dir=data_dir, start_listeners=False)
        self.database = Database.from_settings(self.settings)
        self.unit_code = "UAMQP1"
        self.key: env_mod.Key | None = None
        self.proc: subprocess.Popen | None = None

    def prepare(self, templates: dict[str, str]) -> None:
        import shutil

        shutil.copy(templates["sqlite"], self.data_dir / "pbshare.db")
        with self.database.session() as s:
            unit_service.ensure_office(s)
            unit_service.upsert_unit(s, code=self.unit_code, name="测试单位AMQP", kind="other")
            conn, creds = connections.create_connection(s, data_dir=self.settings.resolved_data_dir,
                                                        unit_code=self.unit_code, channel="amqp", name="amqp",
                                                        settings={})
            for step in ("testing", "live"):
                connections.transition(s, connection_id=conn.id, to=step, override_reason="测试 / test setup")
            warehouse.create_topic(s, self.database, name="case", title="案件专题库", exist_ok=True)
        self.key = env_mod.Key(key_id=creds.key_id, secret=bytes.fromhex(creds.secret_hex),
                               enc_key=bytes.fromhex(creds.enc_key_hex))
        make_user(self.database, "dataadmin", ["data_admin"])

    def start(self) -> None:
        pbshare = Path(sys.executable).parent / "pbshare"
        self.proc = subprocess.Popen([str(pbshare), "serve", "--port", str(self.port)], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("pbshare serve did not start: " + self.stop())

    def stop(self) -> str:
        if self.proc is None:
            return ""
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.proc = None
        return err.decode(errors="replace")[-4000:]

    def client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=60)
        me = client.post("/api/v1/auth/login", json={"username": "dataadmin", "password": PASSWORD})
        assert me.status_code == 200, me.text
        client.headers["X-CSRF-Token"] = me.json()["csrf_token"]
        return client

    def import_via_api(self, client: httpx.Client, path: Path, table: str) -> str:
        with path.open("rb") as fh:
            up = client.post("/api/v1/collect/uploads", files={"file": (path.name, fh, "text/csv")})
        assert up.status_code == 200, up.text
        body = {"spec": {"source_kind": "csv", "source": {"upload_id": up.json()["upload_id"]}, "mapping": MAPPING,
                         "target_topic": "case", "target_table": table, "mode": "append"}}
        res = client.post("/api/v1/collect/runs", json=body)
        assert res.status_code == 202, res.text
        return res.json()["id"]

    def wait_for_run(self, client: httpx.Client, run_id: str, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        seen_progress = False
        while time.monotonic() < deadline:
            res = client.get(f"/api/v1/collect/runs/{run_id}")
            assert res.status_code == 200, res.text  # polling never meets a locked database
            run_ = res.json()
            seen_progress |= run_["status"] == "running" and run_["rows_read"] > 0
            if run_["status"] not in ("queued", "running"):
                run_["seen_progress"] = seen_progress
                return run_
            time.sleep(0.3)
        raise AssertionError(f"run {run_id} still {run_['status']} after {timeout} s")

    def inbox_count(self) -> int:
        with self.database.session() as s:
            return int(s.scalar(select(func.count()).select_from(InboxMessage)) or 0)


@pytest.fixture
def served(tmp_path: Path, templates: dict[str, str]) -> Iterator[Served]:
    import uuid

    data_dir = tmp_path / "served"
    data_dir.mkdir()
    server = Served(data_dir, f"pbt{uuid.uuid4().hex[:8]}")
    server.prepare(templates)
    server.start()
    yield server
    server.stop()
    server.database.dispose()
    asyncio.run(_drop_amqp(server.prefix, server.unit_code))


async def _drop_amqp(prefix: str, unit: str) -> None:
    conn = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    channel = await conn.channel()
    for name in (f"{prefix}.in.{unit}", f"{prefix}.out.{unit}", f"{prefix}.dead"):
        await channel.queue_delete(name)
    for name in (f"{prefix}.exchange", f"{prefix}.dlx"):
        await channel.exchange_delete(name)
    await conn.close()


def _registered(database: Database, table: str) -> bool:
    with database.session() as s:
        return warehouse.find_table(s, topic="case", name=table) is not None


# --------------------------------------------------------------------------- with the server running
def test_the_cli_imports_while_the_server_runs(served: Served, tmp_path: Path, monkeypatch):
    import threading

    from pbshare.cli import app

    path = write_csv(tmp_path / "si.csv", people(3000))
    for name, value in served.env.items():
        if name.startswith("PBSHARE_"):
            monkeypatch.setenv(name, value)
    from pbshare.config import get_settings

    get_settings.cache_clear()
    stop = threading.Event()
    logins: list[int] = []

    def people_logging_in() -> None:  # the server writes (sessions, audit records) all the while
        while not stop.is_set():
            res = httpx.post(served.url + "/api/v1/auth/login", json={"username": "dataadmin", "password": PASSWORD},
                             timeout=60)
            logins.append(res.status_code)

    busy = threading.Thread(target=people_logging_in, daemon=True)
    busy.start()
    try:
        res = CliRunner().invoke(app, ["import", "file", str(path), "--topic", "case", "--table", "si_cli",
                                       "--save-as", "si_cli_monthly"])
        assert res.exit_code == 0, res.output
        assert "loaded 3,000" in res.output and "locked" not in res.output
        february = write_csv(tmp_path / "si-02.csv", people(3000, seed=8))
        res = CliRunner().invoke(app, ["import", "run", "si_cli_monthly", str(february)])
        assert res.exit_code == 0 and "loaded 3,000" in res.output, res.output
    finally:
        stop.set()
        busy.join(timeout=30)
        get_settings.cache_clear()
    assert 200 in logins
    assert warehouse.count_rows(served.database, topic="case", name="si_cli") == 6000


def test_a_200k_import_through_the_api_while_1000_envelopes_a_second_arrive(served: Served, big_csv: Path):
    """Both finish, every row and every message accounted for; the page saw progress on the way."""
    n_messages = 6000
    config = ChannelConfig.from_settings(served.settings, prefix=served.prefix)
    assert served.key is not None
    bodies = [env_mod.dumps(env_mod.sign(env_mod.build(type="correction", sender=served.unit_code, receiver=OFFICE,
                                                       payload={"i": i, "note": "并发测试"}), served.key))
              for i in range(n_messages)]
    client = served.client()

    async def send() -> float:
        conn = await aio_pika.connect(config.amqp_url)
        channel = await conn.channel(publisher_confirms=True)
        exchange = await channel_class("amqp")(config).declare(channel, served.unit_code)
        started = time.monotonic()
        for second in range(0, n_messages, 1000):  # 1,000 a second, in tenths
            for tenth in range(10):
                chunk = bodies[second + tenth * 100: second + (tenth + 1) * 100]
                await asyncio.gather(*[exchange.publish(aio_pika.Message(b, delivery_mode=2),
                                                        routing_key=f"in.{served.unit_code}") for b in chunk])
                await asyncio.sleep(max(0.0, started + second / 1000 + (tenth + 1) / 10 - time.monotonic()))
        await conn.close()
        return time.monotonic() - started

    async def both() -> tuple[float, dict]:
        sending = asyncio.create_task(send())
        await asyncio.sleep(1.0)  # the upload and the start of the run meet the listeners writing too
        run_id = await asyncio.to_thread(served.import_via_api, client, big_csv, "si_big")
        run_ = await asyncio.to_thread(served.wait_for_run, client, run_id)
        return await sending, run_

    sent_in, run_ = asyncio.run(both())
    assert sent_in < n_messages / 1000 * 1.5  # the broker took them at the pace given
    assert run_["status"] == "succeeded", run_["error"]
    assert run_["seen_progress"]
    assert run_["rows_read"] == ROWS and run_["rows_loaded"] + run_["rows_quarantined"] == ROWS
    assert warehouse.count_rows(served.database, topic="case", name="si_big") == run_["rows_loaded"]
    with served.database.session() as s:
        assert warehouse.get_table(s, topic="case", name="si_big").row_count == run_["rows_loaded"]
    deadline = time.monotonic() + 60
    while served.inbox_count() < n_messages and time.monotonic() < deadline:
        time.sleep(0.5)
    assert served.inbox_count() == n_messages


# --------------------------------------------------------------------------- failures, on both databases
def _hold_lock(database: Database, settings: Settings, backend: str, table: str):
    """A second connection holds the target's lock: SQLite's topic file write lock, PostgreSQL's table lock."""
    if backend == "sqlite":
        other = sqlite3.connect(settings.resolved_data_dir / "topics" / "case.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        return other
    url = database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    other = psycopg.connect(url)
    other.execute(f'LOCK TABLE "case"."{table}" IN ACCESS EXCLUSIVE MODE')
    return other


def test_a_lock_held_longer_than_the_wait_fails_the_run_in_words(database, settings, backend, topic, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setattr(flows, "LOCK_WAIT_SECONDS", 1.5)
    path = write_csv(tmp_path / "si.csv", people(50))
    assert run(database, spec(path, table="si_locked")).status == "succeeded"
    other = _hold_lock(database, settings, backend, "si_locked")
    try:
        started = time.monotonic()
        failed = run(database, spec(path, table="si_locked"))
        waited = time.monotonic() - started
    finally:
        other.rollback() if backend == "postgresql" else other.execute("ROLLBACK")
        other.close()
    assert failed.status == "failed" and failed.error_code == "database_locked"
    assert "数据库被占用超时" in failed.error and "stayed locked for 2 s by another writer" in failed.error
    assert "OperationalError" not in failed.error
    assert 1.4 < waited < 15
    assert warehouse.count_rows(database, topic="case", name="si_locked") == 50  # nothing of the second run
    with database.session() as s:
        assert warehouse.get_table(s, topic="case", name="si_locked").row_count == 50


def test_a_first_run_that_fails_leaves_no_table_and_no_registry_entry(database, settings, backend, topic, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setattr(flows, "LOCK_WAIT_SECONDS", 1.0)
    path = write_csv(tmp_path / "si.csv", people(50))
    if backend == "sqlite":
        other = _hold_lock(database, settings, backend, "si_new")
    else:  # a table of the same name made behind the registry's back: the database refuses the CREATE
        with database.warehouse_engine.begin() as conn:
            conn.exec_driver_sql('CREATE TABLE "case".si_new (x integer)')
        other = None
    try:
        failed = run(database, spec(path, table="si_new"))
    finally:
        if other is not None:
            other.execute("ROLLBACK")
            other.close()
    assert failed.status == "failed", failed.error
    assert "OperationalError" not in failed.error and "ProgrammingError" not in failed.error
    assert not _registered(database, "si_new")
    if backend == "sqlite":
        assert failed.error_code == "database_locked"
        assert not warehouse.topic_store(database).has_table("case", "si_new")  # no half-created table
    else:
        assert failed.error_code in ("table_exists", "database_error")


def test_a_table_the_database_refuses_names_the_database_s_own_words(database, backend, topic, tmp_path):
    """The physical table has a NOT NULL column the mapping does not fill: the database's message is shown."""
    path = write_csv(tmp_path / "si.csv", people(20))
    assert run(database, spec(path, table="si_strict")).status == "succeeded"
    with database.warehouse_engine.begin() as conn:
        if backend == "sqlite":
            conn.exec_driver_sql('DROP TABLE "case".si_strict')
            conn.exec_driver_sql('CREATE TABLE "case".si_strict (name VARCHAR, id_no TEXT, id_no_bidx VARCHAR(64), '
                                 'insurance VARCHAR, period VARCHAR(6), base_yuan NUMERIC, paid_on DATE, '
                                 'checked_by VARCHAR NOT NULL)')
        else:
            conn.exec_driver_sql('ALTER TABLE "case".si_strict ADD COLUMN checked_by VARCHAR NOT NULL DEFAULT \'x\'')
            conn.exec_driver_sql('ALTER TABLE "case".si_strict ALTER COLUMN checked_by DROP DEFAULT')
    failed = run(database, spec(path, table="si_strict"))
    assert failed.status == "failed" and failed.error_code == "database_error"
    assert "checked_by" in failed.error and "数据库拒绝了这次导入" in failed.error
    assert "OperationalError" not in failed.error and "IntegrityError" not in failed.error
    with database.session() as s:
        assert warehouse.get_table(s, topic="case", name="si_strict").row_count == 20
