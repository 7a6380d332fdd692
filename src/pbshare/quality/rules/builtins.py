"""Built-in formats as polars expressions: each returns True where a non-null value is NOT valid.

Column-wise, never per row in Python: a resident-ID check over a million values takes about a third of
a second here against half a minute for python-stdnum called per value (STACK-NOTES). The resident-ID
and USCC check digits live in ``quality.checks`` (the import mapping uses them too): one place.
Patterns use ``[0-9]``, never ``\\d``, which in polars also matches full-width digits.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from pbshare.quality import checks

# GB/T 2260 province-level prefixes: the first two digits of a region code (71 Taiwan, 81/82 Hong Kong
# and Macao, 83 the Taiwan residents' residence permits; 91 foreigners' permanent residence IDs).
PROVINCES = ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
             "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
             "83", "91")

MOBILE = r"^1[3-9][0-9]{9}$"
PHONE = r"^(?:1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(?:-[0-9]{1,6})?|[2-9][0-9]{6,7})$"
EMAIL = r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$"
POSTCODE = r"^[0-9]{6}$"
_DATE_SHAPE = r"^[0-9]{4}(-[0-9]{2}-[0-9]{2}|/[0-9]{2}/[0-9]{2}|[0-9]{4})$"


def _text(value: pl.Expr) -> pl.Expr:
    return value.cast(pl.String)


def resident_id_invalid(value: pl.Expr) -> pl.Expr:
    """18-digit GB 11643 number: shape, a real birth date, the check digit, a plausible province prefix.

    A lower-case ``x`` is read as ``X`` (python-stdnum accepts it too).
    """
    v = _text(value)
    v = pl.when(v.str.ends_with("x")).then(v.str.to_uppercase()).otherwise(v)
    region_ok = v.str.slice(0, 2).is_in(PROVINCES)
    return checks.ric_invalid(v) | (v.is_not_null() & ~region_ok)


def uscc_invalid(value: pl.Expr) -> pl.Expr:
    """GB 32100 code: shape, the final check character and the embedded organisation code's (GB 11714)."""
    return checks.uscc_invalid(_text(value))


def _pattern_invalid(pattern: str) -> Callable[[pl.Expr], pl.Expr]:
    def invalid(value: pl.Expr) -> pl.Expr:
        v = _text(value)
        return v.is_not_null() & ~v.str.contains(pattern)
    return invalid


def date_invalid(value: pl.Expr) -> pl.Expr:
    """A date written 2024-01-31, 2024/01/31 or 20240131 that exists in the calendar (a date column passes)."""
    v = _text(value).str.replace_all("/", "-", literal=True)
    v = pl.when(v.str.len_chars() == 8).then(v.str.slice(0, 4) + "-" + v.str.slice(4, 2) + "-" + v.str.slice(6, 2)
                                             ).otherwise(v.str.slice(0, 10))
    shape = _text(value).str.contains(_DATE_SHAPE) | _text(value).str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]")
    real = v.str.strptime(pl.Date, "%Y-%m-%d", strict=False).is_not_null()
    return value.is_not_null() & ~(shape & real).fill_null(False)


# name -> (check, Chinese label, English label, personal: masked wherever its values are shown)
BUILTINS: dict[str, tuple[Callable[[pl.Expr], pl.Expr], str, str, bool]] = {
    "resident_id": (resident_id_invalid, "居民身份证号码", "resident ID number", True),
    "uscc": (uscc_invalid, "统一社会信用代码", "unified social credit code", False),
    "mobile": (_pattern_invalid(MOBILE), "手机号码", "mobile number", True),
    "phone": (_pattern_invalid(PHONE), "电话号码", "phone number", True),
    "email": (_pattern_invalid(EMAIL), "电子邮箱", "e-mail address", True),
    "date": (date_invalid, "日期", "date", False),
    "postcode": (_pattern_invalid(POSTCODE), "邮政编码", "postcode", False),
}

# catalog id_kind -> builtin
ID_KIND_BUILTIN = {"cn_ric": "resident_id", "uscc": "uscc", "phone": "phone"}
