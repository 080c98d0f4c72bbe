"""The ingest validator generated from the domain's event rules."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from console.store.validation import MAX_BATCH_EVENTS, BatchError, parse_batch


def problems(*events: Any) -> list[str]:
    with pytest.raises(BatchError) as raised:
        parse_batch(orjson.dumps({"events": list(events)}))
    assert raised.value.status == 422
    return [p.field for p in raised.value.problems]


def test_a_valid_batch_comes_back_as_dicts_with_platform_extras_kept() -> None:
    body = orjson.dumps(
        {
            "events": [
                {
                    "id": "e1",
                    "type": "comment",
                    "ts": 1.5,
                    "member_id": "m1",
                    "data": {"text": "好", "platform_msg_id": 77},
                },
                {"id": "e2", "type": "like", "ts": 2, "member_id": "m1"},
            ]
        }
    )
    first, second = parse_batch(body)
    assert first["data"] == {"text": "好", "platform_msg_id": 77}
    assert second["ts"] == 2.0
    assert "data" not in second


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"type": "like", "ts": 1, "member_id": "m"}, "events[0].id"),
        ({"id": "", "type": "like", "ts": 1, "member_id": "m"}, "events[0].id"),
        ({"id": "x" * 129, "type": "like", "ts": 1, "member_id": "m"}, "events[0].id"),
        ({"id": "a", "type": "dance", "ts": 1, "member_id": "m"}, "events[0].type"),
        ({"id": "a", "ts": 1, "member_id": "m"}, "events[0].type"),
        ({"id": "a", "type": "like", "member_id": "m"}, "events[0].ts"),
        ({"id": "a", "type": "like", "ts": "noon", "member_id": "m"}, "events[0].ts"),
        ({"id": "a", "type": "like", "ts": -1, "member_id": "m"}, "events[0].ts"),
        ({"id": "a", "type": "like", "ts": True, "member_id": "m"}, "events[0].ts"),
        ({"id": "a", "type": "viewer_joined", "ts": 1}, "events[0].member_id"),
        ({"id": "a", "type": "viewer_joined", "ts": 1, "member_id": 7}, "events[0].member_id"),
        ({"id": "a", "type": "comment", "ts": 1, "member_id": "m"}, "events[0].data"),
        (
            {"id": "a", "type": "comment", "ts": 1, "member_id": "m", "data": {}},
            "events[0].data.text",
        ),
        (
            {"id": "a", "type": "comment", "ts": 1, "member_id": "m", "data": {"text": " "}},
            "events[0].data.text",
        ),
        (
            {"id": "a", "type": "comment", "ts": 1, "member_id": "m", "data": {"text": "x" * 501}},
            "events[0].data.text",
        ),
        (
            {"id": "a", "type": "like", "ts": 1, "member_id": "m", "data": {"count": 0}},
            "events[0].data.count",
        ),
        (
            {"id": "a", "type": "like", "ts": 1, "member_id": "m", "data": {"count": "3"}},
            "events[0].data.count",
        ),
        ({"id": "a", "type": "like", "ts": 1, "member_id": "m", "data": []}, "events[0].data"),
        (5, "events[0]"),
    ],
)
def test_each_problem_names_its_field(event: Any, field: str) -> None:
    assert field in problems(event)


def test_every_bad_event_of_a_batch_is_named() -> None:
    good = {"id": "ok", "type": "like", "ts": 1, "member_id": "m"}
    fields = problems(good, {"id": "b", "type": "like", "ts": -1}, good, {"id": "c", "type": "x"})
    assert fields[:2] == ["events[1].ts", "events[1].member_id"]
    assert "events[3].type" in fields


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(BatchError) as raised:
        parse_batch(b'{"events": [{"id": "a", "type": "dance", "ts": 1, "member_id": "m"}]}')
    reason = raised.value.problems[0].reason
    assert "'dance'" in reason
    assert "viewer_joined" in reason


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b'{"events": [', 400, "body"),
        (b"[1, 2]", 422, "body"),
        (b"{}", 422, "events"),
        (orjson.dumps({"events": [{}] * (MAX_BATCH_EVENTS + 1)}), 413, "events"),
    ],
)
def test_body_level_problems(body: bytes, status: int, field: str) -> None:
    with pytest.raises(BatchError) as raised:
        parse_batch(body)
    assert raised.value.status == status
    assert raised.value.problems[0].field == field
