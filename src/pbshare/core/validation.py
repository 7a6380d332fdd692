"""Request validation errors a person can read: Pydantic's messages in the request's language, each field named by
its label (the model field's ``title``, or a short ``description`` "中文 / English") rather than its path.

The answer keeps the path (``loc``) so the browser can put each message next to its form field; ``msg`` is the
message without the field's name (the form shows the label already) and ``label`` is the name for a toast.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from pbshare.core.i18n import T

WHERE = {"body", "query", "path", "header", "cookie"}

# Pydantic error type → message; ``{x}`` filled from the error's ctx.
MESSAGES: dict[str, T] = {
    "missing": T("必填", "Required"),
    "string_too_short": T("至少 {min_length} 个字符", "At least {min_length} characters"),
    "string_too_long": T("最多 {max_length} 个字符", "At most {max_length} characters"),
    "string_pattern_mismatch": T("格式不正确", "Not in the expected format"),
    "string_type": T("请输入文字", "Enter text"),
    "too_short": T("至少 {min_length} 项", "At least {min_length} entries"),
    "too_long": T("最多 {max_length} 项", "At most {max_length} entries"),
    "greater_than": T("须大于 {gt}", "Must be greater than {gt}"),
    "greater_than_equal": T("不能小于 {ge}", "Must be at least {ge}"),
    "less_than": T("须小于 {lt}", "Must be less than {lt}"),
    "less_than_equal": T("不能大于 {le}", "Must be at most {le}"),
    "int_parsing": T("请输入整数", "Enter a whole number"),
    "int_type": T("请输入整数", "Enter a whole number"),
    "int_from_float": T("请输入整数", "Enter a whole number"),
    "float_parsing": T("请输入数字", "Enter a number"),
    "float_type": T("请输入数字", "Enter a number"),
    "decimal_parsing": T("请输入数字", "Enter a number"),
    "decimal_type": T("请输入数字", "Enter a number"),
    "decimal_max_places": T("最多 {decimal_places} 位小数", "At most {decimal_places} decimal places"),
    "bool_parsing": T("请选择“是”或“否”", "Choose yes or no"),
    "bool_type": T("请选择“是”或“否”", "Choose yes or no"),
    "date_parsing": T("日期格式不正确，例如 2026-12-01", "Not a date; write it like 2026-12-01"),
    "date_from_datetime_parsing": T("日期格式不正确，例如 2026-12-01", "Not a date; write it like 2026-12-01"),
    "date_type": T("日期格式不正确，例如 2026-12-01", "Not a date; write it like 2026-12-01"),
    "datetime_parsing": T("时间格式不正确，例如 2026-12-01 09:30", "Not a time; write it like 2026-12-01 09:30"),
    "datetime_from_date_parsing": T("时间格式不正确，例如 2026-12-01 09:30", "Not a time; write it like 2026-12-01 09:30"),
    "datetime_type": T("时间格式不正确，例如 2026-12-01 09:30", "Not a time; write it like 2026-12-01 09:30"),
    "enum": T("请从可选值中选择：{expected}", "Choose one of: {expected}"),
    "literal_error": T("请从可选值中选择：{expected}", "Choose one of: {expected}"),
    "list_type": T("应为多个值的列表", "Must be a list of values"),
    "dict_type": T("应为一组键值", "Must be a set of named values"),
    "model_type": T("内容不完整或格式不正确", "Incomplete or not in the expected shape"),
    "model_attributes_type": T("内容不完整或格式不正确", "Incomplete or not in the expected shape"),
    "extra_forbidden": T("不接受此项，请删除后重试", "Not accepted here; remove it and try again"),
    "json_invalid": T("请求内容不是有效的 JSON", "The request body is not valid JSON"),
    "uuid_parsing": T("编号格式不正确", "Not a valid identifier"),
    "uuid_type": T("编号格式不正确", "Not a valid identifier"),
    "url_parsing": T("网址格式不正确", "Not a valid web address"),
    "url_scheme": T("网址须以 {expected_schemes} 开头", "The address must start with {expected_schemes}"),
    "value_error": T("{error}", "{error}"),
    "assertion_error": T("{error}", "{error}"),
}
FALLBACK = T("格式不正确", "Not valid")


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The Pydantic model inside an annotation (Optional[X], list[X], X | None …), if there is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = model_of(arg)
        if found is not None:
            return found
    if isinstance(annotation, types.UnionType):
        for arg in annotation.__args__:
            found = model_of(arg)
            if found is not None:
                return found
    return None


def _label_text(field: Any, language: str) -> str | None:
    text = field.title or field.description
    if not text or len(text) > 40:
        return None
    if " / " in text:
        zh, _, en = text.partition(" / ")
        return en.strip() if language.startswith("en") else zh.strip()
    return text


def field_label(model: type[BaseModel] | None, path: Sequence[str | int], language: str) -> str | None:
    """The label of the field at ``path`` inside ``model`` (list indices skipped); None when it has none."""
    label = None
    current = model
    for part in path:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            continue
        if current is None or part not in current.model_fields:
            return None
        info = current.model_fields[part]
        label = _label_text(info, language)
        current = model_of(info.annotation)
    return label


def _readable(ctx: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in ctx.items():
        text = str(v)
        if k == "error" and text.startswith(("Value error, ", "Assertion failed, ")):
            text = text.split(", ", 1)[1]
        out[k] = text.replace("'", "")
    return out


def problems(errors: Sequence[Any], *, body_model: type[BaseModel] | None, language: str) -> list[dict[str, Any]]:
    """Each Pydantic error as ``{loc, msg, label, type}`` in ``language``."""
    out = []
    for err in errors:
        loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
        where, path = (loc[0], loc[1:]) if loc and loc[0] in WHERE else ("body", loc)
        template = MESSAGES.get(err.get("type", ""), FALLBACK)
        msg = T(template.zh, template.en, **_readable(err.get("ctx") or {})).render(language)
        if "{" in msg:  # a ctx value the message needs is missing
            msg = FALLBACK.render(language)
        label = field_label(body_model, path, language) if where == "body" else None
        if label is None:
            names = [str(p) for p in path if not isinstance(p, int)]
            label = names[-1] if names else None
        out.append({"loc": [str(p) for p in loc], "msg": msg, "label": label, "type": err.get("type")})
    return out


def message(found: list[dict[str, Any]], language: str) -> str:
    """One message for the whole answer: the first few fields by label, each with what is wrong."""
    sep = "; " if language.startswith("en") else "；"
    parts = [f"{p['label']}{': ' if language.startswith('en') else '：'}{p['msg']}" if p["label"] else p["msg"]
             for p in found[:3]]
    more = len(found) - 3
    if language.startswith("en"):
        return "Please correct the input: " + sep.join(parts) + (f" (and {more} more)" if more > 0 else "")
    return "输入有误，请修改后重试：" + sep.join(parts) + (f"（另有 {more} 处）" if more > 0 else "")
