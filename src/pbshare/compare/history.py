"""Record history: each record's versions with valid-from / valid-to and the delivery that made them.

A (unit, target)'s current state is its versions with no ``valid_to``; a delivery closes the versions of
the records it changed or removed and opens new versions for the records it added or changed, all at the
delivery's time. The state "as of" a date is every version valid then. Values and keys are sealed; a
record is found by the blind index of its key's values (``key_text``), never by the values in clear.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from pbshare.compare.models import RecordVersion
from pbshare.core.clock import as_utc
from pbshare.security.crypto import pii

VID = "__vid"  # the current version's row id, beside the values of a current snapshot
CHUNK = 5000


def key_text(values: Sequence[Any]) -> str:
    """The canonical text of a key's values (all text, in key order)."""
    return json.dumps([None if v is None else str(v) for v in values], ensure_ascii=False)


def key_texts(frame: pl.DataFrame, key: list[str]) -> list[str]:
    return [key_text(r) for r in frame.select(key).iter_rows()]


def current(db: Session, vault: pii.PiiVault, *, scope: str, target: str) -> pl.DataFrame:
    """The current state (every column as text) with each record's version id in ``__vid``."""
    stmt = select(RecordVersion.id, RecordVersion.values_sealed).where(
        RecordVersion.target == target, RecordVersion.scope == scope, RecordVersion.valid_to.is_(None))
    ids: list[int] = []
    records: list[dict] = []
    for vid, sealed in db.execute(stmt):
        ids.append(vid)
        records.append(json.loads(vault.open(sealed)))
    return _frame(records).with_columns(pl.Series(VID, ids, dtype=pl.Int64))


def _frame(records: list[dict]) -> pl.DataFrame:
    columns: list[str] = []
    for r in records:
        for c in r:
            if c not in columns:
                columns.append(c)
    return pl.DataFrame({c: [r.get(c) for r in records] for c in columns}, schema={c: pl.String for c in columns})


def close(db: Session, *, ids: Iterable[int], at: datetime, ended_by: str) -> None:
    """End these current versions at ``at``."""
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        db.execute(update(RecordVersion).where(RecordVersion.id.in_(ids[start:start + CHUNK]))
                   .values(valid_to=as_utc(at), ended_by=ended_by))


def open_versions(db: Session, vault: pii.PiiVault, *, scope: str, target: str, key: list[str],
                  frame: pl.DataFrame, at: datetime, delivery_id: str, delivery_kind: str,
                  comparison_id: str | None) -> int:
    """New current versions for these rows (key + values, all text), valid from ``at``."""
    if frame.height == 0:
        return 0
    texts = key_texts(frame, key)
    indexes = vault.blind_index_many(texts)
    sealed_values = vault.seal_many([json.dumps(r, ensure_ascii=False) for r in frame.iter_rows(named=True)])
    when = as_utc(at)
    rows = [{"scope": scope, "target": target, "key_index": i, "values_sealed": v,
             "valid_from": when, "valid_to": None, "delivery_id": delivery_id, "delivery_kind": delivery_kind,
             "comparison_id": comparison_id}
            for i, v in zip(indexes, sealed_values, strict=True)]
    conn = db.connection()  # Core executemany: the ORM's bulk path costs more than the insert itself
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(RecordVersion), rows[start:start + CHUNK])
    return len(rows)


def versions(db: Session, vault: pii.PiiVault, *, scope: str, target: str,
             key_index: str) -> list[dict[str, Any]]:
    """Every version of one record, oldest first: values, valid_from, valid_to, the deliveries."""
    stmt = select(RecordVersion).where(RecordVersion.target == target, RecordVersion.scope == scope,
                                       RecordVersion.key_index == key_index).order_by(RecordVersion.valid_from,
                                                                                     RecordVersion.id)
    return [{"values": json.loads(vault.open(v.values_sealed)), "valid_from": as_utc(v.valid_from),
             "valid_to": as_utc(v.valid_to) if v.valid_to else None, "delivery_id": v.delivery_id,
             "delivery_kind": v.delivery_kind, "comparison_id": v.comparison_id, "ended_by": v.ended_by}
            for v in db.scalars(stmt)]


def earlier_values(db: Session, vault: pii.PiiVault, *, scope: str, target: str,
                   key_indexes: list[str]) -> dict[str, list[dict]]:
    """For each record, the values of its closed versions, newest first (to see a value flip back)."""
    out: dict[str, list[tuple[datetime, dict]]] = {}
    for start in range(0, len(key_indexes), CHUNK):
        stmt = select(RecordVersion.key_index, RecordVersion.valid_from, RecordVersion.values_sealed).where(
            RecordVersion.target == target, RecordVersion.scope == scope, RecordVersion.valid_to.is_not(None),
            RecordVersion.key_index.in_(key_indexes[start:start + CHUNK]))
        for ki, since, sealed in db.execute(stmt):
            out.setdefault(ki, []).append((as_utc(since), json.loads(vault.open(sealed))))
    return {ki: [v for _, v in sorted(items, key=lambda x: x[0], reverse=True)] for ki, items in out.items()}


def as_of(db: Session, vault: pii.PiiVault, *, scope: str, target: str, at: datetime,
          key_index: str | None = None, limit: int | None = None, offset: int = 0) -> tuple[list[dict], int]:
    """Records as they were at ``at`` (valid_from ≤ at < valid_to), with the delivery that made each."""
    when = as_utc(at)
    cond = and_(RecordVersion.target == target, RecordVersion.scope == scope, RecordVersion.valid_from <= when,
                or_(RecordVersion.valid_to.is_(None), RecordVersion.valid_to > when))
    if key_index is not None:
        cond = and_(cond, RecordVersion.key_index == key_index)
    total = int(db.scalar(select(func.count()).select_from(RecordVersion).where(cond)) or 0)
    stmt = select(RecordVersion).where(cond).order_by(RecordVersion.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [{"values": json.loads(vault.open(v.values_sealed)), "valid_from": as_utc(v.valid_from),
             "valid_to": as_utc(v.valid_to) if v.valid_to else None, "delivery_id": v.delivery_id,
             "delivery_kind": v.delivery_kind} for v in db.scalars(stmt)]
    return rows, total
