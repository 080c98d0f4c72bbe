"""Validation errors in the users' language (简体中文), by pydantic error type.

pydantic words its messages in English; the consoles show the store's reasons as they come,
so each error type gets a Chinese reason built from the error's ``ctx`` (the limit, the
allowed values). A type without a translation still gets a Chinese reason, with pydantic's
English message after it, so nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

BOUNDS_ERROR = "out_of_bounds"
"""The error type our own validators raise (``PydanticCustomError``): the message is
already the Chinese reason."""


_TEMPLATES: dict[str, str] = {
    "missing": "必填",
    "missing_argument": "必填",
    "extra_forbidden": "不允许的字段",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "int_from_float": "必须是整数，不能带小数",
    "int_parsing_size": "整数太大",
    "float_type": "必须是数字",
    "float_parsing": "必须是数字",
    "finite_number": "必须是有限的数字（不能是 NaN 或无穷大）",
    "bool_type": "必须是 true 或 false",
    "bool_parsing": "必须是 true 或 false",
    "string_type": "必须是字符串",
    "string_unicode": "必须是有效的 Unicode 字符串",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不对（要求匹配 {pattern}）",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "greater_than": "必须大于 {gt}",
    "greater_than_equal": "必须大于或等于 {ge}",
    "less_than": "必须小于 {lt}",
    "less_than_equal": "必须小于或等于 {le}",
    "multiple_of": "必须是 {multiple_of} 的倍数",
    "enum": "必须是以下之一：{expected}",
    "literal_error": "必须是以下之一：{expected}",
    "list_type": "必须是数组",
    "tuple_type": "必须是数组",
    "set_type": "必须是数组",
    "dict_type": "必须是对象",
    "model_type": "必须是对象",
    "model_attributes_type": "必须是对象",
    "none_required": "必须为 null",
    "date_type": "必须是日期（如 2026-11-20）",
    "date_parsing": "必须是日期（如 2026-11-20）：{error}",
    "date_from_datetime_parsing": "必须是日期（如 2026-11-20）：{error}",
    "date_from_datetime_inexact": "必须是日期，不能带时刻",
    "datetime_type": "必须是时间（如 2026-11-20T20:00:00+08:00）",
    "datetime_parsing": "必须是时间（如 2026-11-20T20:00:00+08:00）：{error}",
    "datetime_from_date_parsing": "必须是时间（如 2026-11-20T20:00:00+08:00）：{error}",
    "datetime_object_invalid": "时间无效：{error}",
    "json_type": "必须是 JSON 字符串",
    "recursion_loop": "嵌套过深",
    "recursion_depth_exceeded": "嵌套过深",
    "union_tag_invalid": "类型 {tag} 未知；可选：{expected_tags}",
    "union_tag_not_found": "必填：说明类型（{discriminator}）",
    "is_instance_of": "类型不对",
    "value_error": "取值无效：{error}",
    "uuid_parsing": "必须是 UUID",
}


def reason_of(error: Mapping[str, Any]) -> str:
    """A Chinese reason for one pydantic error (``ValidationError.errors()`` item)."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    msg = str(error.get("msg", ""))
    if kind == BOUNDS_ERROR:
        return msg
    if kind == "json_invalid":
        return json_syntax_reason(str(ctx.get("error", msg)))
    template = _TEMPLATES.get(kind)
    if template is None:
        return f"取值无效（{msg}）"
    try:
        return template.format_map(_Defaulting(ctx))
    except (ValueError, IndexError):  # a brace in a value's text
        return f"取值无效（{msg}）"


class _Defaulting(dict[str, Any]):
    def __init__(self, ctx: Mapping[str, Any]) -> None:
        super().__init__(ctx)

    def __missing__(self, key: str) -> str:
        return "?"


def dotted(loc: Sequence[int | str]) -> str:
    """``('body', 'offers', 3, 'price')`` -> ``body.offers.3.price`` (the field as named)."""
    return ".".join(str(part) for part in loc)


def field_of(error: Mapping[str, Any]) -> str:
    """The dotted loc of an error; a union's missing or unknown tag names the tag's field."""
    field = dotted(error.get("loc", ()))
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        tag = str((error.get("ctx") or {}).get("discriminator", "")).strip("'\"")
        if tag:
            field = f"{field}.{tag}" if field else tag
    return field


def has_chinese(text: str) -> bool:
    """True when ``text`` has a CJK ideograph (what tests of the reasons check)."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


HTTP_REASONS: dict[int, str] = {
    400: "请求无法解析（不是有效的 JSON，或嵌套过深）",
    404: "没有这个地址",
    405: "这个地址不支持该请求方法",
    406: "无法提供所要求的格式",
    415: "不支持的内容类型",
}
"""Reasons for the errors the web framework itself raises (unknown route, bad body)."""


def http_reason(status: int, detail: str) -> str:
    known = HTTP_REASONS.get(status)
    return known if known is not None else f"请求被拒绝（{detail}）"


# What a JSON parser (orjson, pydantic's jiter) says, in the words a user reads.
_JSON_SYNTAX = (
    ("recursion limit", "嵌套过深"),
    ("EOF while parsing", "内容不完整"),
    ("unexpected end", "内容不完整"),
    ("expected value", "此处应为一个值"),
    ("trailing", "末尾有多余内容"),
    ("number out of range", "数字超出范围"),
    ("invalid unicode", "含无效的 Unicode 字符"),
    ("lone leading surrogate", "含无效的 Unicode 字符"),
    ("control character", "字符串里有控制字符"),
    ("key must be a string", "键必须是字符串"),
    # Python's json module (FastAPI reads request bodies with it)
    ("expecting value", "此处应为一个值"),
    ("expecting property name", "键必须是双引号括起的字符串"),
    ("expecting ':'", "缺少冒号"),
    ("expecting ','", "缺少逗号"),
    ("extra data", "末尾有多余内容"),
    ("unterminated string", "字符串没有结束"),
    ("invalid \\uxxxx", "无效的 \\u 转义"),
    ("invalid \\escape", "无效的转义字符"),
)
_POSITION = re.compile(r"line (\d+) column (\d+)")


def json_syntax_reason(detail: str) -> str:
    """ "不是有效的 JSON：嵌套过深（第 1 行第 297 列）" from a parser's English message."""
    what = next((zh for en, zh in _JSON_SYNTAX if en.lower() in detail.lower()), "格式错误")
    where = _POSITION.search(detail)
    at = f"（第 {where.group(1)} 行第 {where.group(2)} 列）" if where else ""
    return f"不是有效的 JSON：{what}{at}"


def json_position_reason(document: str | bytes, position: int, detail: str) -> str:
    """ "第 1 行第 10 列附近不是有效的 JSON（此处应为一个值）": where in ``document`` a JSON
    parser stopped (``position``, a character offset, as Python's json module gives it)."""
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
    position = max(0, min(position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    what = next((zh for en, zh in _JSON_SYNTAX if en.lower() in detail.lower()), "格式错误")
    return f"第 {line} 行第 {column} 列附近不是有效的 JSON（{what}）"
