"""Field types of a data model: how each is stored, converted from what a person types, and checked.

A field definition is a dict (stored as JSON on the model): ``name`` (the API key, a safe identifier),
``column`` (the physical column; a changed type moves the values to a new column, so ``column`` may differ
from ``name``), ``label``, ``type``, and settings: ``required``, ``unique``, ``default``, ``help``,
``placeholder``, ``pii``, ``searchable``, ``options`` (``[{value, label}]``), ``min``/``max``,
``min_length``/``max_length``, ``regex``, ``ref_model``, ``sub_fields``, ``span`` (1–4 grid columns),
``visible_when`` / ``required_when`` (``{field, op, value}``), ``deleted``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import polars as pl

from pbshare.core.dynamic import safe_identifier
from pbshare.core.errors import Invalid
from pbshare.core.i18n import T
from pbshare.quality.checks import RIC_PATTERN
from pbshare.quality.rules.builtins import BUILTINS, EMAIL, PHONE, PROVINCES

# type -> (storage type for the warehouse, Chinese label, English label)
TYPES: dict[str, tuple[str, str, str]] = {
    "text": ("text", "单行文本", "Text"),
    "long_text": ("text", "多行文本", "Long text"),
    "integer": ("bigint", "整数", "Integer"),
    "decimal": ("decimal", "小数", "Decimal"),
    "money": ("decimal", "金额（元）", "Money (yuan)"),
    "date": ("date", "日期", "Date"),
    "datetime": ("datetime", "日期时间", "Date and time"),
    "year_month": ("text", "年月", "Year-month"),
    "boolean": ("boolean", "是/否", "Yes/no"),
    "select": ("text", "单选", "Single select"),
    "multiselect": ("text", "多选", "Multi select"),
    "resident_id": ("text", "居民身份证号码", "Resident ID"),
    "uscc": ("text", "统一社会信用代码", "USCC"),
    "phone": ("text", "电话号码", "Phone"),
    "email": ("text", "电子邮箱", "E-mail"),
    "attachment": ("text", "附件", "Attachment"),
    "reference": ("text", "关联记录", "Reference"),
    "subtable": ("text", "子表", "Sub-table"),
}
# Types personal by default (sealed and masked unless the designer says otherwise).
PERSONAL_BY_DEFAULT = {"resident_id", "phone"}
# Masking kind (security.crypto.pii.mask) per type.
MASK_KIND = {"resident_id": "cn_ric", "phone": "phone", "uscc": "uscc"}
_BUILTIN_OF = {"resident_id": "resident_id", "uscc": "uscc", "phone": "phone", "email": "email"}
OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le", "between", "contains", "starts", "in", "empty", "not_empty")
CONDITION_OPS = ("eq", "ne", "checked", "unchecked", "in", "not_empty", "empty")
RESERVED_PREFIX = "rec_"


def bad(field: dict, zh: str, en: str, **params: Any) -> Invalid:
    return Invalid(T("“{label}”：" + zh, "'{label}': " + en, label=field.get("label") or field["name"], **params),
                   code="forms_bad_value", detail={"field": field["name"]})


def mask_kind(field: dict) -> str:
    return MASK_KIND.get(field["type"], "")


def storage_type(field: dict) -> str:
    return TYPES[field["type"]][0]


def is_personal(field: dict) -> bool:
    return bool(field.get("pii"))


# --------------------------------------------------------------------------- definitions
_NUMBER = (int, float, str)
SETTING_TYPES: dict[str, tuple[type, ...]] = {
    "label": (str,), "column": (str,), "required": (bool,), "unique": (bool,), "pii": (bool,), "searchable": (bool,),
    "help": (str,), "placeholder": (str,), "regex": (str,), "ref_model": (str,), "code_table": (str,),
    "options": (list,), "sub_fields": (list,), "visible_when": (dict,), "required_when": (dict,), "deleted": (bool,),
    "span": (int,), "min_length": (int,), "max_length": (int,), "min": _NUMBER, "max": _NUMBER, "retired": (list,),
}
MAX_INTEGER = 2**63 - 1
MAX_DECIMAL = Decimal("1e27")


def _check_shapes(f: dict) -> None:
    """Each known setting has the type it must have (a wrong one is a 422 naming it, never a crash)."""
    name = str(f.get("name"))[:63]
    for key, kinds in SETTING_TYPES.items():
        v = f.get(key)
        if v is None or v == "":
            continue
        if not isinstance(v, kinds) or (isinstance(v, bool) and bool not in kinds):
            raise Invalid(T("字段“{n}”的设置 {k} 类型不对", "Field '{n}': the setting {k} has the wrong type", n=name, k=key),
                          code="forms_bad_field", detail={"field": name, "setting": key})
    for key in ("min", "max"):
        if f.get(key) not in (None, ""):
            try:
                ok = Decimal(str(f[key])).is_finite()
            except InvalidOperation:
                ok = False
            if not ok:
                raise Invalid(T("字段“{n}”的{k}须是数字", "Field '{n}': {k} must be a number", n=name, k=key),
                              code="forms_bad_field", detail={"field": name, "setting": key})
    for o in f.get("options") or []:
        if not isinstance(o, str | int | float) and not (isinstance(o, dict) and "value" in o):
            raise Invalid(T("字段“{n}”的选项须是文字或 {{value, label}}", "Field '{n}': options are text or {{value, label}}",
                            n=name), code="forms_bad_field")
    for key in ("visible_when", "required_when"):
        cond = f.get(key)
        if cond and (not isinstance(cond.get("field"), str) or not isinstance(cond.get("op"), str)):
            raise Invalid(T("字段“{n}”的条件须有字段和比较方式", "Field '{n}': a condition needs a field and a comparison",
                            n=name), code="forms_bad_field")
    for sub in f.get("sub_fields") or []:
        if not isinstance(sub, dict):
            raise Invalid(T("子表“{n}”的字段格式不对", "Sub-table '{n}': its fields are not valid", n=name),
                          code="forms_bad_field")


def check_definition(fields: list[dict], *, models: set[str] | None = None) -> list[dict]:
    """Check a list of field definitions and fill in defaults; raise ``Invalid`` naming the field."""
    seen: set[str] = set()
    out: list[dict] = []
    for raw in fields:
        if not isinstance(raw, dict):
            raise Invalid(T("字段定义格式不对", "A field definition is not valid"), code="forms_bad_field")
        f = dict(raw)
        raw_name = f.get("name")
        name = raw_name if isinstance(raw_name, str) else ""
        safe_identifier(name, what="field")
        _check_shapes(f)
        if name.startswith(RESERVED_PREFIX) or name.endswith("_bidx"):
            raise Invalid(T("字段名“{n}”不可用：rec_ 开头和 _bidx 结尾留给系统", "The field name '{n}' cannot be used: "
                            "names starting rec_ or ending _bidx are the system's", n=name), code="forms_bad_field")
        if name in seen:
            raise Invalid(T("字段名“{n}”重复", "The field name '{n}' is used twice", n=name), code="forms_bad_field")
        seen.add(name)
        if f.get("type") not in TYPES:
            raise Invalid(T("字段“{n}”的类型“{t}”不支持，可选：{all}", "Field '{n}' has type '{t}', which is not "
                            "supported; choose one of {all}", n=name, t=str(f.get("type")), all=", ".join(TYPES)),
                          code="forms_bad_field")
        f.setdefault("label", name)
        f.setdefault("column", name)
        f.setdefault("span", 1)
        if f.get("pii") is None:
            f["pii"] = f["type"] in PERSONAL_BY_DEFAULT
        if not isinstance(f["span"], int) or not 1 <= f["span"] <= 4:
            raise Invalid(T("字段“{n}”的宽度须为 1–4 列", "Field '{n}': the width must be 1 to 4 columns", n=name),
                          code="forms_bad_field")
        if f["type"] in ("select", "multiselect"):
            opts = f.get("options") or []
            if not opts:
                raise Invalid(T("字段“{n}”是选择题，请填写选项", "Field '{n}' is a select: give its options",
                                n=f["label"]),
                              code="forms_bad_field", detail={"field": name, "setting": "options"})
            f["options"] = [o if isinstance(o, dict) else {"value": str(o), "label": str(o)} for o in opts]
        if f.get("regex"):
            try:
                re.compile(f["regex"])
            except re.error as exc:
                raise Invalid(T("字段“{n}”的正则表达式无效：{e}", "Field '{n}': the pattern is not valid: {e}", n=f["label"],
                                e=str(exc)), code="forms_bad_field", detail={"field": name, "setting": "regex"}) from exc
        if f["type"] == "reference" and models is not None and f.get("ref_model") not in models:
            raise Invalid(T("字段“{n}”须选择要关联的数据模型", "Field '{n}': pick the model it refers to", n=name),
                          code="forms_bad_field")
        if f["type"] == "subtable":
            subs = f.get("sub_fields") or []
            if not subs:
                raise Invalid(T("子表“{n}”至少要有一个字段", "Sub-table '{n}' needs at least one field", n=name),
                              code="forms_bad_field")
            if any(s.get("type") == "subtable" for s in subs):
                raise Invalid(T("子表“{n}”里不能再套子表", "Sub-table '{n}' cannot hold another sub-table", n=name),
                              code="forms_bad_field")
            f["sub_fields"] = check_definition(subs)
        for cond_key in ("visible_when", "required_when"):
            cond = f.get(cond_key)
            if cond and (cond.get("op") not in CONDITION_OPS or not cond.get("field")):
                raise Invalid(T("字段“{n}”的条件不完整：选择字段和比较方式", "Field '{n}': the condition needs a field "
                                "and a comparison", n=name), code="forms_bad_field")
        out.append(f)
    for f in out:
        for cond_key in ("visible_when", "required_when"):
            cond = f.get(cond_key)
            if cond and cond["field"] not in seen:
                raise Invalid(T("字段“{n}”的条件引用了不存在的字段“{c}”", "Field '{n}': its condition names a field "
                                "'{c}' that does not exist", n=f["name"], c=cond["field"]), code="forms_bad_field")
        if f.get("default") not in (None, ""):
            f["default"] = convert(f, f["default"])
    return out


# --------------------------------------------------------------------------- values
def _date(field: dict, value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace("年", "-").replace("月", "-").replace("日", "")
    if re.fullmatch(r"[0-9]{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise bad(field, "“{v}”不是日期，请写成 2024-01-31", "'{v}' is not a date; write it as 2024-01-31",
                  v=str(value)[:40]) from exc


def _datetime(field: dict, value: Any) -> datetime:
    if isinstance(value, datetime):
        out = value
    else:
        try:
            out = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise bad(field, "“{v}”不是日期时间，请写成 2024-01-31 09:30", "'{v}' is not a date and time; write it "
                      "as 2024-01-31 09:30", v=str(value)[:40]) from exc
    return out if out.tzinfo else out.replace(tzinfo=UTC)


def _decimal(field: dict, value: Any) -> Decimal:
    text = str(value).strip().replace(",", "").replace("，", "").removesuffix("元").strip()
    try:
        out = Decimal(text)
    except InvalidOperation as exc:
        raise bad(field, "“{v}”不是数字", "'{v}' is not a number", v=str(value)[:40]) from exc
    if not out.is_finite():
        raise bad(field, "“{v}”不是数字", "'{v}' is not a number", v=str(value)[:40])
    if abs(out) >= MAX_DECIMAL:
        raise bad(field, "“{v}”太大", "'{v}' is too large", v=str(value)[:40])
    return out


def _integer(field: dict, value: Any) -> int:
    if isinstance(value, bool):
        raise bad(field, "需要整数", "needs a whole number")
    d = _decimal(field, value)
    if d != d.to_integral_value():
        raise bad(field, "“{v}”不是整数", "'{v}' is not a whole number", v=str(value)[:40])
    if abs(d) > MAX_INTEGER:
        raise bad(field, "“{v}”超出整数范围", "'{v}' is outside the range of whole numbers", v=str(value)[:40])
    return int(d)


def _boolean(field: dict, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "是", "对", "√"):
        return True
    if text in ("0", "false", "no", "n", "否", "不是", "×"):
        return False
    raise bad(field, "“{v}”不是“是/否”", "'{v}' is not yes or no", v=str(value)[:40])


_RIC = re.compile(RIC_PATTERN)
_RIC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_PATTERNS = {"phone": re.compile(PHONE), "email": re.compile(EMAIL)}


def _ric_ok(value: str) -> bool:
    """The quality built-in ``resident_id`` for one value, in plain Python (the polars expression costs ~2 ms
    a call on a single value): the GB 11643 shape, a real birth date, the check digit, a province prefix."""
    if not _RIC.match(value) or value[:2] not in PROVINCES:
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _RIC_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17]


def _builtin_ok(kind: str, value: str) -> bool:
    if kind == "resident_id":
        return _ric_ok(value)
    if kind in _PATTERNS:
        return bool(_PATTERNS[kind].match(value))
    check = BUILTINS[kind][0]
    return not bool(pl.select(check(pl.lit(value, dtype=pl.String))).item())


def convert(field: dict, value: Any) -> Any:
    """A value as the field stores it (``None`` when empty); raise ``Invalid`` saying what to write."""
    if value is None or (isinstance(value, str) and not value.strip()) or value == []:
        return None
    kind = field["type"]
    if kind == "attachment":
        try:
            item = json.loads(value) if isinstance(value, str) and value.strip().startswith("{") else value
        except ValueError:
            item = None
        if not isinstance(item, dict) or not re.fullmatch(r"[0-9a-f]{64}", str(item.get("id", ""))):
            raise bad(field, "请先上传附件，再保存记录", "upload the attachment first, then save the record")
        return json.dumps({"id": item["id"], "name": str(item.get("name") or "")[:200], "size": item.get("size"),
                           "type": item.get("type")}, ensure_ascii=False)
    if kind in ("text", "long_text", "email"):
        text = str(value).strip() if kind != "long_text" else str(value)
        if kind == "email" and not _builtin_ok("email", text):
            raise bad(field, "“{v}”不是电子邮箱地址", "'{v}' is not an e-mail address", v=text[:40])
        return text
    if kind == "integer":
        return _integer(field, value)
    if kind == "decimal":
        return _decimal(field, value)
    if kind == "money":
        return _decimal(field, value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if kind == "date":
        return _date(field, value)
    if kind == "datetime":
        return _datetime(field, value)
    if kind == "year_month":
        text = str(value).strip().replace("/", "-").replace("年", "-").removesuffix("月")
        m = re.fullmatch(r"([0-9]{4})-?([0-9]{1,2})(?:-[0-9]{1,2})?", text)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise bad(field, "“{v}”不是年月，请写成 2024-01", "'{v}' is not a year-month; write it as 2024-01",
                      v=str(value)[:40])
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    if kind == "boolean":
        return _boolean(field, value)
    if kind == "select":
        return _option(field, value)
    if kind == "multiselect":
        items = value if isinstance(value, list) else _split(value)
        return json.dumps([_option(field, v) for v in items], ensure_ascii=False)
    if kind in ("resident_id", "uscc", "phone"):
        text = str(value).strip().upper() if kind != "phone" else str(value).strip()
        if not _builtin_ok(kind, text):
            label = {"resident_id": ("居民身份证号码", "resident ID number"), "uscc": ("统一社会信用代码", "USCC"),
                     "phone": ("电话号码", "phone number")}[kind]
            raise bad(field, "“{v}”不是有效的" + label[0] + "，请核对后重填", "'{v}' is not a valid " + label[1] +
                      "; check it and type it again", v=text[:4] + "…" if len(text) > 4 else text)
        return text
    if kind == "reference":
        return str(value).strip()
    if kind == "subtable":
        try:
            rows = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            rows = None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise bad(field, "子表的值须是行的列表", "a sub-table's value must be a list of rows")
        out = []
        for r in rows:
            row = {}
            for sub in field.get("sub_fields") or []:
                v = convert(sub, r.get(sub["name"]))
                check_settings(sub, v)
                row[sub["name"]] = to_json(sub, v)
            out.append(row)
        return json.dumps(out, ensure_ascii=False)
    raise bad(field, "类型不支持", "the type is not supported")


def _split(value: Any) -> list[str]:
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            loaded = json.loads(value)
            if isinstance(loaded, list):
                return [str(v) for v in loaded]
        except ValueError:
            pass
    return [p.strip() for p in re.split(r"[,，;；、]", str(value)) if p.strip()]


def _option(field: dict, value: Any) -> str:
    text = str(value).strip()
    for o in field.get("options") or []:
        if text in (str(o["value"]), str(o.get("label"))):
            return str(o["value"])
    raise bad(field, "“{v}”不在选项中，可选：{opts}", "'{v}' is not one of the options: {opts}", v=text[:40],
              opts="、".join(str(o.get("label") or o["value"]) for o in field.get("options") or []))


def check_settings(field: dict, value: Any) -> None:
    """Range, length and pattern checks of a converted value (required and unique are the record's)."""
    if value is None:
        return
    if field.get("min") not in (None, "") and isinstance(value, int | Decimal) and value < Decimal(str(field["min"])):
        raise bad(field, "不能小于 {m}", "must be at least {m}", m=field["min"])
    if field.get("max") not in (None, "") and isinstance(value, int | Decimal) and value > Decimal(str(field["max"])):
        raise bad(field, "不能大于 {m}", "must be at most {m}", m=field["max"])
    if isinstance(value, str) and field["type"] in ("text", "long_text", "email"):
        if field.get("min_length") and len(value) < int(field["min_length"]):
            raise bad(field, "至少 {m} 个字", "needs at least {m} characters", m=field["min_length"])
        if field.get("max_length") and len(value) > int(field["max_length"]):
            raise bad(field, "最多 {m} 个字", "takes at most {m} characters", m=field["max_length"])
        if field.get("regex") and not re.fullmatch(field["regex"], value):
            raise bad(field, "格式不对，应符合 {p}", "does not match the pattern {p}", p=field["regex"])


def to_json(field: dict, value: Any) -> Any:
    """A stored value as the API shows it (before masking)."""
    if value is None:
        return None
    if field["type"] == "multiselect" and isinstance(value, str):
        return _split(value)
    if field["type"] in ("subtable", "attachment") and isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01"))) if field["type"] == "money" else str(value.normalize())
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if field["type"] == "boolean":
        return bool(value)
    return value


def display(field: dict, value: Any) -> str:
    """A value as a person reads it in a cell (Excel, history)."""
    v = to_json(field, value)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, list):
        if field["type"] == "multiselect":
            return "、".join(str(x) for x in v)
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


# --------------------------------------------------------------------------- conditions
def condition_holds(cond: dict | None, values: dict[str, Any]) -> bool:
    """``{field, op, value}`` against a record's values (as the API shows them)."""
    if not cond:
        return False
    v = values.get(cond["field"])
    want = cond.get("value")
    ops: dict[str, Callable[[], bool]] = {
        "eq": lambda: _same(v, want),
        "ne": lambda: not _same(v, want),
        "checked": lambda: v is True,
        "unchecked": lambda: v is not True,
        "in": lambda: any(_same(v, w) for w in (want if isinstance(want, list) else _split(want))),
        "empty": lambda: v in (None, "", []),
        "not_empty": lambda: v not in (None, "", []),
    }
    return ops[cond["op"]]()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list):
        return str(b) in [str(x) for x in a]
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    return str(a if a is not None else "") == str(b if b is not None else "")


def visible(field: dict, values: dict[str, Any]) -> bool:
    return not field.get("visible_when") or condition_holds(field["visible_when"], values)


def required(field: dict, values: dict[str, Any]) -> bool:
    if not visible(field, values):
        return False
    return bool(field.get("required")) or condition_holds(field.get("required_when"), values)
