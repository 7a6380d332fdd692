"""The platform's PostgreSQL stopped mid-stream under a real ``pbshare listen`` on the real RabbitMQ.

The test runs its own throwaway PostgreSQL cluster (initdb and pg_ctl, the binaries
``scripts/services.sh`` uses, on a free port) so stopping it disturbs nothing else. While it is down
the listener stores nothing and acknowledges nothing; no message is dead-lettered for the outage;
when it is back everything is stored once and receipted. ``PBSHARE_FAULT_DB_DOWN_S=30`` holds the
database down for 30 s (the issue's long version).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pbshare.config import Settings
from pbshare.core import migrate
from pbshare.core.db import Database
from pbshare.units import service as unit_service
from tests.channels.faults_kit import counts, free_port, listen, report, scale
from tests.channels.test_faults_kill import UnitBroker

pytestmark = pytest.mark.services

DOWN_S = float(os.environ.get("PBSHARE_FAULT_DB_DOWN_S") or 8)
PG_BIN = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])


class Cluster:
    """A PostgreSQL cluster of its own, run as the ``postgres`` user (initdb refuses root)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pbshare-pgfault-"))
        shutil.chown(self.root, "postgres")
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def init(self) -> None:
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                          "--no-sync")

    def start(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.root / "log"),
                          "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    c = Cluster()
    c.init()
    c.start()
    yield c
    c.remove()


# The channel fixtures (open_connection) take these: the platform's database is the throwaway cluster.
@pytest.fixture
def settings(cluster: Cluster, tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return Settings(data_dir=data_dir, database_url=cluster.url, start_listeners=False)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database.from_settings(settings)
    migrate.upgrade(db.engine)
    with db.session() as s:
        unit_service.ensure_office(s)
    yield db
    db.dispose()


async def test_database_stopped_mid_stream(cluster, open_connection, settings, database, prefix):
    n = scale(150)
    unit = open_connection("amqp")
    bodies = [unit.body(payload={"i": i}) for i in range(n)]
    ids = {json.loads(b)["id"] for b in bodies}
    async with UnitBroker(settings, prefix, unit) as broker:
        server = listen(settings, prefix=prefix)
        try:
            await broker.publish(bodies[: n // 3])
            answers = await broker.read_out(lambda got: len(got) >= 10, timeout=60)
            await asyncio.to_thread(cluster.stop)
            stopped = time.monotonic()
            await broker.publish(bodies[n // 3:])
            while time.monotonic() - stopped < DOWN_S:  # what the unit hears while the database is down
                answers += await broker.read_out(lambda got: True, timeout=1)
                await asyncio.sleep(0.2)
            answered_while_down = {a["correlation_id"] for a in answers}
            dead_queue = await broker.channel.declare_queue(f"{prefix}.dead", passive=True)
            dead_while_down = dead_queue.declaration_result.message_count
            await asyncio.to_thread(cluster.start)
            answers += await broker.read_out(lambda got: {a["correlation_id"] for a in answers + got} >= ids,
                                             timeout=90 + n / 20)
            listener_alive = server.alive()
        finally:
            server.stop()
        dead_queue = await broker.channel.declare_queue(f"{prefix}.dead", passive=True)
        dead_after = dead_queue.declaration_result.message_count
    c = counts(database)
    with database.session() as s:
        from sqlalchemy import select

        from pbshare.exchange.messaging.models import InboxMessage

        stored = set(s.scalars(select(InboxMessage.envelope_id)))
    report("platform database stopped mid-stream", envelopes=n, database_down_s=DOWN_S,
           receipted_before_restart=len(answered_while_down), dead_lettered_while_down=dead_while_down,
           inbox=c["inbox"], rejected=c["rejected"], receipts=len(answers), dead_lettered_after=dead_after,
           listener_alive=listener_alive)
    assert answered_while_down <= stored, "nothing was acknowledged or receipted that was not stored"
    assert c["inbox"] == c["inbox_ids"] == n and stored == ids and c["rejected"] == 0
    assert dead_while_down == dead_after == 0, "an outage is waited out, not dead-lettered"
    assert listener_alive
