"""No-code transforms: tables joined (inner/left) on keys, filtered, grouped and aggregated, with
computed columns, written to a new table. Built with SQLAlchemy Core, so they run on every engine.

A spec::

    {"tables": [{"table": "case.si_monthly", "alias": "s"}, {"table": "case.vehicle", "alias": "v"}],
     "joins": [{"kind": "left", "alias": "v", "on": [["s.id_no_bidx", "v.id_no_bidx"]]}],
     "filters": [{"column": "s.base_yuan", "op": ">", "value": 1000}],
     "computed": [{"as": "base_wan", "op": "/", "args": ["s.base_yuan", 10000]}],
     "group_by": ["s.insurance"],
     "aggregates": [{"fn": "count_distinct", "column": "s.id_no_bidx", "as": "people"}],
     "columns": ["s.name", "v.plate"]}     # without grouping: the columns to keep (default: all)
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Float,
    FromClause,
    Integer,
    MetaData,
    Numeric,
    Select,
    String,
    Table,
    and_,
    cast,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from pbshare.collect.derived import tables
from pbshare.collect.derived.models import Transform
from pbshare.collect.derived.schemas import TransformIn
from pbshare.core import userquery
from pbshare.core.clock import LOCAL_TZ
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

OPS = {">", "<", "=", "!=", ">=", "<=", "range", "contains", "in", "is_null", "not_null"}
AGGREGATES = {"count", "count_distinct", "sum", "avg", "min", "max"}
ARITH = {"+", "-", "*", "/", "concat"}
PREVIEW_ROWS = 200


def _bad(zh: str, en: str, **kw: Any) -> Invalid:
    return Invalid(T(zh, en, **kw), code="bad_transform")


class _Builder:
    """Turns a spec into one SELECT over aliased warehouse tables, refusing anything it cannot resolve."""

    def __init__(self, db: Session, database: Database, spec: dict) -> None:
        self.db, self.database, self.spec = db, database, spec
        self.allowed = warehouse.readable_tables(db)
        self.tables: dict[str, FromClause] = {}
        self.sources: list[str] = []
        store = warehouse.topic_store(database)
        for entry in spec.get("tables") or []:
            full = str(entry.get("table", ""))
            topic, _, name = full.partition(".")
            alias = safe_identifier(entry.get("alias") or name, what="alias")
            if full not in self.allowed:
                raise _bad("不能使用表 {t}：只能使用您有权读取的专题库表", "Table {t} cannot be used: only warehouse tables "
                           "you may read", t=full)
            self.tables[alias] = store.reflect_table(topic, name).alias(alias)
            self.sources.append(full)
        if not self.tables:
            raise _bad("请至少选择一张表", "Choose at least one table")
        self.computed: dict[str, ColumnElement[Any]] = {}

    def col(self, ref: Any) -> ColumnElement[Any]:
        if isinstance(ref, (int, float)) and not isinstance(ref, bool):
            return literal(ref)
        ref = str(ref)
        if ref in self.computed:
            return self.computed[ref]
        alias, _, name = ref.partition(".")
        if not name and len(self.tables) == 1:
            alias, name = next(iter(self.tables)), alias
        table = self.tables.get(alias)
        if table is None or name not in table.c:
            if _NUMBER.fullmatch(ref.strip()):  # a constant typed into the page (computed columns) comes as text
                number = Decimal(ref.strip())
                return literal(int(number) if number == number.to_integral_value() and "." not in ref else number)
            raise _bad("找不到字段 {c}", "There is no column {c}", c=ref)
        return table.c[name]

    def from_clause(self) -> FromClause:
        aliases = list(self.tables)
        clause: FromClause = self.tables[aliases[0]]
        joined = {aliases[0]}
        for j in self.spec.get("joins") or []:
            alias = j.get("alias")
            if alias not in self.tables or alias in joined:
                raise _bad("连接的表 {a} 无效", "The joined table {a} is not valid", a=alias)
            pairs = j.get("on") or []
            if not pairs:
                raise _bad("连接需要关联字段", "A join needs key columns")
            cond = and_(*[self.col(left) == self.col(right) for left, right in pairs])
            kind = j.get("kind", "inner")
            if kind not in ("inner", "left"):
                raise _bad("连接方式只能是内连接或左连接", "A join is inner or left")
            clause = clause.join(self.tables[alias], cond, isouter=kind == "left")
            joined.add(alias)
        if joined != set(aliases):
            raise _bad("每张表都要与第一张表连接", "Every table must be joined to the first one")
        return clause

    def filters(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        for f in self.spec.get("filters") or []:
            ref, op, value = f.get("column"), f.get("op"), f.get("value")
            column = self.col(ref)
            if op not in OPS:
                raise _bad("不支持的筛选条件 {o}", "Unsupported filter {o}", o=op)

            def typed(v: Any, column: ColumnElement[Any] = column, ref: Any = ref) -> Any:
                return filter_value(v, column.type, str(ref))

            if op == "range":
                if not isinstance(value, list) or len(value) != 2:
                    raise _bad("范围条件需要两个值", "A range needs two values")
                out.append(column.between(typed(value[0]), typed(value[1])))
            elif op == "contains":
                # text search on any column: a date or number is searched as the text it shows
                text_column = column if isinstance(column.type, String) else cast(column, String)
                out.append(text_column.contains(str(value), autoescape=True))
            elif op == "in":
                values = value if isinstance(value, list) else [] if value is None else [value]
                out.append(column.in_([typed(v) for v in values]))
            elif op == "is_null":
                out.append(column.is_(None))
            elif op == "not_null":
                out.append(column.is_not(None))
            elif value is None or value == "":
                if op not in ("=", "!="):
                    raise _bad("筛选条件 {c} {o} 需要一个值", "The filter {c} {o} needs a value", c=ref, o=op)
                out.append(column.is_(None) if op == "=" else column.is_not(None))
            else:
                v = literal(typed(value), type_=column.type)
                out.append(_COMPARE[op](column, v))
        return out

    def add_computed(self) -> None:
        for c in self.spec.get("computed") or []:
            name = safe_identifier(c.get("as", ""), what="computed")
            op, args = c.get("op"), c.get("args") or []
            if op not in ARITH or len(args) < 2:
                raise _bad("计算列 {n} 需要运算符和两个以上的值", "Computed column {n} needs an operator and two values", n=name)
            parts = [self.col(a) for a in args]
            expr: ColumnElement[Any]
            if op == "concat":
                expr = func.concat(*parts) if self.database.warehouse_engine.dialect.name != "sqlite" else \
                    _sqlite_concat(parts)
            else:
                expr = parts[0]
                for p in parts[1:]:
                    expr = {"+": expr + p, "-": expr - p, "*": expr * p, "/": expr / p}[op]
            self.computed[name] = expr

    def build(self) -> Select[Any]:
        self.add_computed()
        from_clause = self.from_clause()
        out: list[ColumnElement[Any]] = []
        group = self.spec.get("group_by") or []
        aggregates = self.spec.get("aggregates") or []
        if group or aggregates:
            for ref in group:
                out.append(self.col(ref).label(_out_name(ref)))
            for a in aggregates:
                fn, name = a.get("fn"), safe_identifier(a.get("as", ""), what="aggregate")
                if fn not in AGGREGATES:
                    raise _bad("不支持的汇总方式 {f}", "Unsupported aggregate {f}", f=fn)
                expr: ColumnElement[Any]
                if fn == "count" and not a.get("column"):
                    expr = func.count()
                else:
                    c = self.col(a.get("column"))
                    expr = {"count": func.count(c), "count_distinct": func.count(c.distinct()), "sum": func.sum(c),
                            "avg": func.avg(c), "min": func.min(c), "max": func.max(c)}[fn]
                out.append(expr.label(name))
            stmt = select(*out).select_from(from_clause).group_by(*[self.col(g) for g in group])
        else:
            refs = self.spec.get("columns") or [f"{a}.{c.name}" for a, t in self.tables.items() for c in t.columns]
            out = [self.col(r).label(_out_name(r)) for r in refs]
            out += [expr.label(name) for name, expr in self.computed.items()]
            stmt = select(*out).select_from(from_clause)
        names = [c.name for c in stmt.selected_columns]
        if len(set(names)) != len(names):
            raise _bad("结果中有重名字段，请给字段起别名", "The result has repeated column names; rename them")
        conditions = self.filters()
        if conditions:
            stmt = stmt.where(and_(*conditions))
        return stmt


_NUMBER = re.compile(r"[-+]?[0-9]+(\.[0-9]+)?")
_COMPARE: dict[str, Callable[[ColumnElement[Any], ColumnElement[Any]], ColumnElement[bool]]] = {
    ">": operator.gt, "<": operator.lt, "=": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le}

# What a filter value may be written as, by column type; the browser sends every value as text.
_TRUE = {"true", "1", "yes", "y", "t", "是", "真"}
_FALSE = {"false", "0", "no", "n", "f", "否", "假"}
_TYPE_WORDS = {  # what the column wants, and how to write it
    "integer": ("整数", "an integer", "5"),
    "number": ("数字", "a number", "1000.50"),
    "date": ("日期", "a date", "2023-01-31"),
    "datetime": ("日期时间", "a date and time", "2023-01-31 08:30:00"),
    "boolean": ("是/否值", "a yes/no value", "true / false"),
}


def _not_a(value: Any, kind: str, column: str) -> Invalid:
    kind_zh, kind_en, example = _TYPE_WORDS[kind]
    return Invalid(T("筛选值“{v}”不是{kind_zh}，不能用于字段 {c}；请写成 {example} 的形式",
                     "'{v}' is not {kind_en} for column {c}; write it as {example}",
                     v=str(value)[:100], kind_zh=kind_zh, kind_en=kind_en, c=column, example=example),
                   code="bad_filter_value", detail={"column": column, "value": str(value)[:100], "expected": kind})


def _date_text(text: str) -> str:
    """2023/1/31, 2023.1.31 and 2023年1月31日 as 2023-01-31 (ISO is taken as it is)."""
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(.*)", text)
    if not m:
        return text
    rest = m.group(4).strip()
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" + (" " + rest if rest else "")


def filter_value(value: Any, sql_type: Any, column: str) -> Any:
    """A filter's value as the column's type (integer, numeric, date, timestamp, boolean, text), so every
    engine compares like with like; a value that is not of that type is refused with a 422 naming both."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text.strip()
    if isinstance(sql_type, Boolean):
        if isinstance(value, bool):
            return value
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise _not_a(value, "boolean", column)
    if isinstance(sql_type, DateTime):
        try:
            moment = datetime.fromisoformat(_date_text(text).replace("Z", "+00:00"))
        except ValueError:
            raise _not_a(value, "datetime", column) from None
        # A time without a zone is local time, as imports read it; a column without a zone (SQLite) holds UTC.
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TZ)
        return moment if getattr(sql_type, "timezone", False) else moment.astimezone(UTC).replace(tzinfo=None)
    if isinstance(sql_type, Date):
        try:
            day = _date_text(text)
            return date.fromisoformat(day) if len(day) <= 10 else datetime.fromisoformat(day).date()
        except ValueError:
            raise _not_a(value, "date", column) from None
    if isinstance(sql_type, Integer):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise _not_a(value, "integer", column) from None
        if not number.is_finite() or number != number.to_integral_value():
            raise _not_a(value, "integer", column)
        return int(number)
    if isinstance(sql_type, (Numeric, Float)):
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise _not_a(value, "number", column) from None
        if not number.is_finite():
            raise _not_a(value, "number", column)
        return float(number) if isinstance(sql_type, Float) or not getattr(sql_type, "asdecimal", True) else number
    if isinstance(sql_type, String):
        return value if isinstance(value, str) else text
    return value


