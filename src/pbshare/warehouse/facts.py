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
from pbshare.warehouse.service import BLIND_SUFFIX, list_tables, topic_store

MAX_ROWS_PER_TABLE = 200


def person_facts(db: Session, database: Database, *, id_no: str, kind: str = "cn_ric",
                 topics: set[str] | None = None) -> list[dict[str, Any]]:
    """One entry per resource table holding rows about the person: table, resource, columns and rows
    (masked), newest rows first when the table carries ``src_received_at``."""
    vault = pii.vault_for(database.settings.resolved_data_dir)
    store = topic_store(database)
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
        index = vault.blind_index(id_no, kind=kind)
        hidden = {c["name"] for c in row.columns if c.get("blind_index_of")}
        pii_cols = {c["name"]: c.get("id_kind") or "" for c in row.columns if c.get("pii")}
        shown = [c for c in table.columns if c.name not in hidden]
        stmt = select(*shown).where(or_(*[table.c[b] == index for b in blind if b in table.c]))
        if "src_received_at" in table.c:
            stmt = stmt.order_by(table.c["src_received_at"].desc())
        with database.warehouse_engine.connect() as conn:
            rows = conn.execute(stmt.limit(MAX_ROWS_PER_TABLE)).all()
        if not rows:
            continue
        items = []
        for r in rows:
            item: dict[str, Any] = {}
            for col, value in zip(shown, r, strict=True):
                if col.name in pii_cols and value is not None:
                    try:
                        value = pii.mask(vault.open(value), pii_cols[col.name])
                    except Exception:  # a value sealed under a retired key: shown as hidden, never in clear
                        value = "******"
                item[col.name] = value
            items.append(item)
        titles = {c["name"]: c.get("title") or c["name"] for c in row.columns}
        out.append({"topic": row.topic, "table": row.name, "title": row.title, "resource_code": row.resource_code,
                    "columns": [{"name": c.name, "title": titles.get(c.name, c.name)} for c in shown],
                    "rows": items, "truncated": len(items) >= MAX_ROWS_PER_TABLE})
    return out
