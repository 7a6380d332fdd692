"""Cross-field conditions such as ``end_on >= start_on``: parsed by sqlglot, translated to polars.

The text is never evaluated. sqlglot turns it into a tree and only a small set of node kinds is
translated (columns, literals, comparisons, AND/OR/NOT, IS NULL, IN, BETWEEN, + - * /, and the
functions in ``FUNCTIONS``); anything else is refused with a 422 that names what was found.
The condition says what must hold: a row fails where it is false; where it is unknown (a null
operand) the row passes, as a SQL CHECK constraint does — a missing value is not_null's business.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

import polars as pl
import sqlglot
from sqlglot import exp

from pbshare.core.errors import Invalid
from pbshare.core.i18n import T

MAX_LENGTH = 500
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_COMPARE: dict[type[exp.Expr], Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    exp.EQ: lambda a, b: a == b, exp.NEQ: lambda a, b: a != b, exp.GT: lambda a, b: a > b,
    exp.GTE: lambda a, b: a >= b, exp.LT: lambda a, b: a < b, exp.LTE: lambda a, b: a <= b,
}
_ARITH: dict[type[exp.Expr], Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    exp.Add: lambda a, b: a + b, exp.Sub: lambda a, b: a - b, exp.Mul: lambda a, b: a * b,
    exp.Div: lambda a, b: a / b,
}
FUNCTIONS = ("length", "lower", "upper", "trim", "abs", "coalesce")
_TEMPORAL = (pl.Date, pl.Datetime)


def _refuse(what: str) -> Invalid:
    return Invalid(T("条件表达式中不允许使用“{w}”。只能使用列名、数值或文字、比较（= <> > >= < <=）、AND/OR/NOT、"
                     "IS NULL、IN、BETWEEN、+ - * / 和函数 {f}",
                     "“{w}” is not allowed in a condition. Use column names, numbers or text, comparisons "
                     "(= <> > >= < <=), AND/OR/NOT, IS NULL, IN, BETWEEN, + - * / and the functions {f}",
                     w=what[:80], f=", ".join(FUNCTIONS)), code="expression_not_allowed")


def parse(text: str) -> exp.Expr:
    """The checked tree of a condition; raises Invalid (422) on a syntax error or a refused part."""
    if not text or not text.strip():
        raise Invalid(T("条件表达式不能为空，例如 end_on >= start_on", "The condition is empty; write e.g. end_on >= start_on"),
                      code="expression_empty")
    if len(text) > MAX_LENGTH:
        raise Invalid(T("条件表达式太长（最多 {n} 个字符）", "The condition is too long (at most {n} characters)",
                        n=MAX_LENGTH), code="expression_too_long")
    try:
        tree = sqlglot.parse_one(text)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:
        raise Invalid(T("条件表达式有语法错误：{e}。例如 end_on >= start_on",
                        "The condition has a syntax error: {e}. Write e.g. end_on >= start_on",
                        e=str(exc).splitlines()[0][:200]), code="expression_syntax") from None
    if tree is None or isinstance(tree, exp.Query | exp.DML | exp.DDL | exp.Command):
        raise _refuse(tree.sql() if tree is not None else text)
    _check(tree)
    return tree


def columns_of(tree: exp.Expr) -> list[str]:
    out: list[str] = []
    for c in tree.find_all(exp.Column):
        if c.table:
            raise _refuse(c.sql())
        if c.name not in out:
            out.append(c.name)
    return out


_ALLOWED: tuple[type, ...] = (exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.And, exp.Or, exp.Not,
            exp.Is, exp.In, exp.Between, exp.Neg, exp.Tuple, *_COMPARE, *_ARITH)


def _check(tree: exp.Expr) -> None:
    for node in tree.walk():
        if isinstance(node, exp.In) and node.args.get("query") is not None:
            raise _refuse(node.sql())
        if isinstance(node, _ALLOWED):
            continue
        if isinstance(node, exp.Func):
            name = _func_name(node)
            if name not in FUNCTIONS:
                raise _refuse(node.sql())
            continue
        raise _refuse(node.sql())


def _func_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return {"Length": "length", "Lower": "lower", "Upper": "upper", "Trim": "trim", "Abs": "abs",
            "Coalesce": "coalesce"}.get(type(node).__name__, node.sql_name().lower())


class _Translator:
    def __init__(self, schema: Mapping[str, pl.DataType]) -> None:
        self.schema = schema

    def dtype(self, node: exp.Expr) -> pl.DataType | None:
        if isinstance(node, exp.Paren):
            return self.dtype(node.this)
        if isinstance(node, exp.Column):
            return self.schema.get(node.name)
        return None

    def column(self, node: exp.Column) -> pl.Expr:
        if self.schema and node.name not in self.schema:
            raise Invalid(T("条件中的列“{c}”在数据中不存在；可用的列：{a}", "The column “{c}” in the condition is not in "
                            "the data; the columns are: {a}", c=node.name, a=", ".join(list(self.schema)[:40])),
                          code="expression_unknown_column")
        return pl.col(node.name)

    def literal(self, node: exp.Literal, other: pl.DataType | None) -> pl.Expr:
        if node.is_string:
            text = str(node.this)
            if other is not None and isinstance(other, _TEMPORAL) and _DATE.match(text):
                return pl.lit(dt.date.fromisoformat(text))
            return pl.lit(text)
        number = str(node.this)
        return pl.lit(float(number) if any(c in number for c in ".eE") else int(number))

    def operand(self, node: exp.Expr, other: exp.Expr | None) -> pl.Expr:
        """An operand of a comparison or arithmetic; text columns meeting numbers are read as numbers."""
        other_type = self.dtype(other) if other is not None else None
        if isinstance(node, exp.Literal):
            return self.literal(node, other_type)
        out = self.tr(node)
        mine = self.dtype(node)
        if mine == pl.String and other is not None:
            if (isinstance(other, exp.Literal) and not other.is_string) or (other_type is not None and other_type.is_numeric()):
                return out.cast(pl.Float64, strict=False)
            if other_type is not None and isinstance(other_type, _TEMPORAL):
                return out.str.to_date(strict=False)
        return out

    def tr(self, node: exp.Expr) -> pl.Expr:
        if isinstance(node, exp.Paren):
            return self.tr(node.this)
        if isinstance(node, exp.Column):
            return self.column(node)
        if isinstance(node, exp.Literal):
            return self.literal(node, None)
        if isinstance(node, exp.Boolean):
            return pl.lit(bool(node.this))
        if isinstance(node, exp.Null):
            return pl.lit(None)
        if isinstance(node, exp.And):
            return self.tr(node.args["this"]) & self.tr(node.args["expression"])
        if isinstance(node, exp.Or):
            return self.tr(node.args["this"]) | self.tr(node.args["expression"])
        if isinstance(node, exp.Not):
            return ~self.tr(node.this)
        if isinstance(node, exp.Neg):
            return -self.tr(node.this)
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null):
                raise _refuse(node.sql())
            return self.tr(node.this).is_null()
        op = _COMPARE.get(type(node)) or _ARITH.get(type(node))
        if op is not None:
            left, right = node.args["this"], node.args["expression"]
            return op(self.operand(left, right), self.operand(right, left))
        if isinstance(node, exp.Between):
            low, high = node.args["low"], node.args["high"]
            v = node.this
            return (self.operand(v, low) >= self.operand(low, v)) & (self.operand(v, high) <= self.operand(high, v))
        if isinstance(node, exp.In):
            values = node.expressions
            if not all(isinstance(x, exp.Literal | exp.Null) for x in values):
                raise _refuse(node.sql())
            items = [None if isinstance(x, exp.Null) else self._py(x, self.dtype(node.this)) for x in values]
            return self.tr(node.this).is_in([x for x in items if x is not None])
        if isinstance(node, exp.Func):
            return self.func(node)
        raise _refuse(node.sql())

    @staticmethod
    def _py(node: exp.Expr, other: pl.DataType | None) -> object:
        assert isinstance(node, exp.Literal)
        if node.is_string:
            text = str(node.this)
            if other is not None and isinstance(other, _TEMPORAL) and _DATE.match(text):
                return dt.date.fromisoformat(text)
            return text
        number = str(node.this)
        return float(number) if any(c in number for c in ".eE") else int(number)

    def func(self, node: exp.Func) -> pl.Expr:
        name = _func_name(node)
        args = [a for a in ([node.this] if node.this is not None and isinstance(node.this, exp.Expr) else [])]
        args += list(node.expressions)
        if name == "coalesce":
            return pl.coalesce([self.tr(a) for a in args])
        if len(args) != 1:
            raise _refuse(node.sql())
        arg = self.tr(args[0])
        if name == "length":
            return arg.cast(pl.String).str.len_chars()
        if name == "lower":
            return arg.cast(pl.String).str.to_lowercase()
        if name == "upper":
            return arg.cast(pl.String).str.to_uppercase()
        if name == "trim":
            return arg.cast(pl.String).str.strip_chars()
        return arg.abs()


def to_polars(text: str, schema: Mapping[str, pl.DataType] | None = None) -> pl.Expr:
    """The condition as a boolean polars expression (true where it holds); Invalid (422) if refused."""
    tree = parse(text)
    columns_of(tree)
    try:
        return _Translator(schema or {}).tr(tree)
    except Invalid:
        raise
    except Exception:  # a shape the translator cannot build (e.g. coalesce() with nothing in it)
        raise _refuse(text) from None


def failing(text: str, schema: Mapping[str, pl.DataType] | None = None) -> pl.Expr:
    """True where the condition is false; an unknown result (null operand) passes."""
    return ~to_polars(text, schema).fill_null(True)
