"""What may reach a screen on stream, over real HTTP: free text and platform names are
redacted at ingest for every reader but the operator, and a revoked token's stream ends."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import unicodedata
from typing import Any

from tests.helpers import MAIN_PY, StoreProcess, event, open_db, open_stream, post, wait_for
from tests.store.test_orders import order, shop, state

__all__ = ["shop"]

PHONES = (
    "13812345678",
    "138 1234 5678",
    "138-1234-5678",
    "+86 139 0000 1111",
    "１３８ １２３４ ５６７８",  # full-width, as a Chinese IME types it
)
EXTRA = "13900001111"  # in a field a platform adds to a comment (data.extra), not data.text
DIGITS = ("13812345678", "13900001111")


def reads(store: StoreProcess, sid: str, role: str) -> dict[str, str]:
    """Everything a role reads of the session, as text: the log, the state, one stream pass."""
    with store.client(role) as client:
        texts = {
            "events": client.get(f"/sessions/{sid}/events").text,
            "state": client.get(f"/sessions/{sid}/state").text,
        }
    received: list[str] = []
    with open_stream(store, sid, role) as source:
        for message in source.iter_sse():
            received.append(message.data)
            if len(received) == len(PHONES) + 2:  # the whole log: the comments and the join
                break
    texts["stream"] = "\n".join(received)
    return texts


def only_digits(text: str) -> str:
    """The digits of ``text``, in any script, as ASCII (１３８ -> 138)."""
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def test_phone_numbers_and_names_never_reach_host_or_assistant_reads(
    shared_store: StoreProcess,
) -> None:
    sid = shared_store.new_session("脱敏")
    vip = "m00001"
    comments = [
        event("comment", vip, text=f"我的电话{p}，地址滨江区江南大道88号3栋2单元") for p in PHONES
    ]
    extra = event("comment", vip, text="好的", extra={"contact": [f"电话{EXTRA}"]})
    named = event("viewer_joined", None, nick="林小薇")
    named["member_id"] = "guest-77"
    post(shared_store, sid, [*comments, extra, named])
    for role in ("host", "assistant"):
        for where, text in reads(shared_store, sid, role).items():
            flat = only_digits(text.replace(" ", "").replace("-", ""))
            for number in DIGITS:
                assert number not in flat, (role, where)
            assert "江南大道88号" not in text, (role, where)
            assert "林小薇" not in text, (role, where)
        with shared_store.client(role) as client:
            refused = client.get(f"/sessions/{sid}/events", params={"reveal": "true"})
        assert refused.status_code == 403, role
    with shared_store.client("operator") as client:
        masked = client.get(f"/sessions/{sid}/events").json()["events"]
        original = client.get(f"/sessions/{sid}/events", params={"reveal": "true"}).json()
    assert "[已隐藏]" in masked[0]["data"]["text"]
    assert masked[-1]["data"]["nick"] == "林*薇"
    sent = [e["data"] for e in original["events"]]
    assert sent[0]["text"].startswith("我的电话13812345678")
    assert sent[-1]["nick"] == "林小薇"


def test_revoking_a_token_ends_its_open_stream_within_5_seconds(store: StoreProcess) -> None:
    sid = store.new_session("撤销")
    post(store, sid, [event("viewer_joined", "m00001")])
    ended: dict[str, Any] = {}
    connected = threading.Event()

    def follow() -> None:
        with open_stream(store, sid, timeout=30) as source:
            for _ in source.iter_sse():
                connected.set()
        ended["at"] = time.monotonic()

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert connected.wait(10), "the stream never delivered the first event"
    revoked = subprocess.run(
        [
            sys.executable,
            str(MAIN_PY),
            "token",
            "revoke",
            "--db",
            str(store.db_path),
            store.token("host"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert revoked.returncode == 0, revoked.stderr
    started = time.monotonic()
    wait_for(lambda: "at" in ended, 10, "the revoked token's stream is still open")
    assert ended["at"] - started < 5
    with store.client("host") as client:
        assert client.get(f"/sessions/{sid}/stream").status_code == 401


def test_a_first_time_buyer_is_never_welcomed_back(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    """Contract: an order by a member with no order before this session never yields a
    ``comeback`` shout-out; a dormant member who did buy before is welcomed back once."""
    sid = shop["sid"]
    with open_db(store.db_path) as conn:
        never, before = (
            conn.execute(
                "SELECT id FROM members WHERE segment = 'S6' AND opted_out = 0 AND "
                f"{'NOT' if first else ''} EXISTS (SELECT 1 FROM orders AS o "
                "WHERE o.member_id = members.id AND o.amount > 0) ORDER BY id LIMIT 1"
            ).fetchone()[0]
            for first in (True, False)
        )
    with store.client("ingest") as client:
        for n, member in enumerate([never, never, before]):
            placed = client.post(
                f"/sessions/{sid}/orders", json=order(member, key=f"comeback-{n}-{member}")
            )
            assert placed.status_code == 201, placed.text
    board = state(store, sid)["shoutouts"]["active"]
    comebacks = [s["member_id"] for s in board if s["kind"] == "comeback"]
    assert comebacks == [before]


def test_an_opted_out_vip_is_not_announced_by_circle(shared_store: StoreProcess) -> None:
    with open_db(shared_store.db_path) as conn:
        quiet, loud = (
            conn.execute(
                "SELECT id FROM members WHERE segment = 'S1' AND opted_out = ? ORDER BY id",
                [flag],
            ).fetchone()[0]
            for flag in (1, 0)
        )
    sid = shared_store.new_session("不点名")
    post(shared_store, sid, [event("viewer_joined", quiet), event("viewer_joined", loud)])
    with shared_store.client("host") as client:
        log = client.get(f"/sessions/{sid}/events").json()["events"]
        board = client.get(f"/sessions/{sid}/state").json()["shoutouts"]["active"]
    assert [e["opted_out"] for e in log] == [True, False]
    said = {s["member_id"]: s["text"] for s in board if s["kind"] == "vip_arrival"}
    assert "钻石核心" not in said[quiet]
    assert "钻石核心" in said[loud]
