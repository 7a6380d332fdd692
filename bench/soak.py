"""Soak: minutes of mixed traffic well above ten times the office's expected daily peak.

    .venv/bin/python bench/soak.py                 # 10 minutes on PostgreSQL, then 10 on SQLite
    .venv/bin/python bench/soak.py --minutes 1     # a quick run
    .venv/bin/python bench/soak.py --only sqlite

The assumption (printed with the figures, and in docs/channels.md "Operations"): the office opens
300 cases a month, 15 a working day; each fans out to 8 units (120 requests out, 120 answers back, each
receipted) and on the busiest day of the month the 16 units' monthly files arrive too, with 20 people
at work in the browser. Put the whole day in one hour and that hour carries ~500 envelopes (0.14 a
second); ten times that is 1.4 a second. This run sends far more: 16 units (8 over REST, 8 over the
TCP socket) each send at the same instant every second (16 a second, a burst of 16 at once), while
4 browser users import CSV files into a topic table and query it.

PostgreSQL runs as in production: ``pbshare serve`` without listeners and a separate ``pbshare
listen`` (the socket listener). SQLite runs as ``make run`` leaves it: one ``pbshare serve`` with its
listeners, the database in the data dir. Printed per database: errors, lost messages (an envelope
receipted but not in the inbox, or never receipted), p50/p99 per channel idle and under load, the
users' p50/p99, answers of ``database_busy``, RSS of each process at minute two and at the end, and
``pbshare audit verify`` at the end. The last line is ``RATIO <worst p99 under load / its p99 idle>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from pbshare.config import Settings
from pbshare.core import migrate
from pbshare.core.db import Database
from pbshare.demo.synthetic import synthetic_id_no
from pbshare.exchange import envelope as env_mod
from pbshare.exchange.connections import service as connections
from pbshare.security.clients import service as api_clients
from pbshare.security.crypto import algorithms as crypto
from pbshare.security.identity import service as identity
from pbshare.units import service as unit_service

ROOT = Path(__file__).resolve().parents[1]
PBSHARE = str(Path(sys.executable).with_name("pbshare"))
PG_ADMIN = os.environ.get("PBSHARE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "Soak#pass2026x"
IDLE_SECONDS = 20
ASSUMPTION = ("assumption: 300 cases/month = 15 a working day x 8 units = 120 requests + 120 answers (each receipted) "
              "+ 16 monthly files, 20 browser users; the whole day in one hour ~500 envelopes = 0.14/s; "
              "ten times = 1.4/s. This run: 16 units sending at the same instant every second (16/s, "
              "~110x the peak hour) + 4 users importing and querying")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Stats:
    idle: dict[str, list[float]] = field(default_factory=dict)
    load: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    busy: int = 0
    resent: int = 0
    load_seconds: float = 0.0
    receipted: set[str] = field(default_factory=set)
    sent: set[str] = field(default_factory=set)
    samples: list[str] = field(default_factory=list)

    def record(self, phase: str, channel: str, seconds: float) -> None:
        getattr(self, phase).setdefault(channel, []).append(seconds * 1000)

    def error(self, what: str, detail: str = "") -> None:
        self.errors[what] = self.errors.get(what, 0) + 1
        if "database_busy" in detail:
            self.busy += 1
        if self.errors[what] == 1:  # the first of each kind, to say what went wrong
            self.samples.append(f"{what}: {detail[:200]}")


@dataclass
class Unit:
    code: str
    channel: str
    key: env_mod.Key
    client: tuple[str, str, bytes] | None = None  # REST: API client id, key id, secret

    def body(self, i: int) -> tuple[str, bytes]:
        env = env_mod.sign(env_mod.build(type="delivery", sender=self.code, receiver="SZBA",
                                         payload={"seq": i, "rows": [{"n": i}]}), self.key)
        return env["id"], env_mod.dumps(env)


# the world --------------------------------------------------------------------------------------
def build_world(database: Database, settings: Settings) -> list[Unit]:
    units = []
    with database.session() as s:
        unit_service.ensure_office(s)
        for i in range(16):
            channel = "rest" if i < 8 else "socket"
            code = f"SOAK{i:02d}"
            unit_service.upsert_unit(s, code=code, name=f"压测单位{i:02d}", kind="other")
            conn, creds = connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code=code,
                                                        channel=channel, name=f"soak {channel}")
            connections.transition(s, connection_id=conn.id, to="testing")
            connections.transition(s, connection_id=conn.id, to="live", override_reason="压测 / soak")
            unit = Unit(code, channel, env_mod.Key(key_id=creds.key_id, secret=bytes.fromhex(creds.secret_hex)))
            if channel == "rest":
                client, key, secret_hex = api_clients.create_client(
                    s, unit_code=code, name="soak", alg=crypto.HMAC_SM3, data_dir=settings.resolved_data_dir,
                    rate_limit_per_minute=100_000)
                assert secret_hex is not None
                unit.client = (client.id, key.id, bytes.fromhex(secret_hex))
            units.append(unit)
        for i in range(4):
            identity.create_user(s, username=f"soakuser{i}", display_name=f"压测·用户{i}", unit_code="SZBA",
                                 roles=["data_admin"], password=PASSWORD, must_change_password=False)
    return units


# the traffic ------------------------------------------------------------------------------------
async def rest_send(http: httpx.AsyncClient, unit: Unit, i: int, stats: Stats, phase: str) -> None:
    assert unit.client is not None
    client_id, key_id, secret = unit.client
    env_id, body = unit.body(i)
    headers = api_clients.sign_request("POST", "/api/v1/exchange/messages", body, client_id=client_id,
                                       key_id=key_id, alg=crypto.HMAC_SM3, secret=secret)
    stats.sent.add(env_id)
    t0 = time.perf_counter()
    try:
        try:
            res = await http.post("/api/v1/exchange/messages", content=body, headers=headers)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            # the server closed an idle kept-alive connection as it was reused: the unit's system sends the
            # same envelope again (same id, so it is stored once either way), freshly signed
            stats.resent += 1
            headers = api_clients.sign_request("POST", "/api/v1/exchange/messages", body, client_id=client_id,
                                               key_id=key_id, alg=crypto.HMAC_SM3, secret=secret)
            res = await http.post("/api/v1/exchange/messages", content=body, headers=headers)
    except httpx.HTTPError as exc:
        stats.error("rest transport", repr(exc))
        return
    took = time.perf_counter() - t0
    if res.status_code != 200:
        stats.error(f"rest {res.status_code}", res.text)
        return
    answer = res.json()
    if answer.get("type") != "receipt" or answer.get("correlation_id") != env_id:
        stats.error("rest answer", res.text)
        return
    stats.receipted.add(env_id)
    stats.record(phase, "rest", took)


class SocketUnit:
    """One unit's system on one TCP connection, a frame and its acknowledgement at a time."""

    def __init__(self, unit: Unit, port: int) -> None:
        self.unit, self.port = unit, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, i: int, stats: Stats, phase: str) -> None:
        env_id, body = self.unit.body(i)
        stats.sent.add(env_id)
        t0 = time.perf_counter()
        try:
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            assert self.reader is not None
            self.writer.write(struct.pack(">I", len(body)) + body)
            await self.writer.drain()
            size = struct.unpack(">I", await self.reader.readexactly(4))[0]
            answer = json.loads(await self.reader.readexactly(size))
        except (OSError, asyncio.IncompleteReadError) as exc:
            stats.error("socket transport", repr(exc))
            self.writer = None
            return
        took = time.perf_counter() - t0
        if answer.get("type") != "receipt" or answer.get("correlation_id") != env_id:
            stats.error("socket answer", json.dumps(answer, ensure_ascii=False))
            return
        stats.receipted.add(env_id)
        stats.record(phase, "socket", took)