def _sqlite_concat(parts: list[ColumnElement[Any]]) -> ColumnElement[Any]:
    """SQLite has no concat(): ``||`` with nulls as empty text, as concat() treats them elsewhere."""
    expr: ColumnElement[Any] = func.coalesce(parts[0], "")
    for p in parts[1:]:
        expr = expr.op("||")(func.coalesce(p, ""))
    return expr


def _out_name(ref: Any) -> str:
    ref = str(ref)
    return safe_identifier(ref.partition(".")[2] or ref, what="column")


def build(db: Session, database: Database, spec: dict) -> tuple[Select[Any], list[str]]:
    """The spec's SELECT and the warehouse tables it reads."""
    builder = _Builder(db, database, spec)
    return builder.build(), builder.sources


def preview(db: Session, database: Database, *, spec: dict, limit: int = PREVIEW_ROWS) -> dict:
    """The first rows of the spec's result, read-only and within the query limits."""
    stmt, sources = build(db, database, spec)
    limits = QueryLimits.from_settings(database.settings)
    with database.warehouse_reader.connect() as conn, conn.begin(), limited(conn, limits) as stop:
        try:
            result = conn.execute(stmt.limit(min(limit, limits.max_rows)))
            columns = list(result.keys())
            rows = [[v if v is None or isinstance(v, (int, float, str, bool)) else str(v) for v in r] for r in result]
        except Exception as exc:
            raise explain(exc, stop, limits) or _bad("预览失败：{e}", "The preview failed: {e}",
                                                    e=str(getattr(exc, "orig", exc))[:300]) from None
    return {"columns": columns, "rows": rows, "tables": sources}


