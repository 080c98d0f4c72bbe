"""Products, a session's lineup with its tiered offers, and pickup points, in the store."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
import sqlite_utils

from console.domain.catalog import (
    Card,
    Offer,
    Product,
    cards_for,
    price_ladder,
    script_card,
)
from console.domain.decisions import RefusalKind, Refused
from console.domain.pickup import PickupIndex, PickupPoint
from console.domain.segments import Segment, parse_segment
from console.store.dialect import contains, json_is_true, json_values
from console.store.repository import NotFound
from console.store.schema import transaction

TAGS = "';' || tags || ';'"  # a member's tags, ';'-separated
TAG = "';' || ? || ';'"

Offers = dict[str, dict[Segment | None, Offer]]


def upsert_products(db: sqlite_utils.Database, products: Sequence[Mapping[str, Any]]) -> int:
    now = time.time()
    with transaction(db) as conn:
        conn.executemany(
            "INSERT INTO products (id, name, base_price, stock, emoji, category, updated_at) "
            "VALUES (:id, :name, :base_price, :stock, :emoji, :category, :now) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
            "base_price = excluded.base_price, stock = excluded.stock, "
            "emoji = excluded.emoji, category = excluded.category, "
            "updated_at = excluded.updated_at",
            [{"emoji": "", "category": "", **p, "now": now} for p in products],
        )
    return len(products)


def set_session_catalog(
    db: sqlite_utils.Database,
    sid: str,
    lineup: Sequence[str],
    offers: Sequence[Mapping[str, Any]],
    audience: Mapping[str, Any] | None = None,
    scripts: Sequence[Mapping[str, Any]] = (),
    prompts: Mapping[str, float] | None = None,
) -> dict[str, Any] | None:
    """Replace a session's lineup (in order), its offers and 话术, its prompts' thresholds
    (``prompts``: what the catalog set, ``turn_norms.SETTABLE`` names; None: the brand's
    norms), and its audience when given.

    All in one transaction: every product must exist, every listed member too, or nothing
    changes. Returns the audience summary when one was set.
    """
    with transaction(db) as conn:
        if conn.execute("SELECT 1 FROM sessions WHERE id = ?", [sid]).fetchone() is None:
            raise NotFound(f"没有这场直播：{sid!r}")
        _replace_catalog(conn, sid, lineup, offers)
        _replace_scripts(conn, sid, lineup, scripts)
        conn.execute(
            "UPDATE sessions SET prompt_settings = ? WHERE id = ?",
            [orjson.dumps(dict(prompts)).decode() if prompts else None, sid],
        )
        if audience is None:
            return None
        return _replace_audience(conn, sid, audience, "audience.members")


def set_session_audience(
    db: sqlite_utils.Database, sid: str, audience: Mapping[str, Any]
) -> dict[str, Any]:
    with transaction(db) as conn:
        if conn.execute("SELECT 1 FROM sessions WHERE id = ?", [sid]).fetchone() is None:
            raise NotFound(f"没有这场直播：{sid!r}")
        return _replace_audience(conn, sid, audience)


def _replace_catalog(
    conn: sqlite3.Connection,
    sid: str,
    lineup: Sequence[str],
    offers: Sequence[Mapping[str, Any]],
) -> None:
    wanted = set(lineup) | {o["product_id"] for o in offers}
    known = {r[0] for r in conn.execute("SELECT id FROM products")}
    if missing := sorted(wanted - known):
        raise Refused(
            RefusalKind.NOT_FOUND,
            "product_id",
            f"商品库里没有这些商品：{', '.join(missing)}",
        )
    if stray := sorted({o["product_id"] for o in offers} - set(lineup)):
        raise Refused(
            RefusalKind.INVALID,
            "offers",
            f"这些商品不在本场排品里，不能设置权益：{', '.join(stray)}",
        )
    conn.execute("DELETE FROM session_offers WHERE session_id = ?", [sid])
    conn.execute("DELETE FROM session_products WHERE session_id = ?", [sid])
    conn.executemany(
        "INSERT INTO session_products (session_id, product_id, position) VALUES (?, ?, ?)",
        [(sid, product, position) for position, product in enumerate(lineup)],
    )
    conn.executemany(
        "INSERT INTO session_offers (session_id, product_id, segment, price, perk, "
        "member_limit, visible) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                sid,
                o["product_id"],
                o.get("segment") or "",
                o["price"],
                o.get("perk", ""),
                o.get("limit", 0),
                int(o.get("visible", True)),
            )
            for o in offers
        ],
    )


def _replace_scripts(
    conn: sqlite3.Connection,
    sid: str,
    lineup: Sequence[str],
    scripts: Sequence[Mapping[str, Any]],
) -> None:
    """The lineup's 话术, replaced with it (a product not in the lineup has none)."""
    if stray := sorted({s["product_id"] for s in scripts} - set(lineup)):
        raise Refused(
            RefusalKind.INVALID,
            "scripts",
            f"这些商品不在本场排品里，不能设置话术：{', '.join(stray)}",
        )
    conn.execute("DELETE FROM session_scripts WHERE session_id = ?", [sid])
    conn.executemany(
        "INSERT INTO session_scripts (session_id, product_id, segment, lines) VALUES (?, ?, ?, ?)",
        [
            (
                sid,
                s["product_id"],
                _segment_text(s.get("segment")),
                orjson.dumps([str(line) for line in s["lines"]]).decode(),
            )
            for s in scripts
        ],
    )


