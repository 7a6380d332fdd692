"""A person's facts across the warehouse: every row of a catalog resource's table whose identifier
column (matched through its blind index, never in clear) is that person's ID number.

Used by the debtor's file. Identifiers in the rows come back masked; blind indexes are never shown.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pbshare.core.db import Database
from pbshare.security.crypto import pii
from pbshare.warehouse.service import (
    BLIND_SUFFIX,
    column_titles,
    list_tables,
    masked_rows,
    topic_store,
    visible_columns,
)

MAX_ROWS_PER_TABLE = 200


def person_facts(db: Session, database: Database, *, id_no: str, kind: str = "cn_ric",
                 topics: set[str] | None = None) -> list[dict[str, Any]]:
    """One entry per resource table holding rows about the person: table, resource, columns and rows
    (masked), newest rows first when the table carries ``src_received_at``."""
    vault = pii.vault_for(database.settings.resolved_data_dir)
    store = topic_store(database)
    index = vault.blind_index(id_no, kind=kind)
    out: list[dict[str, Any]] = []
    for row in list_tables(db):
        if not row.resource_code or (topics is not None and row.topic not in topics):
            continue
        id_cols = [c["name"] for c in row.columns if c.get("pii") and (c.get("id_kind") or "") == kind]
        blind = [c + BLIND_SUFFIX for c in id_cols
                 if any(x.get("blind_index_of") == c for x in row.columns)]
        if not blind or not store.has_table(row.topic, row.name):
            continue
        table = store.reflect_table(row.topic, row.name)
        shown = visible_columns(row, table)
        stmt = select(*shown).where(or_(*[table.c[b] == index for b in blind if b in table.c]))
        if "src_received_at" in table.c:
            stmt = stmt.order_by(table.c["src_received_at"].desc())
        with database.warehouse_engine.connect() as conn:
            rows = conn.execute(stmt.limit(MAX_ROWS_PER_TABLE)).all()
        if not rows:
            continue
        items = masked_rows(row, shown, rows, vault)
        out.append({"topic": row.topic, "table": row.name, "title": row.title, "resource_code": row.resource_code,
                    "columns": column_titles(row, shown), "rows": items, "truncated": len(items) >= MAX_ROWS_PER_TABLE})
    return out
