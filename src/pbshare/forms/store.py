"""Where a model's records are kept: its warehouse table, the connection to write it, and the sealing of
personal fields (SM4-GCM with a blind index column ``<column>_bidx`` beside it, masked on read)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from pbshare.core.db import Database
from pbshare.forms import fields as ftypes
from pbshare.forms.models import DataModel
from pbshare.security.crypto import pii
from pbshare.warehouse import service as warehouse

SYSTEM_COLUMNS: list[dict[str, Any]] = [
    {"name": "rec_id", "type": "string", "length": 36, "title": "记录编号"},
    {"name": "rec_deleted", "type": "boolean", "title": "已删除"},
    {"name": "rec_created_at", "type": "datetime", "title": "创建时间"},
    {"name": "rec_created_by", "type": "string", "length": 100, "title": "创建人"},
    {"name": "rec_updated_at", "type": "datetime", "title": "修改时间"},
    {"name": "rec_updated_by", "type": "string", "length": 100, "title": "修改人"},
]
BIDX = warehouse.BLIND_SUFFIX


def table(db: Session, database: Database, model: DataModel) -> Table:
    """The model's table as it is now, reflected through ``reading`` so this request's DDL shows."""
    with reading(db, database) as conn:
        return Table(model.table_name, MetaData(), schema=model.topic, autoload_with=conn)


@contextmanager
def connect(db: Session, database: Database) -> Iterator[Connection]:
    """The warehouse connection for a request's writes: the request's own transaction when the warehouse is
    the platform's engine, else one transaction of its own (committed before the request's)."""
    if database.warehouse_engine is database.engine:
        yield db.connection()
    else:
        with database.warehouse_engine.begin() as conn:
            yield conn


@contextmanager
def reading(db: Session, database: Database) -> Iterator[Connection]:
    """A connection that sees this request's own writes (``connect``'s transaction when shared)."""
    if database.warehouse_engine is database.engine:
        yield db.connection()
    else:
        with database.warehouse_engine.connect() as conn:
            yield conn


def vault(database: Database) -> pii.PiiVault:
    return pii.vault_for(database.settings.resolved_data_dir)


def warehouse_fields(fields: list[dict]) -> list[dict]:
    """The warehouse's column list for fields (``warehouse.create_table``'s ``fields``)."""
    return [{"name": f["column"], "type": ftypes.storage_type(f), "title": f["label"], "pii": ftypes.is_personal(f),
             "id_kind": ftypes.mask_kind(f) or None} for f in fields]


def encode(field: dict, value: Any, v: pii.PiiVault) -> dict[str, Any]:
    """Columns and values for one converted field value."""
    col = field["column"]
    if ftypes.is_personal(field):
        text = None if value is None else str(ftypes.to_json(field, value))
        return {col: v.seal(text), col + BIDX: None if text is None else v.blind_index(text, kind=ftypes.mask_kind(field))}
    return {col: value}


def decode(field: dict, stored: Any, v: pii.PiiVault, *, unmask: bool = False) -> Any:
    """A stored value as the API shows it: personal values opened, then masked unless ``unmask``."""
    if stored is None:
        return None
    if ftypes.is_personal(field):
        try:
            text = v.open(stored)
        except Exception:
            return "******"
        return text if unmask else pii.mask(text, ftypes.mask_kind(field))
    return ftypes.to_json(field, stored)


def plain(field: dict, stored: Any, v: pii.PiiVault) -> Any:
    """A stored value opened, for checks and conversions that never leave the server."""
    if stored is None:
        return None
    if ftypes.is_personal(field):
        return v.open(stored)
    return stored
