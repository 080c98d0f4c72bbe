"""The overlay's content (console.domain.overlay): public figures only."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.domain.overlay import MAX_BUYERS_SHOWN, overlay_view
from console.domain.privacy import mask_name

CARD = {"product_id": "p1", "name": "即食鸡胸肉", "emoji": "🍗", "price": 69.9}


def chain(status: str, entries: int, product: str = "p1", cid: str = "c1") -> dict[str, object]:
    return {
        "id": cid,
        "product_id": product,
        "threshold": 3,
        "cap": 10,
        "deadline": 1.0,
        "status": status,
        "entries": entries,
        "missing": max(0, 3 - entries),
    }


def test_the_presented_product_shows_its_standard_price_or_none() -> None:
    room = {"seq": 4, "presenting": "p1", "chains": {}}
    shown = overlay_view(room, [CARD], {"p1": "即食鸡胸肉"}, [])
    assert shown["product"] == {"id": "p1", "name": "即食鸡胸肉", "emoji": "🍗", "price": 69.9}
    # Its standard offer hidden (a circle's product only): the name, never a price.
    hidden = overlay_view(room, [], {"p1": "即食鸡胸肉"}, [])
    assert hidden["product"]["price"] is None
    assert overlay_view({"seq": 0, "chains": {}}, [CARD], {}, [])["product"] is None


def test_the_chain_on_screen_is_the_presented_products_else_the_newest() -> None:
    chains = {"c1": chain("open", 1), "c2": chain("formed", 3, "p2", "c2")}
    on_product = overlay_view({"seq": 9, "presenting": "p1", "chains": chains}, [], {}, [])
    assert on_product["chain"]["id"] == "c1"
    assert not on_product["chain"]["reached"]
    newest = overlay_view({"seq": 9, "presenting": "p3", "chains": chains}, [], {}, [])
    assert newest["chain"]["id"] == "c2"
    assert newest["chain"]["reached"]
    ended = {"c1": chain("closed", 3), "c2": chain("failed", 1)}
    assert overlay_view({"seq": 9, "chains": ended}, [], {}, [])["chain"] is None


@given(st.lists(st.text(min_size=1, max_size=12), max_size=8))
def test_buyers_are_masked_and_few(names: list[str]) -> None:
    shown = overlay_view({"seq": 1, "chains": {}}, [], {}, names)["buyers"]
    assert len(shown) <= MAX_BUYERS_SHOWN
    assert shown == [mask_name(n) for n in names[:MAX_BUYERS_SHOWN] if n.strip()]
    for name, masked in zip([n for n in names[:MAX_BUYERS_SHOWN] if n.strip()], shown, strict=True):
        if len(name.strip()) >= 3 and "*" not in name:
            assert masked != name  # never the full name