def _segment_text(segment: object) -> str:
    if isinstance(segment, Segment):
        return segment.value
    return str(segment or "")


def session_scripts(db: Any, sid: str) -> dict[str, dict[Segment | None, list[str]]]:
    """Each product's 话术 in the session, by circle (None: the general lines)."""
    scripts: dict[str, dict[Segment | None, list[str]]] = {}
    for product, segment, lines in db.execute(
        "SELECT product_id, segment, lines FROM session_scripts WHERE session_id = ?", [sid]
    ):
        scripts.setdefault(product, {})[parse_segment(segment)] = list(orjson.loads(lines))
    return scripts


def _replace_audience(
    conn: sqlite3.Connection, sid: str, audience: Mapping[str, Any], field: str = "members"
) -> dict[str, Any]:
    """The session's audience (受众): circles, a tag's members, and/or a member list.

    Members are recorded with their circle at this moment ("reached", for the replay's
    funnel). Unknown member ids refuse the whole change.
    """
    segments = [str(s) for s in audience.get("segments") or []]
    tag = str(audience.get("tag") or "")
    listed = [str(m) for m in audience.get("members") or []]
    listed_json = orjson.dumps(listed).decode()
    unknown = [
        r[0]
        for r in conn.execute(
            f"SELECT value FROM {json_values(conn)} AS listed "
            "WHERE value NOT IN (SELECT id FROM members)",
            [listed_json],
        )
    ]
    if unknown:
        more = f" 等 {len(unknown)} 位" if len(unknown) > 5 else ""
        raise Refused(RefusalKind.NOT_FOUND, field, f"没有这些会员：{', '.join(unknown[:5])}{more}")
    conn.execute("DELETE FROM session_audience WHERE session_id = ?", [sid])
    conn.execute(
        "INSERT INTO session_audience (session_id, member_id, segment) "
        f"SELECT ?, id, segment FROM members WHERE segment IN {json_values(conn)} "
        f"OR (? != '' AND {contains(conn, TAGS, TAG)}) "
        f"OR id IN {json_values(conn)}",
        [sid, orjson.dumps(segments).decode(), tag, tag, listed_json],
    )
    by_segment = dict(
        conn.execute(
            "SELECT segment, count(*) FROM session_audience WHERE session_id = ? GROUP BY segment",
            [sid],
        ).fetchall()
    )
    summary = {
        "segments": segments,
        "tag": tag,
        "members": len(listed),
        "reached": sum(by_segment.values()),
        "reached_by_segment": {s.value: by_segment.get(s.value, 0) for s in Segment},
    }
    conn.execute(
        "UPDATE sessions SET audience = ? WHERE id = ?", [orjson.dumps(summary).decode(), sid]
    )
    return summary


