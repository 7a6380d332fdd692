"""What the fault tests share: real ``pbshare`` processes they can freeze and kill, the scale, counting.

``PBSHARE_FAULT_SCALE=10000`` runs the long versions (that many envelopes each way); unset, each test
moves a few hundred, so ``make test`` stays short.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from pbshare.config import Settings
from pbshare.exchange.messaging.models import InboxMessage, OutboxMessage, RejectedMessage

ROOT = Path(__file__).resolve().parents[2]
PBSHARE = str(Path(sys.executable).with_name("pbshare"))


def scale(short: int) -> int:
    """How many envelopes a fault test moves: ``short`` in ``make test``, PBSHARE_FAULT_SCALE in the long run."""
    return int(os.environ.get("PBSHARE_FAULT_SCALE") or short)


def report(test: str, **counts: Any) -> None:
    """Each fault test says what it did and what it counted (shown with ``pytest -s`` and on failure)."""
    print(f"[fault] {test}: " + ", ".join(f"{k}={v}" for k, v in counts.items()), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_env(settings: Settings, *, prefix: str, **extra: str) -> dict[str, str]:
    """The environment of a ``pbshare`` process on the test's database, data dir and broker names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBSHARE_")}
    env.update({"PBSHARE_DATA_DIR": str(settings.data_dir), "PBSHARE_CHANNEL_PREFIX": prefix,
                "PBSHARE_SOCKET_HOST": "127.0.0.1", "PBSHARE_SOCKET_PORT": str(free_port()),
                "PBSHARE_DEMO_RESPONDERS": "false", "PBSHARE_LOG_JSON": "false", "PBSHARE_LOG_LEVEL": "WARNING",
                "PBSHARE_AMQP_URL": settings.amqp_url, "PBSHARE_MQTT_URL": settings.mqtt_url,
                "PBSHARE_NATS_URL": settings.nats_url})
    if settings.database_url:
        env["PBSHARE_DATABASE_URL"] = settings.database_url
    env.update(extra)
    return env


class Process:
    """A real ``pbshare`` process (``listen``, ``serve`` …) whose standard error the test reads."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args = args
        self.lines: list[str] = []
        self.paused = threading.Event()
        self.proc = subprocess.Popen([PBSHARE, *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())
            if line.startswith("PBSHARE_FAULT_PAUSED"):
                self.paused.set()

    def wait_paused(self, timeout: float = 60) -> None:
        if not self.paused.wait(timeout):
            raise AssertionError(f"pbshare {' '.join(self.args)} never reached its pause point: "
                                 + "\n".join(self.lines[-20:]))

    def kill(self) -> None:
        """SIGKILL: no clean-up, no acknowledgement, no flush."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return self.proc.poll() is None


def listen(settings: Settings, *, prefix: str, pause: str | None = None) -> Process:
    extra = {"PBSHARE_FAULT_PAUSE": pause} if pause else {}
    return Process(["listen"], process_env(settings, prefix=prefix, **extra))


def counts(database: Any) -> dict[str, int]:
    """Inbox rows, distinct envelope ids in it, refusals, and outbox rows per state."""
    with database.session() as s:
        out = {"inbox": s.scalar(select(func.count()).select_from(InboxMessage)) or 0,
               "inbox_ids": s.scalar(select(func.count(func.distinct(InboxMessage.envelope_id)))) or 0,
               "rejected": s.scalar(select(func.count()).select_from(RejectedMessage)) or 0}
        for state, n in s.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)):
            out[f"outbox_{state}"] = n
        return out


def wait_until(check: Any, timeout: float, what: str, interval: float = 0.2) -> Any:
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not reached within {timeout:.0f} s (last: {last!r})")
