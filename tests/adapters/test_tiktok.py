"""TikTok LIVE: the library's documented messages -> store events, through the library's own
client and parser, and a capture replayed twice into a real store.

TikTok's webcast (a signed websocket of protobuf frames behind a signing service) cannot be
stood in for locally: the wiring test feeds the library's own ``ProtoMessageFetchResult``
frames through ``TikTokLiveClient``'s parser and emitter into our handlers.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from TikTokLive import TikTokLiveClient
from TikTokLive.proto import ProtoMessageFetchResult

from console.adapters.base import RawMessage
from console.adapters.capture import CaptureWriter, read_capture
from console.adapters.sink import StoreSink
from console.adapters.tiktok import TikTokAdapter, close_client
from console.adapters.tiktok_mapping import EVENT_CLASSES, TikTokMapper, decode
from console.sync.client import StoreClient
from console.sync.retry import Backoff
from tests.adapters.conftest import PLATFORMS, ingest_file, platform_log
from tests.helpers import StoreProcess, run_async

ROOM = json.loads((PLATFORMS / "tiktok" / "room.json").read_text(encoding="utf-8"))["messages"]
EXPECTED_TYPES = [
    "viewer_joined",
    "comment",
    "like",
    "follow",
    "share",
    "room_stats",
    "comment",
    "live_ended",
]


def _mapped() -> list[dict[str, Any]]:
    mapper = TikTokMapper()
    return [
        e
        for raw in ROOM
        for e in mapper.map(RawMessage("tiktok", raw["kind"], raw["payload"], raw["recv_ts"]))
    ]


def test_documented_messages_map_to_store_events() -> None:
    events = _mapped()
    assert [e["type"] for e in events] == EXPECTED_TYPES
    assert events[1] == {
        "id": "tiktok:7375000000000000002",
        "type": "comment",
        "ts": 1717000001.1,
        "member_id": None,
        "data": {
            "text": "+1 要两份",
            "platform_user": {"platform": "tiktok", "handle": "lin_weiwei", "nick": "林薇薇"},
        },
    }
    assert events[2]["data"]["count"] == 15
    assert events[4]["data"]["channel"] == "tiktok"
    assert events[5]["data"] == {"platform": "tiktok", "online": 236, "total_viewers": 1804}
    assert events[7]["data"] == {"platform": "tiktok"}
    # The same message always gives the same id: a resend or a replay is a duplicate.
    assert [e["id"] for e in _mapped()] == [e["id"] for e in events]


def test_a_message_without_its_viewer_or_text_maps_to_nothing() -> None:
    mapper = TikTokMapper()
    no_user = RawMessage("tiktok", "WebcastChatMessage", {"content": "hi"}, 1.0)
    blank = RawMessage("tiktok", "WebcastChatMessage", {"user": {"id": "1"}, "content": "  "}, 1.0)
    unknown = RawMessage("tiktok", "WebcastGiftMessage", {}, 1.0)
    assert mapper.map(no_user) == mapper.map(blank) == mapper.map(unknown) == []


def test_a_huge_like_burst_is_capped_and_a_message_without_id_gets_its_content_hash() -> None:
    mapper = TikTokMapper()
    burst = {"user": {"id": "7"}, "count": 99999}
    (first,) = mapper.map(RawMessage("tiktok", "WebcastLikeMessage", burst, 5.0))
    (again,) = mapper.map(RawMessage("tiktok", "WebcastLikeMessage", burst, 6.0))
    assert first["data"]["count"] == 10_000
    assert first["id"] == again["id"]
    assert first["id"].startswith("tiktok:WebcastLikeMessage:")
    assert first["ts"] == 5.0  # no platform time: the receive time


def _frame(raws: list[dict[str, Any]]) -> ProtoMessageFetchResult:
    """The webcast frame TikTok sends: each message's method and protobuf bytes (dated now:
    the live adapter keeps TikTok's own times, and the store refuses a stale one)."""
    shift_ms = int(time.time() * 1000) - 1717000010000
    raws = [_dated(raw, shift_ms) for raw in raws]
    return ProtoMessageFetchResult.from_dict(
        {
            "messages": [{"method": raw["kind"], "payload": _b64(raw)} for raw in raws],
            "cursor": "1",
        }
    )


def _dated(raw: dict[str, Any], shift_ms: int) -> dict[str, Any]:
    common = raw["payload"]["common"]
    moved = {**common, "createTime": str(int(common["createTime"]) + shift_ms)}
    return {**raw, "payload": {**raw["payload"], "common": moved}}


def _b64(raw: dict[str, Any]) -> str:
    import base64

    return base64.b64encode(bytes(decode(raw["kind"], raw["payload"]))).decode()


