"""Incoming event batches, parsed and validated in one pass by pydantic-core.

The schema is generated from the domain's ``EVENT_RULES``, so what an event must carry is
written down once (in ``console.domain.events``); this module only turns it into a fast
validator and the OpenAPI description of the ingest body.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal, NotRequired, Union

import orjson
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from console.domain.bounds import json_value_problem, text_problem
from console.domain.events import (
    EVENT_RULES,
    MAX_EVENT_ID_LENGTH,
    MAX_HANDLE_LENGTH,
    MAX_MEMBER_ID_LENGTH,
    MAX_PLATFORM_LENGTH,
    PLATFORM_EVENT_TYPES,
    PLATFORM_USER,
    DataField,
    EventRule,
    EventType,
    Problem,
)
from console.domain.redaction import redact_event_data
from console.store.messages import json_syntax_reason, reason_of

MAX_BATCH_EVENTS = 5_000
_TYPE_NAMES = frozenset(t.value for t in PLATFORM_EVENT_TYPES)


class BatchError(Exception):
    """The batch is refused whole; ``status`` is 400 (not JSON), 413 (too many) or 422."""

    def __init__(self, status: int, problems: Sequence[Problem]) -> None:
        super().__init__(str(problems[0]))
        self.status = status
        self.problems = list(problems)


# The schema is built at run time from data, which mypy cannot follow: these handles are Any.
_typed_dict: Any = TypedDict
_annotated: Any = Annotated
_not_required: Any = NotRequired
_literal: Any = Literal


def _field_type(spec: DataField) -> Any:
    if spec.choices:
        choice = _literal[spec.choices]
        return choice if spec.required else _not_required[choice]
    # A JSON integer is a number too (an amount of 12 yuan): floats take ints.
    constraints: dict[str, Any] = {"strict": spec.kind is not float}
    if spec.max_length is not None:
        constraints["max_length"] = spec.max_length
    if spec.kind is str and spec.required:
        constraints["pattern"] = r"\S"  # not blank
    if spec.minimum is not None:
        constraints["ge"] = spec.minimum
    if spec.maximum is not None:
        constraints["le"] = spec.maximum
    if spec.kind is float:
        constraints["allow_inf_nan"] = False
    annotated = _annotated[spec.kind, Field(**constraints)]
    if spec.nullable:
        annotated = annotated | None
    return annotated if spec.required else _not_required[annotated]


def _platform_user() -> Any:
    """``data.platform_user``: who the viewer is on the platform (a handle is an identifier:
    stored, never shown on a host's screen)."""
    text: Any = _annotated[str, Field(strict=True, min_length=1, pattern=r"\S")]
    user = _typed_dict(
        "PlatformUser",
        {
            "platform": _annotated[text, Field(max_length=MAX_PLATFORM_LENGTH)],
            "handle": _annotated[text, Field(max_length=MAX_HANDLE_LENGTH)],
            "nick": _not_required[_annotated[str, Field(strict=True, max_length=64)]],
        },
    )
    user.__pydantic_config__ = ConfigDict(extra="forbid")
    return user


_PLATFORM_USER = _platform_user()


def _event_type(event_type: EventType, rule: EventRule) -> Any:
    name = "".join(part.title() for part in event_type.value.split("_"))
    data_fields = {key: _field_type(spec) for key, spec in rule.fields.items()}
    data_fields[PLATFORM_USER] = _not_required[_PLATFORM_USER]
    data = _typed_dict(f"{name}Data", data_fields)
    data.__pydantic_config__ = ConfigDict(extra="allow")  # platform extras are kept
    member = _annotated[str, Field(min_length=1, max_length=MAX_MEMBER_ID_LENGTH, strict=True)]
    event = _typed_dict(
        f"{name}Event",
        {
            "id": _annotated[str, Field(min_length=1, max_length=MAX_EVENT_ID_LENGTH, strict=True)],
            "type": _literal[event_type.value],
            "ts": _annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)],
            # Required as a key where the rule needs someone; null when data.platform_user
            # names the viewer instead (checked after parsing, ``_actor_problems``).
            "member_id": _not_required[member | None],
            "data": data if rule.required_fields else _not_required[data | None],
        },
    )
    event.__pydantic_config__ = ConfigDict(extra="ignore")
    return event


_EVENT = _annotated[
    Union.__getitem__(tuple(_event_type(t, EVENT_RULES[t]) for t in sorted(PLATFORM_EVENT_TYPES))),
    Field(discriminator="type"),
]
EventBatch = _typed_dict(
    "EventBatch",
    {"events": _annotated[list.__class_getitem__(_EVENT), Field(max_length=MAX_BATCH_EVENTS)]},
)
_BATCH = TypeAdapter(EventBatch)


def batch_json_schema() -> dict[str, Any]:
    """The ingest body's JSON schema, for the OpenAPI document."""
    return _BATCH.json_schema(ref_template="#/components/schemas/{model}")


