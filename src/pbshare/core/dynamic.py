"""Tables created at run time: topic databases (专题库) and their tables.

A topic database is a PostgreSQL schema, or on SQLite a separate database file under
``<data_dir>/topics/`` attached to every connection under the topic's name. Names reach SQL only
after :func:`safe_identifier` has accepted them, and then always quoted by SQLAlchemy.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    inspect,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeEngine

from pbshare.core.errors import Conflict, Invalid, NotFound
from pbshare.core.i18n import T

_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Names that would shadow the platform's own schemas or SQL keywords that break unquoted tools.
_RESERVED = {
    "main", "temp", "public", "information_schema", "pg_catalog", "pg_toast", "select", "table",
    "from", "where", "order", "group", "user", "default", "null", "and", "or", "not",
}

COLUMN_TYPES: dict[str, type[TypeEngine] | TypeEngine] = {
    "string": String,
    "text": Text,
    "integer": Integer,
    "bigint": BigInteger,
    "decimal": Numeric,
    "float": Float,
    "date": Date,
    "datetime": DateTime(timezone=True),
    "boolean": Boolean,
    "json": JSON,
    "enum": String,
}


def safe_identifier(name: str, *, what: str = "name") -> str:
    """Accept lower-case ASCII identifiers only: letters, digits, underscore, starting with a letter."""
    if not isinstance(name, str) or not _IDENT.match(name) or name in _RESERVED or name.startswith("pg_"):
        raise Invalid(
            T(
                "名称“{name}”不可用：只能用小写字母、数字和下划线，以字母开头，最长 63 个字符，且不能是保留字",
                "The name '{name}' cannot be used: use lower-case letters, digits and underscores, "
                "starting with a letter, at most 63 characters, and not a reserved word",
                name=str(name)[:80],
            ),
            code="bad_identifier",
            detail={"field": what},
        )
    return name


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str = "string"
    length: int | None = None
    nullable: bool = True
    primary_key: bool = False

    def to_column(self) -> Column:
        safe_identifier(self.name, what="column")
        if self.type not in COLUMN_TYPES:
            raise Invalid(
                T("不支持的字段类型：{t}", "Unsupported column type: {t}", t=self.type), code="bad_column_type"
            )
        kind = COLUMN_TYPES[self.type]
        if kind is String and self.length:
            col_type: TypeEngine = String(self.length)
        elif kind is Numeric:
            col_type = Numeric(38, 10)
        elif isinstance(kind, TypeEngine):
            col_type = kind
        else:
            col_type = kind()
        return Column(self.name, col_type, nullable=self.nullable and not self.primary_key,
                      primary_key=self.primary_key)


class TopicStore:
    """Create, list and drop topic databases and their tables on one engine."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine = engine
        self.topics_dir = data_dir / "topics"
        self.is_sqlite = engine.dialect.name == "sqlite"

    # topic databases -------------------------------------------------------------------------
    def create_topic(self, name: str) -> None:
        safe_identifier(name, what="topic")
        if self.is_sqlite:
            self.topics_dir.mkdir(parents=True, exist_ok=True)
            path = self.topics_dir / f"{name}.db"
            if not path.exists():
                limit = sqlite3.connect(":memory:").getlimit(sqlite3.SQLITE_LIMIT_ATTACHED)
                if len(list(self.topics_dir.glob("*.db"))) >= limit:
                    raise Conflict(
                        T(
                            "嵌入式数据库最多支持 {n} 个专题库；请改用 PostgreSQL 或删除不用的专题库",
                            "The embedded database holds at most {n} topic databases; "
                            "use PostgreSQL or drop one you no longer need",
                            n=limit,
                        ),
                        code="too_many_topics",
                    )
                topic_file = sqlite3.connect(path)
                topic_file.execute("PRAGMA journal_mode=WAL")
                topic_file.close()
            # Pooled connections were opened before the file existed; new ones attach it.
            self.engine.dispose()
        else:
            with self.engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))

    def drop_topic(self, name: str) -> None:
        safe_identifier(name, what="topic")
        if self.is_sqlite:
            self.engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                (self.topics_dir / f"{name}.db{suffix}").unlink(missing_ok=True)
        else:
            with self.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))

    def topic_exists(self, name: str) -> bool:
        safe_identifier(name, what="topic")
        if self.is_sqlite:
            return (self.topics_dir / f"{name}.db").exists()
        return name in inspect(self.engine).get_schema_names()

    # tables ----------------------------------------------------------------------------------
    def define_table(self, topic: str, name: str, columns: list[ColumnSpec]) -> Table:
        safe_identifier(topic, what="topic")
        safe_identifier(name, what="table")
        if not columns:
            raise Invalid(T("表至少要有一个字段", "A table needs at least one column"), code="no_columns")
        names = [c.name for c in columns]
        if len(set(names)) != len(names):
            raise Invalid(T("字段名重复", "Column names repeat"), code="duplicate_columns")
        return Table(name, MetaData(), *[c.to_column() for c in columns], schema=topic)

    def create_table(self, topic: str, name: str, columns: list[ColumnSpec], *, exist_ok: bool = False) -> Table:
        if not self.topic_exists(topic):
            raise NotFound(T("专题库 {t} 不存在", "Topic database {t} does not exist", t=topic))
        table = self.define_table(topic, name, columns)
        if self.has_table(topic, name):
            if exist_ok:
                return self.reflect_table(topic, name)
            raise Conflict(T("表 {t}.{n} 已存在", "Table {t}.{n} already exists", t=topic, n=name))
        table.create(self.engine)
        return table

    def has_table(self, topic: str, name: str) -> bool:
        return inspect(self.engine).has_table(safe_identifier(name), schema=safe_identifier(topic))

    def list_tables(self, topic: str) -> list[str]:
        return sorted(inspect(self.engine).get_table_names(schema=safe_identifier(topic)))

    def reflect_table(self, topic: str, name: str) -> Table:
        if not self.has_table(topic, name):
            raise NotFound(T("表 {t}.{n} 不存在", "Table {t}.{n} does not exist", t=topic, n=name))
        return Table(name, MetaData(), schema=topic, autoload_with=self.engine)

    def drop_table(self, topic: str, name: str) -> None:
        self.reflect_table(topic, name).drop(self.engine)
