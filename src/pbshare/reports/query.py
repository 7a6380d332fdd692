"""The query spec turned into SQLAlchemy Core (never SQL text) and run within the platform's query limits.

Rows mode (``columns``) pages the rows; aggregate mode (``group_by`` + ``aggregates``) runs one grouped
statement and pages its groups. Personal (sealed) columns follow the column rules: never grouped, sorted or
compared by value except equality through their blind index; shown masked; counted by their blind index.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, func, literal, or_, select
from sqlalchemy.sql.elements import Label

from pbshare.core.errors import Invalid
from pbshare.core.i18n import T
from pbshare.core.userquery import QueryLimits, explain, limited, too_many_rows
from pbshare.reports.schemas import Aggregate, Condition, FieldOut, Group, GroupKey, QueryResult, QuerySpec
from pbshare.reports.sources import Opened, SourceField
from pbshare.security.crypto import pii

MAX_GROUPS = 20_000
NUMERIC = {"integer", "bigint", "decimal", "float"}
TEMPORAL = {"date", "datetime"}


def _bad(zh: str, en: str, code: str, **kw: Any) -> Invalid:
    return Invalid(T(zh, en, **kw), code=code, detail={k: str(v)[:100] for k, v in kw.items()})


def _value(f: SourceField, v: Any) -> Any:
    """A filter value as the column's type, or a clear 422."""
    if v is None:
        return None
    try:
        if f.type in ("integer", "bigint"):
            return int(v)
        if f.type in ("decimal", "float"):
            return Decimal(str(v)) if f.type == "decimal" else float(v)
        if f.type == "date":
            return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])
        if f.type == "datetime":
            return dt.datetime.fromisoformat(str(v))
        if f.type == "boolean":
            return v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "是")
    except (TypeError, ValueError, ArithmeticError):
        raise _bad("字段“{c}”要求 {t} 类型的值，“{v}”不是", "The column '{c}' takes {t} values; '{v}' is not one",
                   "bad_value", c=f.name, t=f.type, v=v) from None
    return str(v)


def _condition(src: Opened, c: Condition, vault: pii.PiiVault | None) -> ColumnElement[bool]:
    f = src.field(c.column)
    col = src.table.c[f.name]
    op, v = c.op, c.value
    if op == "is_empty":
        return or_(col.is_(None), col == "") if f.type in ("string", "text") or f.pii else col.is_(None)
    if op == "not_empty":
        return and_(col.is_not(None), col != "") if f.type in ("string", "text") or f.pii else col.is_not(None)
    if f.pii:
        if op not in ("eq", "ne", "in") or f.blind is None or vault is None:
            raise _bad("“{c}”是个人标识，只能按“等于”“不等于”“属于”“为空”筛选", "'{c}' is a personal identifier: filter it "
                       "only by equals, not equals, in, or is empty", "pii_filter", c=f.name)
        blind = src.table.c[f.blind]
        values = v if isinstance(v, list) else [v]
        hashes = [vault.blind_index(str(x), kind=f.id_kind) for x in values if x not in (None, "")]
        if op == "ne":
            return or_(blind.is_(None), blind.not_in(hashes))
        return blind.in_(hashes)
    if op in ("contains", "starts_with"):
        if v in (None, ""):
            raise _bad("“{c}”的“包含”条件需要一个值", "The contains / starts-with condition on '{c}' needs a value",
                       "missing_value", c=f.name)
        text = str(v).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{text}%" if op == "contains" else f"{text}%"
        target = col if f.type in ("string", "text") else col.cast(String)
        return target.like(pattern, escape="\\")
    if op == "between":
        if not isinstance(v, list) or len(v) != 2:
            raise _bad("“{c}”的区间条件需要 [起, 止] 两个值", "The between condition on '{c}' needs [low, high]",
                       "bad_between", c=f.name)
        lo, hi = _value(f, v[0]), _value(f, v[1])
        parts = [col >= lo] if lo is not None else []
        parts += [col <= hi] if hi is not None else []
        if f.type == "datetime" and hi is not None and len(str(v[1])) <= 10:  # a whole day as the upper bound
            parts[-1] = col < hi + dt.timedelta(days=1)
        return and_(*parts) if parts else literal(True)
    if op == "in":
        values = v if isinstance(v, list) else [v]
        if not values or len(values) > 1000:
            raise _bad("“{c}”的“属于”条件需要 1 到 1000 个值", "The in condition on '{c}' needs 1 to 1000 values",
                       "bad_in", c=f.name)
        return col.in_([_value(f, x) for x in values])
    if v is None:
        raise _bad("“{c}”的条件需要一个值（空值请用“为空”）", "The condition on '{c}' needs a value (use is empty for "
                   "blanks)", "missing_value", c=f.name)
    x = _value(f, v)
    return {"eq": col == x, "ne": or_(col != x, col.is_(None)), "gt": col > x, "ge": col >= x, "lt": col < x,
            "le": col <= x}[op]