def csv_file(rng: random.Random, rows: int) -> bytes:
    lines = ["姓名,公民身份号码,金额(元)"]
    lines += [f"演示·压测{rng.randrange(10**6)},{synthetic_id_no(rng)},{rng.randrange(100, 99999)}.50元"
              for _ in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


MAPPING = [{"target": "name", "source": "姓名", "required": True},
           {"target": "id_no", "source": "公民身份号码", "id_kind": "cn_ric", "pii": True, "required": True},
           {"target": "amount", "source": "金额(元)", "type": "decimal"}]


async def user_work(base: str, n: int, stop: asyncio.Event, stats: Stats, phase_of: Any) -> None:
    """A data administrator in the browser: imports a CSV file, waits for the run, queries the table."""
    rng = random.Random(n)
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        me = (await http.post("/api/v1/auth/login", json={"username": f"soakuser{n}", "password": PASSWORD})).json()
        http.headers["X-CSRF-Token"] = me["csrf_token"]
        k = 0
        while not stop.is_set():
            k += 1
            t0 = time.perf_counter()
            try:
                up = await http.post("/api/v1/collect/uploads",
                                     files={"file": (f"soak{n}-{k}.csv", csv_file(rng, 500), "text/csv")})
                if up.status_code != 200:
                    stats.error(f"upload {up.status_code}", up.text)
                    await asyncio.sleep(1)
                    continue
                spec = {"source_kind": "csv", "source": {"upload_id": up.json()["upload_id"]}, "mapping": MAPPING,
                        "target_topic": "soak", "target_table": f"people{n}", "mode": "append"}
                run = await http.post("/api/v1/collect/runs", json={"spec": spec})
                if run.status_code != 202:
                    stats.error(f"import {run.status_code}", run.text)
                    await asyncio.sleep(1)
                    continue
                while True:
                    polled = await http.get(f"/api/v1/collect/runs/{run.json()['id']}")
                    if polled.status_code != 200:
                        stats.error(f"GET run {polled.status_code}", polled.text)
                    elif (got := polled.json())["status"] in ("succeeded", "failed"):
                        break
                    await asyncio.sleep(0.2)
                if got["status"] != "succeeded":
                    stats.error("import failed", json.dumps(got, ensure_ascii=False, default=str))
                stats.record(phase_of(), "user import", time.perf_counter() - t0)
                t1 = time.perf_counter()
                res = await http.post("/api/v1/query", json={
                    "source": {"kind": "table", "topic": "soak", "name": f"people{n}"},
                    "group_by": [{"column": "name"}], "aggregates": [{"fn": "sum", "column": "amount"}],
                    "size": 20})
                if res.status_code != 200:
                    stats.error(f"query {res.status_code}", res.text)
                else:
                    stats.record(phase_of(), "user query", time.perf_counter() - t1)
                for page in ("/api/v1/warehouse/topics", "/api/v1/collect/runs"):
                    r = await http.get(page)
                    if r.status_code >= 400:
                        stats.error(f"GET {page} {r.status_code}", r.text)
            except httpx.HTTPError as exc:
                stats.error("user transport", repr(exc))
            await asyncio.sleep(rng.uniform(1, 3))


# one database -----------------------------------------------------------------------------------
def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([PBSHARE, *args], env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


async def wait_http(base: str, procs: list[subprocess.Popen[bytes]]) -> None:
    end = time.monotonic() + 120
    async with httpx.AsyncClient(timeout=5) as http:
        while time.monotonic() < end:
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a pbshare process ended at start; see its log")
            try:
                if (await http.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("pbshare serve did not become ready within 120 s")


async def wait_port(port: int) -> None:
    for _ in range(240):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.5)
    raise SystemExit(f"the socket listener never opened port {port}")


async def soak(kind: str, minutes: float, workdir: Path) -> dict[str, Any]:
    data_dir = workdir / kind / "var"
    data_dir.mkdir(parents=True)
    pg_name = None
    if kind == "postgresql":
        pg_name = f"pbshare_soak_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{pg_name}"')
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{pg_name}"
        settings = Settings(data_dir=data_dir, database_url=url)
    else:
        settings = Settings(data_dir=data_dir)  # make run's default: SQLite in the data dir
    database = Database.from_settings(settings)
    migrate.upgrade(database.engine)
    units = build_world(database, settings)
    http_port, socket_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBSHARE_")}
    env.update({"PBSHARE_DATA_DIR": str(data_dir), "PBSHARE_SOCKET_PORT": str(socket_port),
                "PBSHARE_SOCKET_HOST": "127.0.0.1", "PBSHARE_DEMO_RESPONDERS": "false", "PBSHARE_LOG_LEVEL": "WARNING",
                "PBSHARE_CHANNEL_PREFIX": f"soak{uuid.uuid4().hex[:6]}"})
    if settings.database_url:
        env["PBSHARE_DATABASE_URL"] = settings.database_url
    log = workdir / f"{kind}.log"
    procs: dict[str, subprocess.Popen[bytes]] = {}
    if kind == "postgresql":
        procs["serve"] = start(["serve", "--host", "127.0.0.1", "--port", str(http_port)],
                               {**env, "PBSHARE_START_LISTENERS": "false"}, log)
        procs["listen"] = start(["listen"], env, log)
    else:
        procs["serve"] = start(["serve", "--host", "127.0.0.1", "--port", str(http_port)], env, log)
    base = f"http://127.0.0.1:{http_port}"
    stats = Stats()
    rss_early: dict[str, float] = {}
    try:
        await wait_http(base, list(procs.values()))
        await wait_port(socket_port)
        async with httpx.AsyncClient(base_url=base, timeout=60) as boss:
            me = (await boss.post("/api/v1/auth/login", json={"username": "soakuser0", "password": PASSWORD})).json()
            boss.headers["X-CSRF-Token"] = me["csrf_token"]
            await boss.post("/api/v1/warehouse/topics", json={"name": "soak", "title": "压测专题库"})
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
            sockets = {u.code: SocketUnit(u, socket_port) for u in units if u.channel == "socket"}

            async def send(unit: Unit, i: int, phase: str) -> None:
                if unit.channel == "rest":
                    await rest_send(http, unit, i, stats, phase)
                else:
                    await sockets[unit.code].send(i, stats, phase)

            # idle: one envelope at a time, nothing else running
            seq = 0
            idle_end = time.monotonic() + IDLE_SECONDS
            while time.monotonic() < idle_end:
                for unit in (units[0], units[8]):
                    seq += 1
                    await send(unit, seq, "idle")
                await asyncio.sleep(0.1)
            # load: every second all 16 units at the same instant, and the users
            stop = asyncio.Event()
            users = [asyncio.create_task(user_work(base, n, stop, stats, lambda: "load")) for n in range(4)]
            started = time.monotonic()
            early_at = min(120.0, minutes * 60 / 2)
            tick = 0
            while time.monotonic() - started < minutes * 60:
                tick += 1
                await asyncio.gather(*(send(u, 10_000 * (j + 1) + tick, "load") for j, u in enumerate(units)))
                if not rss_early and time.monotonic() - started >= early_at:
                    rss_early = {name: rss_mb(p.pid) for name, p in procs.items()}
                await asyncio.sleep(max(0.0, started + tick - time.monotonic()))
            stats.load_seconds = time.monotonic() - started
            stop.set()
            await asyncio.gather(*users)
            rss_end = {name: rss_mb(p.pid) for name, p in procs.items()}
        # what was receipted must be in the inbox exactly once
        from sqlalchemy import func, select

        from pbshare.exchange.messaging.models import InboxMessage

        with database.session() as s:
            stored = set(s.scalars(select(InboxMessage.envelope_id).where(InboxMessage.sender.like("SOAK%"))))
            rows = s.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.sender.like("SOAK%")))
        audit = subprocess.run([PBSHARE, "audit", "verify"], env=env, cwd=ROOT, capture_output=True, text=True,
                               timeout=600, check=False)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        database.dispose()
        if pg_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    lost = len(stats.receipted - stored)
    return {"kind": kind, "stats": stats, "lost": lost, "never_receipted": len(stats.sent - stats.receipted),
            "stored": len(stored), "rows": rows, "rss_early": rss_early, "rss_end": rss_end,
            "early_at": early_at, "audit_ok": audit.returncode == 0,
            "audit": " ".join((audit.stdout + audit.stderr).split())[-160:]}


