"""Hostile text on the host's screen: 5 KB of emoji, bidi overrides, control characters.

Names, comments, notices and product names all come from outside (imports, the platform, the
floor assistant). The API bounds what it takes (a comment is at most 500 characters), but a
member's name comes from the brand's own export and may be anything: here 5 KB of emoji.
Whatever they hold, the host view shows them on one line each, without control or bidi
characters, elided, and the window keeps its size and layout.
"""

from __future__ import annotations

import sqlite3
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from console.domain.privacy import mask_name
from console.sync.follower import LinkStatus
from console.ui.app import save_screenshot
from tests.helpers import StoreProcess
from tests.ui.test_live_window import Console, open_console

__all__ = ["open_console"]

EMOJI_5KB = "🥛" * 1_300  # 4 bytes each
TROJAN = "\u202e\u2066抢购\u2069\x1b[31m\x07"
SAFE_LIMIT = 400


def unsafe(text: str) -> list[str]:
    return [
        c
        for c in text
        if unicodedata.category(c) in ("Cc", "Cf") and c != "\u200d"  # ZWJ joins emoji
    ]


def visible_texts(root: QWidget) -> list[str]:
    texts = [label.text() for label in root.findChildren(QLabel) if label.isVisible()]
    for view in root.findChildren(QAbstractItemView):
        model: QAbstractItemModel | None = view.model()
        if model is None or not view.isVisible():
            continue
        for row in range(model.rowCount()):
            value = model.data(model.index(row, 0), Qt.ItemDataRole.DisplayRole)
            if isinstance(value, str):
                texts.append(value)
    return texts


def settle() -> None:
    """Handle now what the last redraw posted (layout requests, paints): the window is
    redrawn as soon as the events are folded, so no guessed wait is needed after that."""
    QApplication.sendPostedEvents()
    QApplication.processEvents()


def test_hostile_text_is_shown_safely_and_never_breaks_the_layout(
    store: StoreProcess,
    open_console: Callable[..., Console],
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    sid = store.new_session((TROJAN + "夏日" + EMOJI_5KB)[:120])
    hostile_name = TROJAN + EMOJI_5KB
    with sqlite3.connect(store.db_path) as conn:
        vip = conn.execute("SELECT id FROM members WHERE segment = 'S1' LIMIT 1").fetchone()[0]
        product = conn.execute("SELECT id FROM products LIMIT 1").fetchone()[0]
        conn.execute(
            "UPDATE members SET name = ?, nick = ? WHERE id = ?",
            [hostile_name, mask_name(hostile_name), vip],
        )
    with store.client() as http:
        http.put(
            "/products",
            json={
                "products": [
                    {
                        "id": product,
                        "name": (TROJAN + "🥛鲜奶" * 30)[:100],
                        "base_price": 9.9,
                        "stock": 50,
                    }
                ]
            },
        ).raise_for_status()
        http.put(
            f"/sessions/{sid}/catalog",
            json={"lineup": [product], "offers": [{"product_id": product, "price": 9.9}]},
        ).raise_for_status()
    host = open_console(store, role="host")
    host.follow(sid)
    qtbot.waitUntil(lambda: host.live.link is LinkStatus.LIVE, timeout=10_000)
    window = host.window
    size = window.size()
    now = time.time()
    events = [
        {"id": "h1", "type": "viewer_joined", "ts": now, "member_id": vip},
        {
            "id": "h2",
            "type": "comment",
            "ts": now + 1,
            "member_id": vip,
            "data": {"text": (TROJAN + EMOJI_5KB)[:480] + "能便宜点吗？"},
        },
        {
            "id": "h3",
            "type": "viewer_joined",
            "ts": now + 2,
            "member_id": "guest-1",
            "data": {"nick": (TROJAN + "A" * 3_000)[:64]},
        },
        {
            "id": "h4",
            "type": "comment",
            "ts": now + 3,
            "member_id": "guest-1",
            "data": {"text": "\x01\x1b]0;pwned\x07" + "长" * 480},
        },
    ]
    with store.client("ingest") as http:
        http.post(f"/sessions/{sid}/events", json={"events": events}).raise_for_status()
    with store.client("assistant") as http:
        for body in (
            {
                "type": "post_notice",
                "command_id": "hostile-notice",
                "text": (TROJAN + "公告" * 80)[:120],
            },
            {"type": "present_product", "command_id": "hostile-present", "product_id": product},
        ):
            http.post(f"/sessions/{sid}/commands", json=body).raise_for_status()
    qtbot.waitUntil(lambda: host.live.state.seq == 6, timeout=10_000)
    qtbot.waitUntil(lambda: len(window.shoutout_model.rows()) >= 2, timeout=10_000)
    qtbot.waitUntil(
        lambda: window.notice_label.isVisible() and any("🥛" in t for t in visible_texts(window)),
        timeout=10_000,
    )
    settle()

    assert window.size() == size
    hint = window.minimumSizeHint()
    assert hint.width() <= size.width()
    assert hint.height() <= size.height()
    texts = visible_texts(window)
    assert any("🥛" in t for t in texts)  # the emoji are shown, just not 5 KB of them
    for text in texts:
        assert not unsafe(text), repr(text[:80])
        assert len(text) <= SAFE_LIMIT, repr(text[:80])
    assert not unsafe(window.windowTitle())
    shot = tmp_path / "hostile.png"
    assert save_screenshot(window, shot)
    assert shot.stat().st_size > 10_000