def where_of(src: Opened, group: Group | None, vault: pii.PiiVault | None) -> ColumnElement[bool] | None:
    if group is None or not group.items:
        return None
    parts = [where_of(src, item, vault) if isinstance(item, Group) else _condition(src, item, vault)
             for item in group.items]
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    return and_(*kept) if group.op == "and" else or_(*kept)


def _bucket(col: Any, bucket: str, dialect: str) -> ColumnElement[Any]:
    fmt = {"day": ("%Y-%m-%d", "YYYY-MM-DD"), "month": ("%Y-%m", "YYYY-MM"), "year": ("%Y", "YYYY")}[bucket]
    if dialect == "sqlite":
        return func.strftime(fmt[0], col)
    return func.to_char(col, fmt[1])


def _group_key(g: str | GroupKey) -> GroupKey:
    return g if isinstance(g, GroupKey) else GroupKey(column=g)


def _aggregate(src: Opened, a: Aggregate) -> tuple[str, Label[Any]]:
    name = a.alias or (f"{a.fn}_{a.column}" if a.column else a.fn)
    if a.fn == "count" and not a.column:
        return name, func.count().label(name)
    if not a.column:
        raise _bad("{f} 需要一个字段", "{f} needs a column", "missing_column", f=a.fn)
    f = src.field(a.column)
    col = src.table.c[f.name]
    if f.pii:
        if a.fn not in ("count", "count_distinct"):
            raise _bad("“{c}”是个人标识，只能计数", "'{c}' is a personal identifier: it can only be counted", "pii_aggregate",
                       c=f.name)
        col = src.table.c[f.blind] if f.blind else col
    if a.fn in ("sum", "avg") and f.type not in NUMERIC:
        raise _bad("“{c}”不是数值字段，不能求和或平均", "'{c}' is not a number column: it cannot be summed or averaged",
                   "not_numeric", c=f.name)
    expr = {"count": func.count(col), "count_distinct": func.count(col.distinct()), "sum": func.sum(col),
            "avg": func.avg(col), "min": func.min(col), "max": func.max(col)}[a.fn]
    return name, expr.label(name)


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v) if v != v.to_integral_value() else int(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


def build(src: Opened, spec: QuerySpec, vault: pii.PiiVault | None) -> tuple[Select[Any], list[FieldOut], dict[str, str],
                                                                             Select[Any] | None, bool]:
    """The statement, its output columns, the masked columns {name: id kind}, the totals statement, grouped?"""
    dialect = src.engine.dialect.name
    where = where_of(src, spec.filters, vault)
    grouped = bool(spec.group_by or spec.aggregates)
    out: list[FieldOut] = []
    masked: dict[str, str] = {}
    totals: Select[Any] | None = None
    if grouped:
        keys: list[Any] = []
        seen: set[str] = set()
        for g in map(_group_key, spec.group_by):
            f = src.field(g.column)
            if f.pii:
                raise _bad("“{c}”是个人标识，不能用来分组", "'{c}' is a personal identifier: it cannot be grouped by",
                           "pii_group", c=f.name)
            col: Any = src.table.c[f.name]
            name = f.name
            if g.bucket:
                if f.type not in TEMPORAL:
                    raise _bad("“{c}”不是日期字段，不能按{b}分组", "'{c}' is not a date column: it cannot be grouped by {b}",
                               "not_temporal", c=f.name, b=g.bucket)
                name = f"{f.name}_{g.bucket}"
                col = _bucket(col, g.bucket, dialect)
            if name in seen:
                raise _bad("分组字段“{c}”重复", "The group column '{c}' is given twice", "duplicate_group", c=name)
            keys.append(col.label(name))
            seen.add(name)
            out.append(FieldOut(name=name, title=f.title + (f"（{g.bucket}）" if g.bucket else ""),
                                type="string" if g.bucket else f.type))
        aggs = [_aggregate(src, a) for a in (spec.aggregates or [Aggregate(fn="count")])]
        for name, _ in aggs:
            if name in seen:
                raise _bad("输出列名“{c}”重复，请给汇总起别名（as）", "The output name '{c}' repeats; give the aggregate an "
                           "alias (as)", "duplicate_output", c=name)
            seen.add(name)
            out.append(FieldOut(name=name, title=name, type="float"))
        stmt = select(*keys, *[e for _, e in aggs]).select_from(src.table)
        if where is not None:
            stmt = stmt.where(where)
        if keys:
            stmt = stmt.group_by(*[k.element for k in keys])
        if spec.totals:
            totals = select(*[e for _, e in aggs]).select_from(src.table)
            if where is not None:
                totals = totals.where(where)
        by_name: dict[str, Any] = {k.name: k for k in keys} | {n: e for n, e in aggs}
    else:
        names = list(dict.fromkeys(spec.columns)) or [f.name for f in src.fields]
        fields = [src.field(n) for n in names]
        for f in fields:
            out.append(FieldOut(name=f.name, title=f.title, type=f.type, pii=f.pii))
            if f.pii:
                masked[f.name] = f.id_kind
        stmt = select(*[src.table.c[f.name] for f in fields]).select_from(src.table)
        if where is not None:
            stmt = stmt.where(where)
        by_name = {f.name: src.table.c[f.name] for f in fields}
    order = []
    for s in spec.sort:
        if s.column not in by_name:
            f = src.field(s.column)  # a column of the source not in the output
            if grouped:
                raise _bad("分组汇总只能按输出列排序：{a}", "A grouped query sorts only by its output columns: {a}",
                           "bad_sort", a=", ".join(by_name))
            by_name[f.name] = src.table.c[f.name]
        f_pii = next((f for f in src.fields if f.name == s.column and f.pii), None)
        if f_pii is not None:
            raise _bad("“{c}”是个人标识，不能排序", "'{c}' is a personal identifier: it cannot be sorted", "pii_sort",
                       c=s.column)
        order.append(by_name[s.column].desc() if s.desc else by_name[s.column].asc())
    if order:
        stmt = stmt.order_by(*order)
    return stmt, out, masked, totals, grouped


def run(src: Opened, spec: QuerySpec, *, limits: QueryLimits, vault: pii.PiiVault | None) -> QueryResult:
    stmt, out, masked, totals_stmt, grouped = build(src, spec, vault)
    offset = (spec.page - 1) * spec.size
    totals: dict[str, Any] | None = None
    with src.engine.connect() as conn, conn.begin(), limited(conn, limits) as stop:
        try:
            if grouped:
                cap = min(MAX_GROUPS, limits.max_rows)
                rows = conn.execute(stmt.limit(cap + 1)).all()
                if len(rows) > cap:
                    raise _bad("分组超过 {n} 个，请减少分组字段或加筛选条件", "More than {n} groups; group by fewer "
                               "columns or add a filter", "too_many_groups", n=cap)
                total = len(rows)
                rows = rows[offset:offset + spec.size]
                if totals_stmt is not None:
                    t = conn.execute(totals_stmt).one()
                    totals = {k: _plain(v) for k, v in t._mapping.items()}
            else:
                if offset + spec.size > limits.max_rows:
                    raise too_many_rows(limits)
                total = int(conn.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
                rows = conn.execute(stmt.limit(spec.size).offset(offset)).all()
        except Invalid:
            raise
        except Exception as exc:
            raise explain(exc, stop, limits) or Invalid(
                T("查询执行失败：{e}", "The query failed: {e}", e=str(getattr(exc, "orig", exc)).splitlines()[0][:300]),
                code="query_failed") from None
    result_rows = []
    for r in rows:
        item = {k: _plain(v) for k, v in r._mapping.items()}
        for name, kind in masked.items():
            if item.get(name) is not None:
                try:
                    item[name] = pii.mask(vault.open(item[name]) if vault else None, kind) or "******"
                except Exception:
                    item[name] = "******"
        result_rows.append(item)
    return QueryResult(columns=out, rows=result_rows, total=total, page=spec.page, size=spec.size, totals=totals,
                       masked=sorted(masked))
