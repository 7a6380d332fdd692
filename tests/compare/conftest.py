"""The topic database the import-hook tests load into."""

from __future__ import annotations

import pytest

from pbshare.warehouse import service as warehouse


@pytest.fixture
def topic(db, database) -> str:
    warehouse.create_topic(db, database, name="case", title="案件专题库", exist_ok=True)
    db.commit()
    return "case"