def show(result: dict[str, Any], minutes: float) -> float:
    st: Stats = result["stats"]
    print(f"== {result['kind']}: {minutes:g} min under load after {IDLE_SECONDS} s idle")
    print(f"   {'channel':<12} {'idle n':>7} {'p50 ms':>8} {'p99 ms':>8} | {'load n':>7} {'p50 ms':>8} {'p99 ms':>8}")
    worst = 0.0
    for ch in ("rest", "socket", "user import", "user query"):
        idle, load = st.idle.get(ch, []), st.load.get(ch, [])
        print(f"   {ch:<12} {len(idle):>7} {pct(idle, 50):>8.1f} {pct(idle, 99):>8.1f} | {len(load):>7} "
              f"{pct(load, 50):>8.1f} {pct(load, 99):>8.1f}")
        if idle and load:
            worst = max(worst, pct(load, 99) / pct(idle, 99))
    errors = sum(st.errors.values())
    print(f"   envelopes sent {len(st.sent)}, receipted {len(st.receipted)}, in the inbox {result['stored']} "
          f"(rows {result['rows']}); lost {result['lost']}, never receipted {result['never_receipted']}")
    sent_under_load = len(st.load.get("rest", [])) + len(st.load.get("socket", []))
    print(f"   under load: {sent_under_load / max(st.load_seconds, 1e-9):.1f} envelopes/s receipted "
          f"(asked: 16/s; a burst waits for its slowest), {st.resent} REST envelope(s) resent after the server "
          "closed a kept-alive connection")
    print(f"   errors {errors} {st.errors or ''}; database_busy answers {st.busy}")
    for sample in st.samples:
        print(f"     e.g. {sample}")
    for name in result["rss_end"]:
        early, end = result["rss_early"].get(name, float("nan")), result["rss_end"][name]
        print(f"   RSS {name}: {early:.0f} MB at {result['early_at'] / 60:.1f} min, {end:.0f} MB at the end "
              f"({(end / early - 1) * 100:+.1f}%)")
    print(f"   audit chain: {'verified' if result['audit_ok'] else 'BROKEN'} ({result['audit']})")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--only", choices=["postgresql", "sqlite"], default=None)
    args = parser.parse_args()
    print(ASSUMPTION)
    kinds = [args.only] if args.only else ["postgresql", "sqlite"]
    workdir = Path(tempfile.mkdtemp(prefix="pbshare-soak-"))
    ratios = []
    try:
        for kind in kinds:
            result = asyncio.run(soak(kind, args.minutes, workdir))
            ratios.append(show(result, args.minutes))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"RATIO {max(ratios):.2f}")


if __name__ == "__main__":
    main()