def session_catalog(db: Any, sid: str) -> tuple[list[Product], Offers]:
    """The session's lineup in order, and each product's offers by circle."""
    lineup = [
        Product(r[0], r[1], r[2], r[3], r[4])
        for r in db.execute(
            "SELECT p.id, p.name, p.base_price, p.emoji, p.category FROM session_products AS s "
            "JOIN products AS p ON p.id = s.product_id WHERE s.session_id = ? ORDER BY s.position",
            [sid],
        )
    ]
    offers: Offers = {}
    for offer in _offers(db, "WHERE session_id = ?", [sid]):
        offers.setdefault(offer.product_id, {})[offer.segment] = offer
    return lineup, offers


_OFFERS = "SELECT product_id, segment, price, perk, member_limit, visible FROM session_offers "
PRODUCT_OFFERS = _OFFERS + "WHERE session_id = ? AND product_id = ?"


def product_offers(db: Any, sid: str, product_id: str) -> dict[Segment | None, Offer]:
    """One product's terms in the session, by circle (None: the standard offer)."""
    rows = db.execute(PRODUCT_OFFERS, [sid, product_id])
    return {offer.segment: offer for offer in _offer_rows(rows)}


def _offers(db: Any, where: str, params: list[str]) -> list[Offer]:
    return _offer_rows(db.execute(_OFFERS + where, params))


def _offer_rows(rows: Iterable[Sequence[Any]]) -> list[Offer]:
    return [
        Offer(product, parse_segment(segment), price, perk, limit, bool(visible))
        for product, segment, price, perk, limit, visible in rows
    ]


def member_profile(db: Any, member_id: str | None) -> tuple[Segment | None, bool]:
    """A viewer's circle and opt-out; unknown viewers are (None, False): the standard offer."""
    if member_id is None:
        return None, False
    row = db.execute("SELECT segment, opted_out FROM members WHERE id = ?", [member_id]).fetchone()
    return (None, False) if row is None else (parse_segment(row[0]), bool(row[1]))


def member_cards(db: sqlite_utils.Database, sid: str, member_id: str | None) -> list[Card]:
    lineup, offers = session_catalog(db, sid)
    segment, opted_out = member_profile(db, member_id)
    return cards_for(lineup, offers, segment, opted_out)


def session_cards(db: sqlite_utils.Database, sid: str) -> list[dict[str, Any]]:
    """Every product of the lineup with its price ladder and stock, for the consoles."""
    lineup, offers = session_catalog(db, sid)
    scripts = session_scripts(db, sid)
    stock = dict(db.execute("SELECT id, stock FROM products").fetchall())
    return [
        {
            "product_id": p.id,
            "name": p.name,
            "emoji": p.emoji,
            "base_price": p.base_price / 100,
            "stock": stock.get(p.id, 0),
            "ladder": price_ladder(p, offers.get(p.id, {})),
            "script": script_card(scripts.get(p.id, {})),
        }
        for p in lineup
    ]


def upsert_pickup_points(db: sqlite_utils.Database, points: Sequence[Mapping[str, Any]]) -> int:
    with transaction(db) as conn:
        conn.executemany(
            "INSERT INTO pickup_points (id, name, leader, lat, lon, address) "
            "VALUES (:id, :name, :leader, :lat, :lon, :address) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, leader = excluded.leader, "
            "lat = excluded.lat, lon = excluded.lon, address = excluded.address",
            [{"leader": "", "address": "", **p} for p in points],
        )
    return len(points)