def _result_table(stmt: Select[Any], topic: str, name: str) -> Table:
    """The target table, typed from the SELECT's columns (unknown types as text)."""
    cols = []
    for c in stmt.selected_columns:
        kind: Any = c.type
        if isinstance(kind, NullType):
            kind = String()
        elif isinstance(kind, Integer):
            kind = Integer() if kind.__class__.__name__ != "BigInteger" else kind
        elif isinstance(kind, (Numeric, Float)):
            kind = Numeric(38, 10) if isinstance(kind, Numeric) and not isinstance(kind, Float) else Float()
        cols.append(Column(c.name, kind))
    return Table(name, MetaData(), *cols, schema=topic)


def list_transforms(db: Session) -> list[Transform]:
    return list(db.scalars(select(Transform).order_by(Transform.name)))


def get_transform(db: Session, *, transform_id: str) -> Transform:
    """By id, or by name (the command line uses names)."""
    return db.get(Transform, transform_id) or one_or_raise(
        db, select(Transform).where(Transform.name == transform_id),
        T("数据加工不存在", "There is no such transform"), code="transform_not_found")


def find_transform(db: Session, *, name: str) -> Transform | None:
    return db.scalar(select(Transform).where(Transform.name == name))


def save_transform(db: Session, database: Database, *, data: TransformIn, principal: Principal | None = None,
                   transform_id: str | None = None) -> Transform:
    warehouse.get_topic(db, name=data.target_topic)
    table = safe_identifier(data.target_table or data.name, what="table")
    build(db, database, data.spec)  # refuse a spec that does not build
    other = find_transform(db, name=data.name)
    if other is not None and other.id != transform_id:
        raise Conflict(T("数据加工 {n} 已存在", "Transform {n} already exists", n=data.name), code="transform_exists")
    tf = get_transform(db, transform_id=transform_id) if transform_id else \
        Transform(created_by=principal.username if principal else None)
    tf.name, tf.title, tf.spec, tf.target_topic, tf.target_table = data.name, data.title, data.spec, \
        data.target_topic, table
    if transform_id is None:
        db.add(tf)
    db.flush()
    audit.record(db, action="collect.transform.save", principal=principal, object_type="transform", object_id=tf.id,
                 detail={"name": tf.name})
    return tf


