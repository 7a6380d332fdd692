"""The derived warehouse table, written once for SQL datasets and no-code transforms alike.

Both own a table in a topic database that they rebuild from other warehouse tables. ``claim`` keeps a
definition off a table that an import or another definition owns; ``rebuild`` drops and refills the
table in one warehouse transaction, then registers it, counts its rows and records lineage and audit.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from pbshare.collect.derived.models import Dataset, Transform
from pbshare.core.clock import utcnow
from pbshare.core.db import Database
from pbshare.core.errors import AppError, Conflict
from pbshare.core.i18n import T
from pbshare.core.userquery import QueryLimits, explain, limited
from pbshare.metadata import service as metadata_service
from pbshare.security.audit import service as audit
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse
from pbshare.warehouse.enums import TableOrigin

Derived = Dataset | Transform
# origin → (the audit's object type, the lineage's "via" kind)
_KINDS = {TableOrigin.dataset: ("dataset", "sql"), TableOrigin.transform: ("transform", "transform")}


def run_key(kind: str, derived_id: str) -> str:
    """The name a running refresh is known by, so a person can cancel it."""
    return f"{kind}:{derived_id}"


def claim(db: Session, *, derived: Derived, origin: TableOrigin) -> None:
    """Refuse a target table that an import or another dataset or transform owns."""
    topic, name = derived.target_topic, derived.target_table
    row = warehouse.find_table(db, topic=topic, name=name)
    if row is not None and (row.origin != origin.value or row.origin_id != derived.id):
        raise Conflict(T("表 {t}.{n} 已被其他导入或加工使用，请换一个表名", "Table {t}.{n} belongs to another import "
                         "or transform; choose another name", t=topic, n=name), code="table_taken")


def rebuild(db: Session, database: Database, *, derived: Derived, origin: TableOrigin, sources: list[str],
            fill: Callable[[Connection], None], principal: Principal | None = None,
            failed: Callable[[Exception], AppError] | None = None) -> None:
    """Rebuild ``derived``'s table: ``fill`` drops and creates it inside one warehouse transaction (an error
    leaves the old table as it was; ``failed`` turns a database error into the user's message). Then the
    registry row, the row count, the refresh time, lineage from ``sources`` and the audit record.

    The fill runs within the query limits (time, memory) and can be cancelled (``cancel``); a stopped
    fill rolls back, so the old table stays whole. On SQLite it writes only the topic's own file, never
    the platform's, so logins and messages go on meanwhile."""
    kind, via_kind = _KINDS[origin]
    limits = QueryLimits.from_settings(database.settings)
    try:
        with database.warehouse_engine.begin() as conn, \
                limited(conn, limits, read_only=False, key=run_key(kind, derived.id)) as stop:
            try:
                fill(conn)
            except Exception as exc:
                stopped = explain(exc, stop, limits)
                if stopped is not None:
                    raise stopped from None
                raise
    except AppError:
        raise
    except Exception as exc:
        if failed is None:
            raise
        raise failed(exc) from None
    topic, name = derived.target_topic, derived.target_table
    warehouse.register_existing(db, database, topic=topic, name=name, title=derived.title, origin=origin.value,
                                origin_id=derived.id)
    derived.row_count = warehouse.refresh_count(db, database, topic=topic, name=name)
    derived.refreshed_at = utcnow()
    if sources:
        metadata_service.record_lineage(db, target=f"{topic}.{name}", sources=sources, via_kind=via_kind,
                                        via_id=derived.id)
    audit.record(db, action=f"collect.{kind}.refresh", principal=principal, object_type=kind, object_id=derived.id,
                 detail={"rows": derived.row_count})
