"""Settings from environment variables ``PBSHARE_*`` and an optional ``.env`` file."""

from __future__ import annotations

import os
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PBSHARE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="SQLite files, uploads, key files")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    warehouse_url: str | None = Field(default=None, description="separate engine for topic databases")
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    nats_url: str = "nats://127.0.0.1:4222"
    # exchange channels (docs/channels.md §6): the prefix names brokers' exchanges, queues, topics, streams
    channel_prefix: str = "pbshare"
    socket_host: str = "0.0.0.0"  # noqa: S104 - units connect from outside
    socket_port: int = 7070
    socket_tls_cert: str | None = None
    socket_tls_key: str | None = None
    socket_tls_ca: str | None = Field(default=None, description="set: socket clients need a certificate it signed")
    channel_max_bytes: int = 1024 * 1024  # = exchange.envelope.MAX_BYTES (config sits below exchange)
    host: str = "127.0.0.1"
    port: int = 8000
    default_language: str = "zh-CN"
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    log_level: str = "INFO"
    log_json: bool = True
    # behind a TLS-terminating proxy: mark cookies Secure and send HSTS
    behind_tls: bool = False
    max_upload_mb: int = 200
    # request bodies are counted as they arrive, before anyone logs in (core/http.py BodyLimitMiddleware):
    # JSON API calls get this much; uploads get max_upload_mb; exchange envelopes channel_max_bytes + headroom
    max_body_kb: int = 1024
    # cipher for new personal identifiers; every sealed value names its own, so old values stay readable
    pii_cipher: str = Field(default="SM4-GCM", description="SM4-GCM | AES-256-GCM")
    start_listeners: bool = True
    # demo units' systems answering requests by themselves (demo/responders.py), when `pbshare demo` made them
    demo_responders: bool = True
    # every user-written query (SQL datasets, transforms, data-source previews and imports): docs/collect.md
    query_timeout_s: float = Field(default=60.0, gt=0, description="time limit of one user-written query")
    query_max_rows: int = Field(default=5_000_000, gt=0, description="rows one user-written query may return")
    query_max_memory_mb: int = Field(default=256, gt=0, description="memory bound of one user-written query")
    # ETL pipelines and schedules (docs/jobs.md): local = the server's own threads; distributed = Celery workers
    executor: str = Field(default="local", pattern="^(local|distributed)$", description="local | distributed")
    celery_broker_url: str | None = Field(default=None, description="Celery's broker; default the AMQP URL")
    jobs_workers: int = Field(default=2, ge=1, le=64, description="runs at once under the local executor")
    jobs_alert_webhook: str | None = Field(default=None, description="POSTed a JSON alert when a run fails or is slow")
    jobs_stale_s: float = Field(default=20.0, ge=2, description="a run without a heartbeat this long lost its worker")
    # A fast-forwarded scheduler clock for drills and tests: it reads jobs_clock_origin at the Unix time
    # jobs_clock_anchor and runs jobs_clock_speed times as fast (docs/jobs.md); unset: the real clock.
    jobs_clock_origin: datetime | None = None
    jobs_clock_anchor: float | None = None
    jobs_clock_speed: float = Field(default=1.0, gt=0)
    compare_change_share: float = Field(default=0.3, gt=0, le=1, description="share of changed rows a comparison flags")

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'pbshare.db'}"

    @property
    def resolved_warehouse_url(self) -> str:
        return self.warehouse_url or self.resolved_database_url

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def ensure_dirs(self) -> None:
        """Create the data dir layout; key files and uploads must not be world-readable."""
        for sub in ("", "keys", "uploads", "topics", "backups", "archive"):
            path = self.resolved_data_dir / sub
            path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.resolved_data_dir / "keys", 0o700)


@lru_cache
def get_settings() -> Settings:
    return Settings()
