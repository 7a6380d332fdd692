"""The migrations build exactly the tables the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import pbshare.all_models  # noqa: F401
from pbshare.core import migrate
from pbshare.core.db import Base


def test_models_and_migrations_agree(database):
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == [], f"models differ from migrations: {diff[:5]}"
    assert migrate.is_current(database.engine)
