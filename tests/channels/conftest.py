"""Fixtures for channel tests: a unit with a connection, its client-side key, a running runtime."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from pbshare.exchange import envelope as env_mod
from pbshare.exchange.channel import ChannelConfig
from pbshare.exchange.connections import service as connections
from pbshare.exchange.runtime import Runtime
from pbshare.units import service as unit_service

OFFICE = "SZBA"


@dataclass
class UnitSide:
    """What a unit's engineer holds after the office opened a connection: codes and keys."""

    unit_code: str
    connection_id: str
    key: env_mod.Key
    creds: connections.Credentials

    def envelope(self, *, type: str = "delivery", payload: dict[str, Any] | None = None, test: bool = False,
                 encrypt: bool = False, **kw: Any) -> dict[str, Any]:
        env = env_mod.build(type=type, sender=self.unit_code, receiver=OFFICE, payload=payload or {"n": 1},
                            test=test, **kw)
        if encrypt:
            env = env_mod.encrypt_payload(env, self.key)
        return env_mod.sign(env, self.key)

    def body(self, **kw: Any) -> bytes:
        return env_mod.dumps(self.envelope(**kw))


@pytest.fixture
def open_connection(database, settings):
    """``open_connection("socket", state="live", settings={...})`` -> UnitSide."""

    def _open(channel: str, *, state: str = "live", unit_code: str | None = None, conn_settings: dict | None = None,
              encrypt: bool = False) -> UnitSide:

        code = unit_code or f"U{uuid.uuid4().hex[:6].upper()}"
        with database.session() as s:
            if unit_service.find_unit_by_code(s, code=code) is None:
                unit_service.upsert_unit(s, code=code, name=f"测试单位{code}", kind="other")
            conn, creds = connections.create_connection(s, data_dir=settings.resolved_data_dir, unit_code=code,
                                                        channel=channel, name=f"{code} {channel}",
                                                        settings=conn_settings or {}, encrypt=encrypt)
            path = {"draft": [], "testing": ["testing"], "live": ["testing", "live"],
                    "suspended": ["testing", "live", "suspended"], "terminated": ["terminated"]}[state]
            for step in path:
                connections.transition(s, connection_id=conn.id, to=step,
                                       override_reason="通道测试，无需联调 / channel test, no joint test")
            cid = conn.id
        key = env_mod.Key(key_id=creds.key_id, secret=bytes.fromhex(creds.secret_hex),
                          enc_key=bytes.fromhex(creds.enc_key_hex))
        return UnitSide(code, cid, key, creds)

    return _open


@pytest.fixture
def prefix() -> str:
    """Unique names for exchanges, queues, topics and streams, so parallel runs never collide."""
    return f"pbt{uuid.uuid4().hex[:8]}"


@pytest.fixture
def channel_config(settings, prefix) -> ChannelConfig:
    return ChannelConfig.from_settings(settings, prefix=prefix, socket_host="127.0.0.1", socket_port=0,
                                       max_bytes=64 * 1024, idle_timeout=5.0)


@pytest.fixture
async def runtime(database, channel_config) -> AsyncIterator[Runtime]:
    rt = Runtime(database, channel_config, tick=0.2, health_every=3600, max_attempts=3,
                 backoff_base=timedelta(milliseconds=50))
    yield rt
    await rt.stop()


async def eventually(check, timeout: float = 15.0, interval: float = 0.1):
    """Wait until ``check()`` (sync, run in a thread) returns something truthy."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        result = await asyncio.to_thread(check)
        if result:
            return result
        if loop.time() > end:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)
