"""Adapter throughput and added latency, through ingest-file's path into a real store.

    python -m tests.bench.bench_adapters [--messages 20000] [--latency-messages 400]

1. A TikTok capture (comments, likes, joins, room counts as the live adapter writes them:
   protobuf bytes) replayed as fast as possible by ``console.adapters.replay`` (decode, map,
   batch, post) - platform messages/s - against posting the already-mapped events in the same
   batches (the store's own ingest rate, the baseline). A second replay must add nothing.
2. Added latency: the same capture paced at 200 messages/s, each message posted on its own;
   time from handing the message to the adapter until the store acknowledged it (the event
   is then in the log, committed). Target: p95 under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from console.adapters.base import RawMessage
from console.adapters.capture import read_capture
from console.adapters.replay import replay
from console.adapters.sink import MAX_BATCH, StoreSink
from console.adapters.tiktok_mapping import TikTokMapper, decode, encode
from console.sync.client import StoreClient
from tests.bench.table import Figure, add_json_option, write_json
from tests.helpers import StoreProcess

KINDS = (
    "WebcastChatMessage",
    "WebcastLikeMessage",
    "WebcastMemberMessage",
    "WebcastRoomUserSeqMessage",
)


def write_capture(path: Path, count: int, start: float, rate: float) -> None:
    lines = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        user = {
            "id": str(6800000000000000000 + i % 997),
            "displayId": f"viewer{i % 997}",
            "nickname": f"观众{i % 997}",
        }
        created = str(int((start + i / rate) * 1000))
        payload: dict[str, object] = {
            "common": {"msgId": str(7375000000000000000 + i), "createTime": created}
        }
        if kind == "WebcastRoomUserSeqMessage":
            payload |= {"total": str(100 + i % 50), "totalUser": str(1000 + i)}
        else:
            payload["user"] = user
            payload |= {"content": f"第{i}条 +1"} if kind == "WebcastChatMessage" else {}
            payload |= {"count": 1 + i % 9} if kind == "WebcastLikeMessage" else {}
            payload |= {"action": "JOINED"} if kind == "WebcastMemberMessage" else {}
        raw = RawMessage("tiktok", kind, encode(decode(kind, payload)), start + i / rate)
        lines.append(raw.to_line())
    path.write_bytes(b"\n".join(lines) + b"\n")


async def measure(store: StoreProcess, capture: Path, latency_capture: Path) -> dict[str, float]:
    client = StoreClient(store.url, store.token("ingest"))
    messages = list(read_capture(capture))
    mapper = TikTokMapper()
    try:
        # Baseline: the same events, already mapped, in the same batches, into another session.
        offset = time.time() - messages[0].recv_ts
        events = [{**e, "ts": e["ts"] + offset} for m in messages for e in mapper.map(m)]
        base_sid = store.new_session("基线")
        t0 = time.perf_counter()
        for i in range(0, len(events), MAX_BATCH):
            await client.post_events(base_sid, events[i : i + MAX_BATCH])
        baseline = len(messages) / (time.perf_counter() - t0)

        sid = store.new_session("吞吐")
        t0 = time.perf_counter()
        first = await replay(read_capture(capture), mapper, StoreSink(client, sid, "tiktok"))
        rate = first.messages / (time.perf_counter() - t0)
        second = await replay(read_capture(capture), mapper, StoreSink(client, sid, "tiktok"))

        lat_sid = store.new_session("延迟")
        delays: list[float] = []
        await replay(
            read_capture(latency_capture),
            mapper,
            StoreSink(client, lat_sid, "tiktok"),
            speed=1.0,
            on_sent=lambda _m, handed: delays.append(time.time() - handed),
        )
    finally:
        await client.aclose()
    delays.sort()
    return {
        "rate": rate,
        "baseline": baseline,
        "accepted": first.accepted,
        "events": first.events,
        "second_accepted": second.accepted,
        "p50_ms": 1000 * statistics.median(delays),
        "p95_ms": 1000 * delays[int(0.95 * (len(delays) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--latency-messages", type=int, default=400)
    add_json_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        capture, paced = Path(folder) / "fast.jsonl", Path(folder) / "paced.jsonl"
        write_capture(capture, args.messages, time.time() - 60, 1000.0)
        write_capture(paced, args.latency_messages, time.time(), 200.0)
        store = StoreProcess(Path(folder) / "store.db")
        store.start()
        try:
            f = asyncio.run(measure(store, capture, paced))
        finally:
            store.stop()
    print(
        f"adapters: {args.messages} TikTok messages replayed at {f['rate']:.0f} msg/s "
        f"(mapped events posted alone: {f['baseline']:.0f} msg/s); second replay accepted "
        f"{f['second_accepted']:.0f}; added latency at 200 msg/s p50 {f['p50_ms']:.1f} ms, "
        f"p95 {f['p95_ms']:.1f} ms"
    )
    base = "mapped events posted alone"
    write_json(
        args.json,
        [
            Figure(
                "adapters",
                "TikTok messages via ingest-file",
                f["rate"],
                "msg/s",
                f["baseline"],
                base,
                ">= 500 msg/s (a busy room)",
                f["rate"] >= 500,
            ),
            Figure(
                "adapters",
                "events stored twice on a second replay",
                f["second_accepted"],
                "events",
                target="= 0",
                met=f["second_accepted"] == 0,
            ),
            Figure(
                "adapters",
                "message to store log p95",
                f["p95_ms"],
                "ms",
                target="< 50 ms",
                met=f["p95_ms"] < 50,
            ),
        ],
    )


if __name__ == "__main__":
    main()