def parse_batch(body: bytes) -> list[dict[str, Any]]:
    """The events of a JSON batch body, all valid, or BatchError naming every problem."""
    try:
        batch = _BATCH.validate_json(body)
    except ValidationError as exc:
        error = _batch_error(exc)
        if error.status == 422:  # name the missing actors too: every problem at once
            error.problems = _in_event_order(error.problems + _raw_actor_problems(body))
        raise error from None
    events: list[dict[str, Any]] = batch["events"]
    problems = _actor_problems(events) + _data_problems(events)
    if problems:
        raise BatchError(422, problems)
    return events


def _raw_actor_problems(body: bytes) -> list[Problem]:
    """``_actor_problems`` of a batch the schema refused, for the events it can tell."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    events = raw.get("events") if isinstance(raw, dict) else None
    if not isinstance(events, list):
        return []
    typed = [
        e if isinstance(e, dict) and e.get("type") in _TYPE_NAMES else {"type": None}
        for e in events
    ]
    return _actor_problems(typed)


def _in_event_order(problems: list[Problem]) -> list[Problem]:
    def index(problem: Problem) -> int:
        found = re.match(r"events\[(\d+)\]", problem.field)
        return int(found.group(1)) if found else -1

    return sorted(problems, key=index)


def _actor_problems(events: list[dict[str, Any]]) -> list[Problem]:
    """An event about a viewer names them: a member id, or their platform identity."""
    problems = []
    for index, event in enumerate(events):
        if event.get("type") not in _TYPE_NAMES:
            continue
        rule = EVENT_RULES[EventType(event["type"])]
        if not rule.requires_member or event.get("member_id"):
            continue
        data = event.get("data")
        if not isinstance(data, dict) or PLATFORM_USER not in data:
            reason = "必填（或在 data.platform_user 给出平台身份）"
            problems.append(Problem(f"events[{index}].member_id", reason))
    return problems


def _data_problems(events: list[dict[str, Any]]) -> list[Problem]:
    """The platform's extra fields in ``data`` are free-form: each must be JSON the store can
    keep (``console.domain.bounds.json_value_problem``), or the batch is refused; so must
    the ids (no NUL, no lone surrogate: ``text_problem``)."""
    problems = []
    for index, event in enumerate(events):
        for key in ("id", "member_id"):
            value = event.get(key)
            if isinstance(value, str) and (reason := text_problem(value)) is not None:
                problems.append(Problem(f"events[{index}].{key}", reason))
        data = event.get("data")
        if (
            EVENT_RULES[EventType(event["type"])].requires_member
            and not event.get("member_id")
            and not (data or {}).get("platform_user")
        ):
            problems.append(Problem(f"events[{index}].member_id", "必填"))
        if not data:
            continue
        found = json_value_problem(data)
        if found is not None:
            where, reason = found
            field = f"events[{index}].data" + (f".{where}" if where and where[0] != "[" else where)
            problems.append(Problem(field, reason))
    return problems


def _batch_error(exc: ValidationError) -> BatchError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        detail = str(first.get("ctx", {}).get("error", first["msg"]))
        return BatchError(400, [Problem("body", json_syntax_reason(detail))])
    if any(e["type"] == "too_long" and tuple(e["loc"]) == ("events",) for e in errors):
        return BatchError(413, [Problem("events", f"每批最多 {MAX_BATCH_EVENTS} 个事件")])
    return BatchError(422, [Problem(_path(e["loc"], e["type"]), _reason(e)) for e in errors])


def _path(loc: Sequence[int | str], error_type: str) -> str:
    """``('events', 3, 'comment', 'data', 'text')`` -> ``events[3].data.text``."""
    if not loc:
        return "body"
    parts: list[str] = []
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            parts[-1] += f"[{part}]"
        elif isinstance(previous, int) and part in _TYPE_NAMES:
            pass  # the discriminated union's tag, not a field
        else:
            parts.append(part)
        previous = part
    path = ".".join(parts)
    if error_type in ("union_tag_invalid", "union_tag_not_found"):
        path += ".type"
    return path


def _reason(error: Any) -> str:
    if error["type"] == "union_tag_invalid":
        known = ", ".join(sorted(_TYPE_NAMES))
        return f"未知的事件类型 {error['input'].get('type')!r}；可选：{known}"
    if error["type"] == "union_tag_not_found":
        return "必填；可选：" + ", ".join(sorted(_TYPE_NAMES))
    if error["type"] == "string_pattern_mismatch":
        return "不能为空白"
    return reason_of(error)


def redact_batch(
    events: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The batch as screens may see it (``console.domain.redaction``), and each changed
    event's original data by event id, for the operator."""
    originals: dict[str, dict[str, Any]] = {}
    for index, event in enumerate(events):
        data = event.get("data")
        if not data:
            continue
        clean = redact_event_data(data, str(event["type"]))
        if clean is not None:
            originals[str(event["id"])] = data
            events[index] = {**event, "data": clean}
    return events, originals
