"""The generic signed webhook: a mapping file per source, HMAC-SHA256 over the raw body."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.adapters.base import RawMessage
from console.adapters.webhook import load_mapping
from console.domain.webhooks import MappingError, map_message, messages_of, parse_mapping
from console.store.routes_webhooks import signature_of
from tests.adapters.conftest import PLATFORMS, ingest_file, platform_log
from tests.helpers import StoreProcess

SECRET = "s3cret-of-the-miniapp"
FOLDER = PLATFORMS / "webhook"


def _body(shift_s: float) -> bytes:
    """The documented body, dated ``shift_s`` later (a store refuses stale times)."""
    doc = json.loads((FOLDER / "miniapp_body.json").read_text(encoding="utf-8"))
    for message in doc["batch"]:
        message["at"] += int(shift_s * 1000)
    return json.dumps(doc, ensure_ascii=False).encode()


@pytest.fixture
def hooked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreProcess]:
    monkeypatch.setenv("CONSOLE_WEBHOOKS_DIR", str(FOLDER))
    monkeypatch.setenv("MINIAPP_WEBHOOK_SECRET", SECRET)
    process = StoreProcess(tmp_path / "store.db")
    process.start()
    yield process
    process.stop()


def _post(store: StoreProcess, sid: str, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Signature"] = signature
    return httpx.post(
        f"{store.url}/api/v1/sessions/{sid}/webhooks/miniapp", content=body, headers=headers
    )


def test_a_signed_body_becomes_events_once(hooked: StoreProcess) -> None:
    sid = hooked.new_session("小程序直播")
    body = _body(time.time() - 1717000000)
    first = _post(hooked, sid, body, signature_of(SECRET.encode(), body))
    assert first.status_code == 200, first.text
    assert first.json()["accepted"] == 4
    again = _post(hooked, sid, body, signature_of(SECRET.encode(), body))
    assert again.json() == {**again.json(), "accepted": 0, "duplicates": 4}
    events = platform_log(hooked, sid)
    assert [e["type"] for e in events] == ["viewer_joined", "comment", "like", "share"]
    assert events[1]["id"] == "miniapp:wx-0002"
    assert events[1]["data"]["text"] == "+1"
    assert events[1]["data"]["platform_user"]["platform"] == "miniapp"
    assert events[2]["data"]["count"] == 3


@pytest.mark.parametrize(
    ("signature", "reason"),
    [(None, "缺少签名"), ("sha256=" + "0" * 64, "签名不符"), ("sha1=abc", "签名不符")],
)
def test_unsigned_or_wrongly_signed_bodies_are_refused_401(
    hooked: StoreProcess, signature: str | None, reason: str
) -> None:
    sid = hooked.new_session()
    response = _post(hooked, sid, _body(time.time() - 1717000000), signature)
    assert response.status_code == 401
    assert reason in response.json()["error"]
    assert platform_log(hooked, sid) == []


def test_a_body_signed_with_another_sources_secret_is_refused(hooked: StoreProcess) -> None:
    sid = hooked.new_session()
    body = _body(time.time() - 1717000000)
    response = _post(hooked, sid, body, signature_of(b"someone-else", body))
    assert response.status_code == 401


def test_a_message_missing_its_id_or_a_required_field_is_422_naming_it(
    hooked: StoreProcess,
) -> None:
    sid = hooked.new_session()
    no_id = json.dumps({"batch": [{"kind": "say", "content": "hi"}]}).encode()
    response = _post(hooked, sid, no_id, signature_of(SECRET.encode(), no_id))
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "id"
    no_text = json.dumps(
        {"batch": [{"msg_id": "x1", "kind": "say", "user": {"openid": "o1"}}]}
    ).encode()
    response = _post(hooked, sid, no_text, signature_of(SECRET.encode(), no_text))
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "events[0].data.text"


def test_mapping_files_are_checked_naming_the_key() -> None:
    with pytest.raises(MappingError) as missing:
        parse_mapping("x", {"type": {"constant": "comment"}, "fields": {"ts": "/t"}})
    assert missing.value.field == "fields.id"
    with pytest.raises(MappingError) as pointer:
        parse_mapping("x", {"type": {"constant": "comment"}, "fields": {"id": "msg"}})
    assert pointer.value.field == "fields.id"
    with pytest.raises(MappingError) as target:
        parse_mapping("x", {"type": {"pointer": "/k"}, "fields": {"id": "/i", "nick": "/n"}})
    assert target.value.field == "fields.nick"


def test_json_pointer_escapes_and_millisecond_times() -> None:
    mapping = parse_mapping(
        "p",
        {
            "type": {"constant": "comment"},
            "fields": {"id": "/a~1b", "ts": "/t", "data.text": "/m~0x/0"},
        },
    )
    (message,) = messages_of(mapping, {"a/b": 7, "t": 1717000000500, "m~x": ["嗨"]})
    event: dict[str, Any] = map_message(mapping, message, 1.0)
    assert event == {
        "id": "p:7",
        "type": "comment",
        "ts": 1717000000.5,
        "member_id": None,
        "data": {"text": "嗨"},
    }


def test_a_capture_of_webhook_bodies_replays_twice_without_duplicates(
    hooked: StoreProcess, tmp_path: Path
) -> None:
    sid = hooked.new_session()
    body = json.loads(_body(0))
    capture = tmp_path / "miniapp.jsonl"
    capture.write_bytes(RawMessage("miniapp", "webhook", body, 1717000000.0).to_line() + b"\n")
    assert load_mapping(FOLDER / "miniapp.toml").source == "miniapp"
    for expected in ("accepted 4 duplicates 0", "accepted 0 duplicates 4"):
        result = ingest_file(hooked, sid, "miniapp", capture, "--mappings", str(FOLDER))
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout
    assert len(platform_log(hooked, sid)) == 4
