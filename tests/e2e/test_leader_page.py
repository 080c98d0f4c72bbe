"""The 团长's page in a real headless Chromium from Debian at phone size (390x844): it shows
only its point's orders, new neighbours, tasks and 接龙; check-off, task done and the phone
reveal work by tapping (DevTools mouse events); the layout fits 390 px (no horizontal
scroll, no overlapping buttons); a screenshot for the README (docs/leader.png)."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chromium import Chromium, requires_chromium
from tests.helpers import ROOT, StoreProcess, live_show, open_db, wait_for
from tests.store.test_leader_page import Show, end_and_make_tasks, open_leader_show
from tests.store.test_orders import members_by_segment

pytestmark = [requires_chromium, pytest.mark.timeout(240)]

WIDTH, HEIGHT = 390, 844
OUT = Path(os.environ.get("TEST_OUTPUT", "out")) / "leader"
README_SHOT = ROOT / "docs" / "leader.png"

DOM = """JSON.stringify({
  loaded: document.body.dataset.loaded || null,
  text: document.body.innerText,
  orders: [...document.querySelectorAll('#orders li[data-order]')].map((e) => ({
    id: e.dataset.order, done: e.classList.contains('done')})),
  neighbours: [...document.querySelectorAll('#neighbours li[data-member]')].map((e) => ({
    id: e.dataset.member, phone: e.querySelector('.line1').dataset.phone,
    text: e.querySelector('.line1').textContent})),
  tasks: [...document.querySelectorAll('#tasks li[data-task]')].map((e) => ({
    id: e.dataset.task, done: e.classList.contains('done')})),
  chains: [...document.querySelectorAll('#chains .chain')].map((e) => e.innerText),
  summary: document.querySelector('#pickup-summary').textContent,
  scrollWidth: document.documentElement.scrollWidth,
})"""

BUTTONS = """JSON.stringify([...document.querySelectorAll('button')].map((b) => {
  const r = b.getBoundingClientRect();
  return {left: r.left, top: r.top + window.scrollY, right: r.right,
          bottom: r.bottom + window.scrollY, text: b.textContent};
}))"""


LONG_TITLE = """(() => {
  const line = document.querySelector('#tasks li[data-task] .line1');
  const title = line.querySelector('.title');
  title.textContent = '回访：问问上次买的樱桃和鸡胸肉是否新鲜，顺便提醒周六的团购接龙';
  const t = title.getBoundingClientRect(), g = line.querySelector('.tag').getBoundingClientRect();
  const lineHeight = parseFloat(getComputedStyle(title).lineHeight) || 20;
  return JSON.stringify({title_top: t.top, tag_top: g.top, tag_right: g.right,
    row_right: line.closest('li').getBoundingClientRect().right,
    title_lines: Math.round(t.height / lineHeight)});
})()"""


def page(browser: Chromium) -> dict[str, Any]:
    return dict(json.loads(browser.evaluate(DOM)))


def tap(browser: Chromium, selector: str) -> None:
    """A finger on the element: scrolled into view, then pressed and released at its middle."""
    where = browser.evaluate(
        f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
        if (!e) return null; e.scrollIntoView({{block: 'center'}});
        const r = e.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2]; }})()"""
    )
    assert where is not None, f"nothing to tap at {selector}"
    x, y = where
    for kind in ("mousePressed", "mouseReleased"):
        browser.call(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
        )


def overlapping(boxes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    found = []
    for n, a in enumerate(boxes):
        for b in boxes[n + 1 :]:
            if (
                a["left"] < b["right"] - 0.5
                and b["left"] < a["right"] - 0.5
                and a["top"] < b["bottom"] - 0.5
                and b["top"] < a["bottom"] - 0.5
            ):
                found.append((a["text"], b["text"]))
    return found


def full_page(browser: Chromium, path: Path) -> Path:
    height = int(browser.evaluate("document.documentElement.scrollHeight"))
    browser.evaluate("window.scrollTo(0, 0)")
    data = browser.call(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1},
        },
    )["data"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(data))
    return path


@pytest.fixture
def shows(tmp_path: Path) -> Iterator[tuple[Show, str, str]]:
    """Yesterday's show ended with tasks made; tonight's live with a 接龙 at point A."""
    store = StoreProcess(tmp_path / "store.db")
    store.start()
    try:
        show = open_leader_show(store)
        made = end_and_make_tasks(show)
        assert made.returncode == 0, made.stderr
        tonight = live_show(store, "鲜直达 今晚接龙")
        with store.client("assistant") as client:
            opened = client.post(
                f"/sessions/{tonight}/commands",
                json={
                    "type": "open_chain",
                    "command_id": "leader-chain-1",
                    "product_id": "xzd-chicken",
                    "threshold": 3,
                    "cap": 20,
                    "deadline_minutes": 30,
                },
            )
            assert opened.status_code in (200, 201), opened.text
        yield show, tonight, str(opened.json()["chain_id"])
    finally:
        store.stop()


def chain_order(store: StoreProcess, sid: str, member: str, chain: str, point: str) -> str:
    body = {
        "member_id": member,
        "product_id": "xzd-chicken",
        "quantity": 1,
        "pickup_point": point,
        "chain_id": chain,
        "idempotency_key": f"leader-chain-{member}",
    }
    with httpx.Client(
        base_url=store.url + "/api/v1",
        headers={"Authorization": f"Bearer {store.token('ingest')}"},
        timeout=10,
    ) as client:
        answer = client.post(f"/sessions/{sid}/orders", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["order_id"])


