"""The one gate user-written SQL passes: a single read-only SELECT, parsed by sqlglot, never trusted as text.

Used for SQL datasets over the warehouse, for SELECTs run on a registered data source (collect) and for
quality's custom SQL rules; it lives in core so every layer can reach the same gate.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from pbshare.core.errors import Invalid
from pbshare.core.i18n import T

# Functions that reach outside the data (files, sleeping, other servers) are refused by name.
DENIED_FUNCTIONS = ("pg_", "lo_", "dblink", "load_extension", "readfile", "writefile", "sleep", "benchmark",
                    "load_file", "sys_", "current_setting", "set_config", "query_to_xml", "copy")
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Alter, exp.Command, exp.Into, exp.Lock,
           exp.Merge, exp.Set)


# What the checker refuses (not mere typos): the callers keep each refusal in the audit log.
REFUSALS = frozenset({"sql_not_single", "sql_not_select", "sql_function_denied", "sql_table_denied"})


def parse_read_only(sql: str, *, dialect: str | None = None) -> exp.Query:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:
        # TokenError: the text cannot even be cut into words (an unterminated string or comment).
        raise Invalid(T("SQL 语句有语法错误：{e}", "The SQL has a syntax error: {e}", e=str(exc).splitlines()[0][:200]),
                      code="sql_syntax") from None
    if len(statements) != 1:
        raise Invalid(T("只能是一条 SELECT 语句", "Only one SELECT statement is allowed"), code="sql_not_single")
    stmt = statements[0]
    if not isinstance(stmt, exp.Query):
        raise Invalid(T("只允许只读的 SELECT 查询", "Only a read-only SELECT query is allowed"), code="sql_not_select")
    for node in stmt.walk():
        if isinstance(node, _WRITES):
            raise Invalid(T("查询中含有写入或锁定操作，不允许", "The query writes or locks; that is not allowed"),
                          code="sql_not_select")
        if isinstance(node, exp.Func):
            name = (node.sql_name() if not isinstance(node, exp.Anonymous) else str(node.this)).lower()
            if name.startswith(DENIED_FUNCTIONS):
                raise Invalid(T("不允许使用函数 {f}", "The function {f} is not allowed", f=name),
                              code="sql_function_denied")
    return stmt