def refresh_transform(db: Session, database: Database, *, transform_id: str,
                      principal: Principal | None = None) -> Transform:
    """Rebuild the transform's table in one transaction: drop, create, insert … select."""
    tf = get_transform(db, transform_id=transform_id)
    stmt, sources = build(db, database, tf.spec)
    tables.claim(db, derived=tf, origin=TableOrigin.transform)
    target = _result_table(stmt, tf.target_topic, tf.target_table)
    if f"{tf.target_topic}.{tf.target_table}" in sources:
        raise _bad("加工结果不能写回它读取的表", "A transform cannot write into a table it reads")

    def fill(conn: Connection) -> None:
        target.drop(conn, checkfirst=True)
        target.create(conn)
        conn.execute(insert(target).from_select([c.name for c in target.columns], stmt))

    def failed(exc: Exception) -> Invalid:
        return _bad("数据加工运行失败：{e}", "The transform failed: {e}", e=str(getattr(exc, "orig", exc))[:300])

    tables.rebuild(db, database, derived=tf, origin=TableOrigin.transform, sources=sources, fill=fill,
                   principal=principal, failed=failed)
    return tf


def cancel_refresh(db: Session, *, transform_id: str) -> bool:
    """Stop the transform's running refresh (this server process); its table stays as it was. False: none running."""
    tf = get_transform(db, transform_id=transform_id)
    return userquery.cancel(tables.run_key("transform", tf.id))


def delete_transform(db: Session, *, transform_id: str, principal: Principal | None = None) -> None:
    tf = get_transform(db, transform_id=transform_id)
    db.delete(tf)
    audit.record(db, action="collect.transform.delete", principal=principal, object_type="transform",
                 object_id=tf.id)