def test_the_leader_page_on_a_phone(shows: tuple[Show, str, str]) -> None:
    show, tonight, chain = shows
    store = show.store
    s1 = members_by_segment(store)["S1"]
    tonight_a = chain_order(store, tonight, s1[0], chain, show.point_a)
    chain_order(store, tonight, s1[1], chain, show.point_b)
    browser = Chromium(WIDTH, HEIGHT)
    try:
        browser.open(f"{store.url}/leader?token={show.token_a}")
        wait_for(lambda: page(browser)["loaded"], message=lambda: str(page(browser)))
        seen = page(browser)
        # Only point A: today's orders there (both shows ran today), its new neighbour, its
        # tasks; nothing of B.
        mine = {show.orders["new_a"], show.orders["s2_a"], tonight_a}
        assert {o["id"] for o in seen["orders"]} == mine
        assert [n["id"] for n in seen["neighbours"]] == [show.members["new_a"]]
        assert seen["neighbours"][0]["phone"] == "masked"
        with open_db(store.db_path) as conn:
            phone = conn.execute(
                "SELECT phone FROM members WHERE id = ?", [show.members["new_a"]]
            ).fetchone()[0]
            tasks_at = {
                point: {
                    r[0]
                    for r in conn.execute(
                        "SELECT id FROM followup_tasks WHERE point_id = ?", [point]
                    )
                }
                for point in (show.point_a, show.point_b)
            }
        assert phone not in seen["text"]
        # A's tasks (the newcomer's welcome: a first order ever is no waking), none of B's.
        assert {t["id"] for t in seen["tasks"]} == tasks_at[show.point_a]
        assert len(tasks_at[show.point_a]) == 1
        assert not {t["id"] for t in seen["tasks"]} & tasks_at[show.point_b]
        assert show.orders["new_b"] not in json.dumps(seen)
        assert "1 / 3" not in seen["chains"][0]  # two entries: one here, one at B
        assert "2 / 3" in seen["chains"][0]
        assert "还差 1 单成团" in seen["chains"][0]
        assert "本自提点 1 单" in seen["chains"][0]

        # The 接龙 follows the show: a third entry forms it, the page says so.
        chain_order(store, tonight, s1[2], chain, show.point_a)
        wait_for(lambda: "3 / 3" in page(browser)["chains"][0], message=lambda: str(page(browser)))
        assert "已成团" in page(browser)["chains"][0]

        # Layout at 390 px: no horizontal scroll, no buttons on top of one another.
        seen = page(browser)
        assert seen["scrollWidth"] <= WIDTH
        boxes = json.loads(browser.evaluate(BUTTONS))
        assert boxes
        assert all(b["right"] <= WIDTH and b["left"] >= 0 for b in boxes)
        assert overlapping(boxes) == []
        # The 接龙 heading says 直播中 while one takes entries (it said so always).
        assert browser.evaluate("document.querySelector('#chain-state').textContent") == "直播中"
        # A long task title wraps beside its state tag: the tag stays on the title's first
        # line, inside the row (it used to drop onto a line of its own).
        placed = json.loads(browser.evaluate(LONG_TITLE))
        assert abs(placed["tag_top"] - placed["title_top"]) <= 4, placed
        assert placed["tag_right"] <= placed["row_right"], placed
        assert placed["title_lines"] >= 2, placed
        browser.screenshot(OUT / "1-loaded.png")

        # Tap 提货: the order is checked off, in the store too.
        order = show.orders["new_a"]
        tap(browser, f'#orders li[data-order="{order}"] button')
        wait_for(
            lambda: any(o["id"] == order and o["done"] for o in page(browser)["orders"]),
            message=lambda: str(page(browser)["orders"]),
        )
        with open_db(store.db_path) as conn:
            assert conn.execute(
                "SELECT point_id FROM pickups WHERE order_id = ?", [order]
            ).fetchone() == (show.point_a,)
        assert "已提1" in page(browser)["summary"]

        # Tap 完成 on a task.
        task = page(browser)["tasks"][0]["id"]
        tap(browser, f'#tasks li[data-task="{task}"] button')
        wait_for(
            lambda: any(t["id"] == task and t["done"] for t in page(browser)["tasks"]),
            message=lambda: str(page(browser)["tasks"]),
        )
        with open_db(store.db_path) as conn:
            assert conn.execute(
                "SELECT done_at IS NOT NULL FROM followup_tasks WHERE id = ?", [task]
            ).fetchone()[0]

        full_page(browser, README_SHOT)  # for the README: the number still masked

        # Tap 复制: that neighbour's number shows, and the reveal is in the audit log.
        member = show.members["new_a"]
        tap(browser, f'#neighbours li[data-member="{member}"] button.light')
        wait_for(
            lambda: page(browser)["neighbours"][0]["phone"] == "shown",
            message=lambda: str(page(browser)["neighbours"]),
        )
        assert phone in page(browser)["neighbours"][0]["text"]
        with open_db(store.db_path) as conn:
            assert (
                conn.execute(
                    "SELECT count(*) FROM audit_log WHERE member_id = ? "
                    "AND action = 'reveal_phone'",
                    [member],
                ).fetchone()[0]
                == 1
            )
        assert page(browser)["scrollWidth"] <= WIDTH
        full_page(browser, OUT / "2-after-taps.png")
    finally:
        browser.close()
