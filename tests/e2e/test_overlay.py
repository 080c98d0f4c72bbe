"""The stream overlay (直播贴片) in a real headless Chromium from Debian, open for a whole
scenario as a streaming program's browser source keeps it: at four moments its DOM is
compared with the store's state and a screenshot is taken (1920x1080, transparent)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtGui import QImage

from tests.chromium import Chromium, requires_chromium
from tests.helpers import MAIN_PY, StoreProcess, live_show, open_db, wait_for
from tests.store.test_orders import members_by_segment

pytestmark = [requires_chromium, pytest.mark.timeout(180)]

OUT = Path(os.environ.get("TEST_OUTPUT", "out")) / "overlay"
PRODUCT = "xzd-chicken"  # 即食鸡胸肉 10袋: ¥69.9 standard, ¥59.4 for S1 (the catalog file)

DOM = """JSON.stringify({
  seq: document.body.dataset.seq || null,
  text: document.body.innerText,
  product: !document.querySelector('#product').hidden,
  name: document.querySelector('#product .product-name').textContent,
  price: document.querySelector('#product .price').hidden
    ? null : document.querySelector('#product .amount').textContent,
  chain: !document.querySelector('#chain').hidden,
  entries: document.querySelector('#chain .entries').textContent,
  threshold: document.querySelector('#chain .threshold').textContent,
  formed: !document.querySelector('#formed').hidden,
  buyers: [...document.querySelectorAll('#buyers .who')].map((e) => e.textContent),
})"""


@pytest.fixture
def show(tmp_path: Path) -> Iterator[tuple[StoreProcess, str]]:
    store = StoreProcess(tmp_path / "store.db")
    store.start()
    try:
        yield store, live_show(store, "鲜直达《夏日轻食计划》贴片")
    finally:
        store.stop()


def page(browser: Chromium) -> dict[str, Any]:
    import json

    return dict(json.loads(browser.evaluate(DOM)))


def overlay_state(store: StoreProcess, sid: str) -> dict[str, Any]:
    token = store.token("overlay")
    answer = httpx.get(f"{store.url}/overlay/{sid}/state", params={"token": token}, timeout=10)
    answer.raise_for_status()
    return dict(answer.json())


def command(store: StoreProcess, sid: str, body: dict[str, Any]) -> dict[str, Any]:
    with store.client("assistant") as client:
        answer = client.post(f"/sessions/{sid}/commands", json=body)
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json())


def buy(store: StoreProcess, sid: str, member: str, chain: str) -> None:
    with store.client("ingest") as client:
        nearest = client.get("/pickup-points/nearest", params={"member_id": member})
        nearest.raise_for_status()
    body = {
        "member_id": member,
        "product_id": PRODUCT,
        "quantity": 1,
        "pickup_point": nearest.json()["id"],
        "chain_id": chain,
        "idempotency_key": f"overlay-{member}",
    }
    with store.client("ingest") as client:
        answer = client.post(f"/sessions/{sid}/orders", json=body)
        assert answer.status_code == 201, answer.text


def check_screenshot(path: Path) -> None:
    """1920x1080; transparent where the page has nothing; the panels drawn."""
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1920, 1080)
    assert image.hasAlphaChannel()
    assert image.pixelColor(960, 540).alpha() == 0  # the middle of the picture: the stream
    assert image.pixelColor(100, 1000).alpha() > 150  # the product panel, bottom left


def test_the_overlay_follows_a_show_with_public_figures_only(
    show: tuple[StoreProcess, str],
) -> None:
    store, sid = show
    s1 = members_by_segment(store)["S1"]
    browser = Chromium()
    try:
        browser.open(f"{store.url}/overlay/{sid}?token={store.token('overlay')}")

        # 1. A product on screen: its standard price, never the S1 price.
        command(
            store,
            sid,
            {"type": "present_product", "command_id": "cmd-overlay-1", "product_id": PRODUCT},
        )
        wait_for(lambda: page(browser)["price"] == "69.9", message=lambda: str(page(browser)))
        seen = page(browser)
        state = overlay_state(store, sid)
        assert seen["name"] == state["product"]["name"] == "即食鸡胸肉 10袋"
        assert state["product"]["price"] == 69.9
        assert not seen["chain"]
        assert "59.4" not in seen["text"]  # S1's private price
        check_screenshot(browser.screenshot(OUT / "1-product.png"))

        # 2. A 接龙 opens and takes one entry: 1 / 3, two to go.
        opened = command(
            store,
            sid,
            {
                "type": "open_chain",
                "command_id": "cmd-overlay-2",
                "product_id": PRODUCT,
                "threshold": 3,
                "cap": 10,
                "deadline_minutes": 30,
            },
        )
        buy(store, sid, s1[0], opened["chain_id"])
        wait_for(lambda: page(browser)["entries"] == "1", message=lambda: str(page(browser)))
        seen, state = page(browser), overlay_state(store, sid)
        assert (seen["entries"], seen["threshold"]) == ("1", "3")
        assert state["chain"]["entries"] == 1
        assert "还差 2 单成团" in seen["text"]
        assert not seen["formed"]
        check_screenshot(browser.screenshot(OUT / "2-chain-open.png"))

        # 3. Two more: 成团.
        for member in s1[1:3]:
            buy(store, sid, member, opened["chain_id"])
        wait_for(lambda: page(browser)["formed"], message=lambda: str(page(browser)))
        seen, state = page(browser), overlay_state(store, sid)
        assert state["chain"]["reached"]
        assert seen["entries"] == "3"
        with store.client("host") as client:
            room = client.get(f"/sessions/{sid}/state").json()
        assert room["chains"][opened["chain_id"]]["status"] == "formed"
        check_screenshot(browser.screenshot(OUT / "3-formed.png"))

        # 4. The newest buyers, by masked name only: as the store says, never in full.
        wait_for(lambda: len(page(browser)["buyers"]) == 3, message=lambda: str(page(browser)))
        seen = page(browser)
        assert seen["buyers"] == overlay_state(store, sid)["buyers"]
        with open_db(store.db_path) as db:
            names = [
                db.execute("SELECT name FROM members WHERE id = ?", [m]).fetchone()[0]
                for m in s1[:3]
            ]
        for name in names:
            assert name not in seen["text"]
        assert all("*" in shown for shown in seen["buyers"])
        check_screenshot(browser.screenshot(OUT / "4-buyers.png"))
    finally:
        browser.close()


def test_the_overlay_refuses_any_other_token(show: tuple[StoreProcess, str]) -> None:
    store, sid = show
    url = f"{store.url}/overlay/{sid}"
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, params={"token": "lc_not-a-token"}, timeout=10).status_code == 401
    for role in ("host", "assistant", "ingest", "operator"):
        assert httpx.get(url, params={"token": store.token(role)}, timeout=10).status_code == 403
    made = subprocess.run(  # the contract: main.py token create --role overlay
        [
            sys.executable,
            str(MAIN_PY),
            "token",
            "create",
            "--db",
            store.db_path,
            "--role",
            "overlay",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    page_answer = httpx.get(url, params={"token": made.stdout.strip()}, timeout=10)
    assert page_answer.status_code == 200
    assert page_answer.headers["content-type"].startswith("text/html")
    unknown = httpx.get(
        f"{store.url}/overlay/s_unknown", params={"token": store.token("overlay")}, timeout=10
    )
    assert unknown.status_code == 404
    # An overlay token reads the overlay and nothing else.
    with httpx.Client(base_url=store.url + "/api/v1", timeout=10) as client:
        headers = {"Authorization": f"Bearer {store.token('overlay')}"}
        for path in (f"/sessions/{sid}", f"/sessions/{sid}/state", f"/sessions/{sid}/events"):
            assert client.get(path, headers=headers).status_code == 403