def test_the_library_clients_handlers_feed_the_store_once(
    store: StoreProcess, tmp_path: Path
) -> None:
    sid = store.new_session("TikTok 直播")
    capture_path = tmp_path / "tiktok.jsonl"

    async def scenario() -> None:
        client = StoreClient(store.url, store.token("ingest"))
        capture = CaptureWriter(capture_path)
        adapter = TikTokAdapter(StoreSink(client, sid, "tiktok"), capture=capture)
        live = TikTokLiveClient("brand_room")
        live._room_id = 1  # as after start(): the room was resolved
        adapter.attach(live)
        pump = asyncio.ensure_future(adapter.pump())
        # Twice: TikTok repeats messages after a reconnect; the library also derives its
        # FollowEvent/ShareEvent/LiveEndEvent from the same messages.
        for _ in range(2):
            async for event in live._parse_webcast_response(_frame(ROOM)):
                live.emit(event.get_type(), event)
            await asyncio.sleep(0)
        await asyncio.wait_for(_until(lambda: adapter.sink.health.messages >= 2 * 8), 10)
        await asyncio.wait_for(adapter.drain(), 10)
        assert adapter.ended.is_set()
        pump.cancel()
        capture.close()
        await close_client(live)
        await client.aclose()

    run_async(scenario())
    events = platform_log(store, sid)
    assert [e["type"] for e in events] == EXPECTED_TYPES
    viewer = events[1]["data"]["platform_user"]
    assert "handle" not in viewer  # the log keeps a pseudonym, never the handle
    assert viewer["tag"]
    captured = list(read_capture(capture_path))
    assert len(captured) == 2 * len([r for r in ROOM if r["kind"] in EVENT_CLASSES])
    assert {m.kind for m in captured} >= {"WebcastChatMessage", "WebcastControlMessage"}


async def _until(condition: Any) -> None:
    while not condition():  # noqa: ASYNC110 (the library's emitter runs handlers as tasks)
        await asyncio.sleep(0.01)


def test_a_capture_replays_into_a_session_twice_without_duplicates(store: StoreProcess) -> None:
    sid = store.new_session("TikTok 回放")
    capture = PLATFORMS / "tiktok" / "capture.jsonl"
    first = ingest_file(store, sid, "tiktok", capture)
    assert first.returncode == 0, first.stderr
    assert "accepted 8 duplicates 0" in first.stdout
    second = ingest_file(store, sid, "tiktok", capture)
    assert second.returncode == 0, second.stderr
    assert "accepted 0 duplicates 8" in second.stdout
    events = platform_log(store, sid)
    assert [e["type"] for e in events] == EXPECTED_TYPES
    # Played as if received now, at the recorded spacing.
    assert abs(events[0]["ts"] - time.time()) < 60
    assert events[-1]["ts"] - events[0]["ts"] == pytest.approx(8.85, abs=0.01)


def test_a_store_restart_mid_stream_loses_and_doubles_nothing(store: StoreProcess) -> None:
    sid = store.new_session("TikTok 断线")
    messages = list(read_capture(PLATFORMS / "tiktok" / "capture.jsonl"))

    async def scenario() -> None:
        client = StoreClient(store.url, store.token("ingest"))
        sink = StoreSink(client, sid, "tiktok", backoff=Backoff(0.05, 0.2))
        tiktok = TikTokMapper()
        offset = time.time() - messages[0].recv_ts  # dated now, as a live room's are

        class Mapper:
            def map(self, message: RawMessage) -> list[dict[str, Any]]:
                return [{**e, "ts": e["ts"] + offset} for e in tiktok.map(message)]

        mapper = Mapper()
        for index, message in enumerate(messages):
            if index == 4:
                await asyncio.to_thread(store.restart)  # same port, same file
            await sink.send(mapper.map(message), recv_ts=message.recv_ts)
        # The store went away between two batches and once more under a batch in flight:
        await asyncio.to_thread(store.stop)
        resend = asyncio.ensure_future(sink.send(mapper.map(messages[1])))
        await asyncio.sleep(0.3)
        await asyncio.to_thread(store.start)
        await resend
        await client.aclose()

    run_async(scenario())
    assert [e["type"] for e in platform_log(store, sid)] == EXPECTED_TYPES


def test_ingest_file_refuses_an_unknown_source_in_one_line(store: StoreProcess) -> None:
    sid = store.new_session()
    result = ingest_file(store, sid, "nowhere", PLATFORMS / "tiktok" / "capture.jsonl")
    assert result.returncode == 2
    assert "unknown source 'nowhere'" in result.stderr
