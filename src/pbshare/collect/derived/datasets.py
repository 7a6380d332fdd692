"""Custom SQL datasets: a user's SELECT, checked by sqlglot, stored in one dialect (PostgreSQL's),
transpiled to the engine in use (SQLite, PostgreSQL, MySQL/MariaDB) and materialised into a table."""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session
from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from pbshare.collect.derived import tables
from pbshare.collect.derived.models import Dataset
from pbshare.collect.derived.schemas import DatasetIn
from pbshare.collect.sqlcheck import parse_read_only
from pbshare.core import userquery
from pbshare.core.db import Database
from pbshare.core.dynamic import safe_identifier
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T
from pbshare.core.lookup import one_or_raise
from pbshare.core.userquery import QueryLimits, explain, limited
from pbshare.security.audit import service as audit
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse
from pbshare.warehouse.enums import TableOrigin

STORED_DIALECT = "postgres"
ENGINE_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql"}
PREVIEW_ROWS = 200


def check_sql(sql: str, *, dialect: str = STORED_DIALECT, allowed: set[str]) -> tuple[str, list[str]]:
    """One read-only SELECT over allowed ``topic.table`` names. Returns the SQL in the stored dialect and the tables."""
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
    try:
        return sqlglot.transpile(sql, read=STORED_DIALECT, write=ENGINE_DIALECTS.get(engine_name, engine_name),
                                 identify=True)[0]
    except sqlglot.errors.SqlglotError as exc:  # a stored definition from before a checker change
        raise Invalid(T("SQL 语句有语法错误：{e}", "The SQL has a syntax error: {e}", e=str(exc).splitlines()[0][:200]),
                      code="sql_syntax") from None


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (int, float, str, bool)):
        return v
    return str(v)


def run_preview(db: Session, database: Database, *, sql: str, dialect: str = STORED_DIALECT,
                limit: int = PREVIEW_ROWS) -> dict[str, Any]:
    """Check a SELECT and run it within the query limits, read-only: its first rows, the SQL as stored and as run."""
    stored, used = check_sql(sql, dialect=dialect, allowed=warehouse.readable_tables(db))
    engine = database.warehouse_reader
    runnable = for_engine(stored, engine.dialect.name)
    limits = QueryLimits.from_settings(database.settings)
    with engine.connect() as conn, conn.begin(), limited(conn, limits) as stop:
        try:
            result = conn.execute(text(f"SELECT * FROM ({runnable}) AS q LIMIT {int(min(limit, limits.max_rows))}"))
            columns = list(result.keys())
            rows = [[_jsonable(v) for v in r] for r in result]
        except Exception as exc:
            raise explain(exc, stop, limits) or Invalid(
                T("查询执行失败：{e}", "The query failed: {e}", e=str(getattr(exc, "orig", exc))[:300]),
                code="sql_failed") from None
    return {"sql": stored, "engine_sql": runnable, "tables": used, "columns": columns, "rows": rows}


def list_datasets(db: Session) -> list[Dataset]:
    return list(db.scalars(select(Dataset).order_by(Dataset.name)))


def get_dataset(db: Session, *, dataset_id: str) -> Dataset:
    """By id, or by name (the command line uses names)."""
    return db.get(Dataset, dataset_id) or one_or_raise(
        db, select(Dataset).where(Dataset.name == dataset_id), T("数据集不存在", "There is no such dataset"),
        code="dataset_not_found")


def save_dataset(db: Session, *, data: DatasetIn, principal: Principal | None = None,
                 dataset_id: str | None = None) -> Dataset:
    warehouse.get_topic(db, name=data.target_topic)
    table = safe_identifier(data.target_table or data.name, what="table")
    stored, _ = check_sql(data.sql, dialect=data.sql_dialect, allowed=warehouse.readable_tables(db))
    other = db.scalar(select(Dataset).where(Dataset.name == data.name))
    if other is not None and other.id != dataset_id:
        raise Conflict(T("数据集 {n} 已存在", "Dataset {n} already exists", n=data.name), code="dataset_exists")
    ds = get_dataset(db, dataset_id=dataset_id) if dataset_id else \
        Dataset(created_by=principal.username if principal else None)
    ds.name, ds.title, ds.sql, ds.sql_dialect = data.name, data.title, stored, STORED_DIALECT
    ds.target_topic, ds.target_table = data.target_topic, table
    if dataset_id is None:
        db.add(ds)
    db.flush()
    audit.record(db, action="collect.dataset.save", principal=principal, object_type="dataset", object_id=ds.id,
                 detail={"name": ds.name})
    return ds


def refresh_dataset(db: Session, database: Database, *, dataset_id: str, principal: Principal | None = None) -> Dataset:
    """(Re)build the dataset's table from its SELECT in one transaction: DROP, then CREATE TABLE … AS."""
    ds = get_dataset(db, dataset_id=dataset_id)
    stored, used = check_sql(ds.sql, dialect=ds.sql_dialect, allowed=warehouse.readable_tables(db))
    tables.claim(db, derived=ds, origin=TableOrigin.dataset)
    engine = database.warehouse_engine
    runnable = for_engine(stored, engine.dialect.name)
    target = f'"{ds.target_topic}"."{ds.target_table}"'

    def fill(conn: Connection) -> None:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {target}")
        conn.exec_driver_sql(f"CREATE TABLE {target} AS {runnable}")

    def failed(exc: Exception) -> Invalid:
        return Invalid(T("数据集生成失败：{e}", "The dataset could not be built: {e}",
                         e=str(getattr(exc, "orig", exc))[:300]), code="sql_failed")

    tables.rebuild(db, database, derived=ds, origin=TableOrigin.dataset, sources=used, fill=fill,
                   principal=principal, failed=failed)
    return ds


def cancel_refresh(db: Session, *, dataset_id: str) -> bool:
    """Stop the dataset's running refresh (this server process); its table stays as it was. False: none running."""
    ds = get_dataset(db, dataset_id=dataset_id)
    return userquery.cancel(tables.run_key("dataset", ds.id))


def delete_dataset(db: Session, *, dataset_id: str, principal: Principal | None = None) -> None:
    ds = get_dataset(db, dataset_id=dataset_id)
    db.delete(ds)
    audit.record(db, action="collect.dataset.delete", principal=principal, object_type="dataset", object_id=ds.id)
