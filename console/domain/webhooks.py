"""Generic webhooks: a mapping (JSON pointer -> event field) turns any platform's or the
brand's own mini-program's JSON body into room events. Pure: no IO, no clock.

A mapping (TOML or JSON, one file per source)::

    messages = "/events"            # pointer to the list of messages; "" = the body is one
    [type]
    pointer = "/kind"               # where the message says what it is ...
    values = { enter = "viewer_joined", say = "comment" }   # ... and what that means here
    # or: constant = "comment"
    [fields]                        # event field <- pointer into the message
    id = "/msg_id"                  # required: the platform's own id (idempotency key)
    ts = "/time"                    # seconds or milliseconds; default: when it arrived
    "data.text" = "/content"
    "data.platform_user.handle" = "/user/openid"
    [constants]
    "data.platform_user.platform" = "miniapp"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EVENT_FIELDS = ("id", "ts", "member_id")


class MappingError(Exception):
    """A mapping or a body that does not fit it; ``field`` names where."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class WebhookMapping:
    source: str
    messages: str = ""
    type_pointer: str = ""
    type_values: Mapping[str, str] = field(default_factory=dict)
    type_constant: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, Any] = field(default_factory=dict)


def parse_mapping(source: str, raw: Mapping[str, Any]) -> WebhookMapping:
    """A mapping file's content, checked; MappingError names the bad key."""
    kind = raw.get("type")
    if not isinstance(kind, Mapping):
        raise MappingError("type", "必须是表，含 pointer + values 或 constant")
    fields = raw.get("fields")
    if not isinstance(fields, Mapping) or "id" not in fields:
        raise MappingError("fields.id", "必填：指向平台自己的消息编号")
    for target, pointer in fields.items():
        _check_target(f"fields.{target}", str(target))
        _check_pointer(f"fields.{target}", pointer)
    constants = raw.get("constants", {})
    if not isinstance(constants, Mapping):
        raise MappingError("constants", "必须是表")
    for target in constants:
        _check_target(f"constants.{target}", str(target))
    messages = raw.get("messages", "")
    _check_pointer("messages", messages)
    pointer = kind.get("pointer", "")
    constant = kind.get("constant", "")
    if not constant:
        _check_pointer("type.pointer", pointer)
        if not pointer:
            raise MappingError("type", "需要 pointer 或 constant")
    return WebhookMapping(
        source=source,
        messages=str(messages),
        type_pointer=str(pointer),
        type_values={str(k): str(v) for k, v in dict(kind.get("values", {})).items()},
        type_constant=str(constant),
        fields={str(k): str(v) for k, v in fields.items()},
        constants=dict(constants),
    )


def _check_target(where: str, target: str) -> None:
    if target not in EVENT_FIELDS and not target.startswith("data."):
        raise MappingError(where, "目标必须是 id、ts、member_id 或 data.<字段>")


def _check_pointer(where: str, pointer: object) -> None:
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise MappingError(where, f"不是 JSON Pointer（应以 / 开头）：{pointer!r}")


def resolve(document: Any, pointer: str) -> Any:
    """RFC 6901: the value at ``pointer``; KeyError if there is none."""
    if not pointer:
        return document
    value = document
    for token in pointer[1:].split("/"):
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, list):
            if not key.isdigit() or int(key) >= len(value):
                raise KeyError(pointer)
            value = value[int(key)]
        elif isinstance(value, Mapping) and key in value:
            value = value[key]
        else:
            raise KeyError(pointer)
    return value


def messages_of(mapping: WebhookMapping, body: Any) -> list[Any]:
    """The platform messages in one webhook body."""
    try:
        found = resolve(body, mapping.messages)
    except KeyError:
        raise MappingError(mapping.messages or "body", "请求体中没有这个位置") from None
    return list(found) if mapping.messages and isinstance(found, list) else [found]


def map_message(mapping: WebhookMapping, message: Any, received_at: float) -> dict[str, Any]:
    """One platform message as a room event (the store then validates it as any other)."""
    event: dict[str, Any] = {"member_id": None, "ts": received_at, "data": {}}
    if mapping.type_constant:
        event["type"] = mapping.type_constant
    else:
        value = _value(message, mapping.type_pointer, "type")
        key = str(value)
        event["type"] = mapping.type_values.get(key, key) if mapping.type_values else key
    for target, pointer in mapping.fields.items():
        try:
            value = resolve(message, pointer)
        except KeyError:
            if target == "id":
                raise MappingError("id", f"消息中没有 {pointer}") from None
            continue
        _put(event, target, value)
    for target, value in mapping.constants.items():
        _put(event, target, value)
    event["id"] = f"{mapping.source}:{event.get('id')}"
    event["ts"] = _seconds(event["ts"])
    if not event["data"]:
        del event["data"]
    return event


def _value(message: Any, pointer: str, name: str) -> Any:
    try:
        return resolve(message, pointer)
    except KeyError:
        raise MappingError(name, f"消息中没有 {pointer}") from None


def _put(event: dict[str, Any], target: str, value: Any) -> None:
    if target in EVENT_FIELDS:
        event[target] = value if target != "id" else str(value)
        return
    parts = target.split(".")[1:]
    node = event["data"]
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise MappingError(target, "与另一个字段冲突")
    node[parts[-1]] = value


def _seconds(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value  # the store's validation names the field
    return value / 1000.0 if value > 1e11 else float(value)
