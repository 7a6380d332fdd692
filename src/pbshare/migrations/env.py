"""Alembic environment: one schema history per domain branch, applied with ``upgrade heads``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import pbshare.all_models  # noqa: F401  (registers every table)
from pbshare.core.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            from pbshare.config import get_settings

            url = get_settings().resolved_database_url
        engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
