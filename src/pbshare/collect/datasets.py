"""Custom SQL datasets: a user's SELECT, checked by sqlglot, stored in one dialect (PostgreSQL's),
transpiled to the engine in use (SQLite, PostgreSQL, MySQL/MariaDB) and materialised into a table."""

from __future__ import annotations

import time
from typing import Any

import sqlglot
from sqlalchemy import text
from sqlalchemy.orm import Session

from pbshare.collect.models import Dataset
from pbshare.collect.schemas import DatasetIn
from pbshare.collect.sqlcheck import parse_read_only
from pbshare.core.clock import utcnow
from pbshare.core.db import Database
from pbshare.core.dynamic import safe_identifier
from pbshare.core.errors import Conflict, Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.security.audit import service as audit
from pbshare.warehouse import service as warehouse
from pbshare.warehouse.enums import TableOrigin

STORED_DIALECT = "postgres"
ENGINE_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql"}
PREVIEW_ROWS = 200
TIMEOUT_SECONDS = 60
def check_sql(sql: str, *, dialect: str = STORED_DIALECT, allowed: set[str]) -> tuple[str, list[str]]:
    """One read-only SELECT over allowed ``topic.table`` names. Returns the SQL in the stored dialect and the tables."""
    from sqlglot import exp
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    stmt = parse_read_only(sql, dialect=dialect)
    stmt = normalize_identifiers(stmt, dialect=dialect)
    ctes = {c.alias_or_name for c in stmt.find_all(exp.CTE)}
    used: list[str] = []
    for table in stmt.find_all(exp.Table):
        if not table.name:
            raise Invalid(T("只能查询数据仓库中的表", "Only warehouse tables can be queried"), code="sql_table_denied")
        if not table.db and table.name in ctes:
            continue
        full = f"{table.db}.{table.name}" if table.db else table.name
        if table.catalog or full not in allowed:
            raise Invalid(T("不能查询表 {t}：只能查询您有权读取的专题库表（写成 专题库.表名）",
                            "The table {t} cannot be queried: use topic-database tables you may read (topic.table)",
                            t=full), code="sql_table_denied", detail={"table": full})
        used.append(full)
    return stmt.sql(dialect=STORED_DIALECT), sorted(set(used))


def for_engine(sql: str, engine_name: str) -> str:
    """The stored SQL rewritten for ``engine_name``, every identifier quoted (topic names like ``case``)."""
    return sqlglot.transpile(sql, read=STORED_DIALECT, write=ENGINE_DIALECTS.get(engine_name, engine_name),
                             identify=True)[0]


def _timeout(conn, seconds: int) -> None:
    name = conn.dialect.name
    if name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
    elif name in ("mysql", "mariadb"):
        conn.exec_driver_sql(f"SET SESSION max_statement_time = {int(seconds)}")
    elif name == "sqlite":
        deadline = time.monotonic() + seconds
        conn.connection.driver_connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)


def run_preview(db: Session, database: Database, *, sql: str, dialect: str = STORED_DIALECT,
                limit: int = PREVIEW_ROWS) -> dict[str, Any]:
    stored, tables = check_sql(sql, dialect=dialect, allowed=warehouse.readable_tables(db))
    engine = database.warehouse_engine
    runnable = for_engine(stored, engine.dialect.name)
    with engine.connect() as conn, conn.begin():
        _timeout(conn, TIMEOUT_SECONDS)
        try:
            result = conn.execute(text(f"SELECT * FROM ({runnable}) AS q LIMIT {int(limit)}"))
            columns = list(result.keys())
            rows = [[_jsonable(v) for v in r] for r in result]
        except Exception as exc:
            raise Invalid(T("查询执行失败：{e}", "The query failed: {e}", e=str(getattr(exc, "orig", exc))[:300]),
                          code="sql_failed") from None
        finally:
            if engine.dialect.name == "sqlite":
                conn.connection.driver_connection.set_progress_handler(None, 0)
    return {"sql": stored, "engine_sql": runnable, "tables": tables, "columns": columns, "rows": rows}


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (int, float, str, bool)):
        return v
    return str(v)


def list_datasets(db: Session) -> list[Dataset]:
    from sqlalchemy import select

    return list(db.scalars(select(Dataset).order_by(Dataset.name)))