def list_points(db: Any) -> list[dict[str, Any]]:
    return [
        {"id": r[0], "name": r[1], "leader": r[2]}
        for r in db.execute("SELECT id, name, leader FROM pickup_points ORDER BY id")
    ]


def pickup_index(db: Any) -> PickupIndex | None:
    points = [
        PickupPoint(*row)
        for row in db.execute("SELECT id, name, leader, lat, lon FROM pickup_points ORDER BY id")
    ]
    return PickupIndex(points) if points else None


def assign_points(
    db: Any, lat: Sequence[float], lon: Sequence[float]
) -> list[dict[str, Any]] | None:
    """The nearest point for each location (id and km), or None without points."""
    index = pickup_index(db)
    if index is None:
        return None
    chosen, km = index.assign(lat, lon)
    ids = [p.id for p in index.points]
    return [
        {"point_id": ids[i], "km": round(d, 3)}
        for i, d in zip(chosen.tolist(), km.tolist(), strict=True)
    ]


class NoLocation(LookupError):
    """The member exists but has no location (lat, lon) to find a point near."""


class NoPoints(LookupError):
    """No pickup point has been imported yet."""


def nearest_point_for(db: Any, member_id: str) -> dict[str, Any] | None:
    """The pickup point nearest the member's location, if both are known."""
    try:
        return nearest_point_of_member(db, member_id)
    except (NotFound, NoLocation, NoPoints):
        return None


def nearest_point_of_member(db: Any, member_id: str) -> dict[str, Any]:
    """The pickup point nearest the member's location; NotFound for an unknown member,
    NoLocation for one without a location, NoPoints before any point is imported."""
    row = db.execute("SELECT lat, lon FROM members WHERE id = ?", [member_id]).fetchone()
    if row is None:
        raise NotFound(f"没有这位会员：{member_id!r}")
    if row[0] is None or row[1] is None:
        raise NoLocation(
            f"该会员没有位置：会员 {member_id!r} 没有 lat、lon（请导入带位置的会员文件）"
        )
    index = pickup_index(db)
    if index is None:
        raise NoPoints("尚未导入自提点")
    point, km = index.nearest(row[0], row[1])
    return {"id": point.id, "name": point.name, "leader": point.leader, "km": round(km, 3)}


def new_neighbours(db: Any, sid: str, reveal: bool = False) -> list[dict[str, Any]]:
    """Each 团长's new neighbours from this session: first-time buyers who chose their point.

    Read from the event log (``order_placed`` with ``new_customer``), so it always agrees
    with the room's figures. Names are masked unless ``reveal`` (operator views).
    """
    rows = db.execute(
        f"""
        SELECT e.data ->> 'pickup_point' AS point, p.name, p.leader,
               e.member_id, m.nick, m.name, m.phone, e.data ->> 'product_id', e.ts
        FROM events AS e
        LEFT JOIN members AS m ON m.id = e.member_id
        LEFT JOIN pickup_points AS p ON p.id = e.data ->> 'pickup_point'
        WHERE e.session_id = ? AND e.type = 'order_placed'
          AND {json_is_true(db, "e.data", "new_customer")}
          AND NOT EXISTS (
              SELECT 1 FROM events AS c WHERE c.session_id = e.session_id
              AND c.type = 'order_cancelled'
              AND c.data ->> 'order_id' = e.data ->> 'order_id')
        ORDER BY point, e.seq
        """,
        [sid],
    ).fetchall()
    points: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str]] = set()
    for point, name, leader, member, nick, full_name, phone, product, ts in rows:
        if (point, member) in seen:
            continue
        seen.add((point, member))
        entry = points.setdefault(
            point,
            {"pickup_point": point, "name": name or "", "leader": leader or "", "neighbours": []},
        )
        neighbour = {"member_id": member, "nick": nick or "", "product_id": product, "ts": ts}
        if reveal:
            neighbour.update({"name": full_name or "", "phone": phone or ""})
        entry["neighbours"].append(neighbour)
    return list(points.values())