def get_dataset(db: Session, *, dataset_id: str) -> Dataset:
    from sqlalchemy import select

    ds = db.get(Dataset, dataset_id) or db.scalar(select(Dataset).where(Dataset.name == dataset_id))
    if ds is None:
        raise NotFound(T("数据集不存在", "There is no such dataset"), code="dataset_not_found")
    return ds


def save_dataset(db: Session, *, data: DatasetIn, principal: Any = None, dataset_id: str | None = None) -> Dataset:
    from sqlalchemy import select

    warehouse.get_topic(db, name=data.target_topic)
    table = safe_identifier(data.target_table or data.name, what="table")
    stored, _ = check_sql(data.sql, dialect=data.sql_dialect, allowed=warehouse.readable_tables(db))
    other = db.scalar(select(Dataset).where(Dataset.name == data.name))
    if other is not None and other.id != dataset_id:
        raise Conflict(T("数据集 {n} 已存在", "Dataset {n} already exists", n=data.name), code="dataset_exists")
    ds = get_dataset(db, dataset_id=dataset_id) if dataset_id else Dataset(created_by=getattr(principal, "username", None))
    ds.name, ds.title, ds.sql, ds.sql_dialect = data.name, data.title, stored, STORED_DIALECT
    ds.target_topic, ds.target_table = data.target_topic, table
    if dataset_id is None:
        db.add(ds)
    db.flush()
    audit.record(db, action="collect.dataset.save", principal=principal, object_type="dataset", object_id=ds.id,
                 detail={"name": ds.name})
    return ds


def _claim_table(db: Session, *, topic: str, name: str, origin: str, origin_id: str) -> None:
    row = warehouse.find_table(db, topic=topic, name=name)
    if row is not None and (row.origin != origin or row.origin_id != origin_id):
        raise Conflict(T("表 {t}.{n} 已被其他导入或加工使用，请换一个表名", "Table {t}.{n} belongs to another import "
                         "or transform; choose another name", t=topic, n=name), code="table_taken")


def refresh_dataset(db: Session, database: Database, *, dataset_id: str, principal: Any = None) -> Dataset:
    """(Re)build the dataset's table from its SELECT in one transaction."""
    ds = get_dataset(db, dataset_id=dataset_id)
    stored, tables = check_sql(ds.sql, dialect=ds.sql_dialect, allowed=warehouse.readable_tables(db))
    _claim_table(db, topic=ds.target_topic, name=ds.target_table, origin=TableOrigin.dataset.value, origin_id=ds.id)
    engine = database.warehouse_engine
    runnable = for_engine(stored, engine.dialect.name)
    target = f'"{ds.target_topic}"."{ds.target_table}"'
    try:
        with engine.begin() as conn:
            _timeout(conn, 10 * TIMEOUT_SECONDS)
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {target}")
            conn.exec_driver_sql(f"CREATE TABLE {target} AS {runnable}")
            if engine.dialect.name == "sqlite":
                conn.connection.driver_connection.set_progress_handler(None, 0)
    except Exception as exc:
        raise Invalid(T("数据集生成失败：{e}", "The dataset could not be built: {e}", e=str(getattr(exc, "orig", exc))[:300]),
                      code="sql_failed") from None
    warehouse.register_existing(db, database, topic=ds.target_topic, name=ds.target_table, title=ds.title,
                                origin=TableOrigin.dataset.value, origin_id=ds.id)
    ds.row_count = warehouse.refresh_count(db, database, topic=ds.target_topic, name=ds.target_table)
    ds.refreshed_at = utcnow()
    _lineage(db, target=f"{ds.target_topic}.{ds.target_table}", sources=tables, via_kind="sql", via_id=ds.id)
    audit.record(db, action="collect.dataset.refresh", principal=principal, object_type="dataset", object_id=ds.id,
                 detail={"rows": ds.row_count})
    return ds


def _lineage(db: Session, *, target: str, sources: list[str], via_kind: str, via_id: str) -> None:
    from pbshare.metadata import service as metadata_service

    if sources:
        metadata_service.record_lineage(db, target=target, sources=sources, via_kind=via_kind, via_id=via_id)


def delete_dataset(db: Session, *, dataset_id: str, principal: Any = None) -> None:
    ds = get_dataset(db, dataset_id=dataset_id)
    db.delete(ds)
    audit.record(db, action="collect.dataset.delete", principal=principal, object_type="dataset", object_id=ds.id)
