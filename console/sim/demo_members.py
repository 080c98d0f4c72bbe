"""The demo member base and its history, generated deterministically.

``resources/demo/members.csv``, ``orders.csv`` and ``social.csv`` are ordinary import files.
Each member has a latent *persona* (how they behave: S1..S6) and an *influencer* flag; their
orders and shares follow from it, and the store's segmentation then decides their circle
from that history, as it would for a real brand. Times are set around ``DEMO_AS_OF``; the
demo seeding shifts them so the history always ends today.

Regenerate with ``python -m console.sim.demo_members``; a test checks the shipped files
match, so the demo data is reproducible rather than hand-edited.
"""

from __future__ import annotations

import csv
import io
import math
import random
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from console.domain.pickup import PickupPoint
from console.domain.text import spreadsheet_safe
from console.resources import resource_path

DEMO_MEMBERS = "demo/members.csv"
DEMO_ORDERS = "demo/orders.csv"
DEMO_SOCIAL = "demo/social.csv"
DEMO_POINTS = "demo/pickup_points.csv"
DEMO_PRODUCTS = "demo/products.csv"
DEMO_AS_OF = date(2025, 6, 30)
COLUMNS = (
    "id",
    "name",
    "phone",
    "persona",
    "influencer",
    "opted_out",
    "tags",
    "city",
    "lat",
    "lon",
)
POINT_COLUMNS = ("point_id", "name", "leader", "lat", "lon", "address")
ORDER_COLUMNS = ("order_id", "member_id", "ts", "amount", "items", "channel")
SOCIAL_COLUMNS = ("member_id", "kind", "ts")
CHINA = timezone(timedelta(hours=8))
ITEMS = ("鲜牛奶", "冰酸奶", "鸡胸肉", "牛油果", "车厘子", "西瓜", "轻食能量包", "樱花杯套装")
CHANNELS = ("live", "miniapp", "community")
SEED = 20250618
COUNT = 2_000
LIGHT_MEAL_CIRCLE = "夏日轻食圈"
LIGHT_MEAL_SIZE = 120
LIGHT_MEAL_KOCS = 5

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
)
GIVEN = "静丽敏婷雪芳娟秀英华玲红梅琳颖倩萍洁燕晓欣悦薇佳怡嘉慧雅蕾彤瑶璐岚萱琪淑桂兰春霞凤伟强军磊"
CITY_CENTRES = {  # (lat, lon)
    "杭州": (30.2741, 120.1551),
    "上海": (31.2304, 121.4737),
    "苏州": (31.2989, 120.5853),
    "南京": (32.0603, 118.7969),
    "宁波": (29.8683, 121.5440),
    "成都": (30.5728, 104.0668),
    "武汉": (30.5928, 114.3055),
    "长沙": (28.2282, 112.9388),
}
CITIES = tuple(CITY_CENTRES)
POINTS_PER_CITY = 12
NEIGHBOURHOODS = (
    "东湖",
    "西溪",
    "南苑",
    "北塘",
    "锦绣",
    "翠苑",
    "金沙",
    "银湖",
    "和平",
    "幸福",
    "阳光",
    "春晖",
    "丽景",
    "嘉园",
    "云栖",
    "星河",
)
GEO_SEED = 3_1415
# Persona shares after seed 001: ~15% high value, ~25% growth, ~35% price-sensitive,
# ~20% dormant, ~5% influencers.
SEGMENT_WEIGHTS = {"S1": 5, "S2": 11, "S3": 22, "S4": 42, "S5": 5, "S6": 15}
INTEREST_TAGS = ("鸡胸肉", "牛油果", "减脂餐", "鲜奶", "水果", "冰饮", "母婴", "零食")


def generate(seed: int = SEED, count: int = COUNT) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    segments = list(SEGMENT_WEIGHTS)
    weights = list(SEGMENT_WEIGHTS.values())
    members: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        segment = rng.choices(segments, weights)[0]
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        members.append(
            {
                "id": f"m{number:05d}",
                "name": name,
                "phone": f"1{rng.choice('3579')}{rng.randrange(10**9):09d}",
                "persona": segment,
                "influencer": int(segment == "S5" or rng.random() < 0.03),
                "opted_out": int(rng.random() < 0.03),
                "tags": set(rng.sample(INTEREST_TAGS, k=rng.randrange(0, 3))),
                "city": rng.choice(CITIES),
            }
        )
    _tag_light_meal_circle(rng, members)
    geo = random.Random(GEO_SEED)  # its own stream: locations leave the rest unchanged
    for member in members:
        member["tags"] = ";".join(sorted(member["tags"]))
        member["lat"], member["lon"] = _near(geo, CITY_CENTRES[member["city"]], 0.08)
    return members


def _near(rng: random.Random, centre: tuple[float, float], spread: float) -> tuple[float, float]:
    """A point within about ``spread`` degrees (0.08: ~9 km) of ``centre``, 5 decimals."""
    return (
        round(centre[0] + rng.uniform(-spread, spread), 5),
        round(centre[1] + rng.uniform(-spread, spread), 5),
    )


def generate_points(seed: int = GEO_SEED) -> list[dict[str, Any]]:
    """Pickup points (自提点) across the demo cities, each run by a 团长."""
    rng = random.Random(seed + 1)
    points = []
    for city, centre in CITY_CENTRES.items():
        for n, place in enumerate(rng.sample(NEIGHBOURHOODS, POINTS_PER_CITY), start=1):
            leader = rng.choice(SURNAMES) + "团长"
            lat, lon = _near(rng, centre, 0.07)
            points.append(
                {
                    "point_id": f"pt-{CITIES.index(city) + 1}{n:02d}",
                    "name": f"{city}{place}小区自提点",
                    "leader": leader,
                    "lat": lat,
                    "lon": lon,
                    "address": f"{city}{place}小区{rng.randrange(1, 30)}栋门口",
                }
            )
    return points


def _tag_light_meal_circle(rng: random.Random, members: list[dict[str, Any]]) -> None:
    """Seed 003's CDP circle: buyers of chicken breast or avocado, 5 KOCs among them."""
    kocs = [m for m in members if m["influencer"]]
    others = [m for m in members if not m["influencer"]]
    chosen = rng.sample(kocs, LIGHT_MEAL_KOCS) + rng.sample(
        others, LIGHT_MEAL_SIZE - LIGHT_MEAL_KOCS
    )
    for member in chosen:
        member["tags"] |= {LIGHT_MEAL_CIRCLE, rng.choice(("鸡胸肉", "牛油果", "减脂餐"))}


# Per persona: orders a year (low, high), days since the last order (low, high), yuan per
# order (low, high), shares a year (low, high), converted invites a year (low, high).
HABITS: dict[
    str,
    tuple[tuple[int, int], tuple[int, int], tuple[float, float], tuple[int, int], tuple[int, int]],
] = {
    "S1": ((12, 24), (0, 14), (160.0, 460.0), (0, 4), (0, 1)),
    "S2": ((6, 12), (0, 30), (50.0, 160.0), (0, 2), (0, 0)),
    "S3": ((2, 5), (5, 90), (40.0, 140.0), (1, 5), (0, 1)),
    "S4": ((1, 3), (30, 320), (9.9, 49.0), (0, 1), (0, 0)),
    "S5": ((2, 6), (0, 60), (50.0, 150.0), (6, 24), (2, 8)),
    "S6": ((1, 1), (200, 360), (9.9, 69.0), (0, 0), (0, 0)),
}
NEVER_ORDERED_SHARE = 0.3  # of S6 personas: registered, never bought
RETURN_SHARE = 0.03


def _stamp(days_ago: float) -> str:
    moment = datetime(DEMO_AS_OF.year, DEMO_AS_OF.month, DEMO_AS_OF.day, 21, 0, tzinfo=CHINA)
    return (moment - timedelta(days=days_ago)).strftime("%Y-%m-%d %H:%M:%S")


def generate_activity(
    members: list[dict[str, Any]], seed: int = SEED
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Orders (returns as negative amounts) and social actions following each persona."""
    rng = random.Random(seed + 1)
    orders: list[dict[str, Any]] = []
    social: list[dict[str, Any]] = []
    for member in members:
        persona = member["persona"]
        per_year, last, spend, shares, invites = HABITS[persona]
        if persona == "S6" and rng.random() < NEVER_ORDERED_SHARE:
            count = 0
        else:
            count = rng.randint(*per_year)
        latest = rng.uniform(*last)
        for n in range(count):
            days_ago = latest if n == 0 else rng.uniform(latest, 364.0)
            order_id = f"D{len(orders) + 1:07d}"
            amount = round(rng.uniform(*spend), 1)
            row = {
                "order_id": order_id,
                "member_id": member["id"],
                "ts": _stamp(days_ago),
                "amount": amount,
                "items": rng.choice(ITEMS),
                "channel": rng.choice(CHANNELS),
            }
            orders.append(row)
            if days_ago > 3 and rng.random() < RETURN_SHARE:
                orders.append(
                    {
                        **row,
                        "order_id": f"{order_id}R",
                        "ts": _stamp(days_ago - 2),
                        "amount": -round(amount * rng.choice((0.5, 1.0)), 1),
                    }
                )
        share_count = rng.randint(*shares) + (rng.randint(6, 15) if member["influencer"] else 0)
        invite_count = rng.randint(*invites) + (rng.randint(1, 4) if member["influencer"] else 0)
        for kind, total in (("share", share_count), ("invite", invite_count)):
            for _ in range(total):
                social.append(
                    {"member_id": member["id"], "kind": kind, "ts": _stamp(rng.uniform(0, 364.0))}
                )
    orders.sort(key=lambda o: (o["ts"], o["order_id"]))
    social.sort(key=lambda a: (a["ts"], a["member_id"], a["kind"]))
    return orders, social


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def load_demo_members() -> list[dict[str, Any]]:
    """The shipped demo members with their persona (for the simulator's behaviour)."""
    with resource_path(DEMO_MEMBERS).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["influencer"] = int(row["influencer"])
        row["opted_out"] = int(row["opted_out"])
    return rows


def load_demo_points() -> list[PickupPoint]:
    """The shipped demo pickup points (the simulator's buyers pick the nearest)."""
    with resource_path(DEMO_POINTS).open(encoding="utf-8", newline="") as handle:
        return [
            PickupPoint(r["point_id"], r["name"], r["leader"], float(r["lat"]), float(r["lon"]))
            for r in csv.DictReader(handle)
        ]


def demo_shift_seconds(today: date) -> float:
    """How far to move the demo history so that it ends on ``today``."""
    return (today - DEMO_AS_OF).days * 86_400.0


# After a broadcast (seed 000's 余温沉淀): each circle's follow-up. S3 got growth task cards
# ("order now, unlock a 9折 coupon for the next session"), which seed 000 credits with S3's
# 42% 30-day repurchase; the others keep their habits.
FOLLOW_UP_LIFT = {"S1": 1.0, "S2": 1.0, "S3": 1.9, "S4": 1.0, "S5": 1.0, "S6": 1.0}
FOLLOW_UP_DAYS = 30


def follow_up_orders(
    buyers: list[tuple[str, str, float]], seed: int = SEED
) -> list[dict[str, Any]]:
    """The shop orders a session's buyers place in the 30 days after their first order, as
    the brand would import them later: ``buyers`` are (member id, persona, first order time).

    Each buyer's count is Poisson with their persona's habit (``HABITS``: mean orders a year,
    scaled to 30 days, times ``FOLLOW_UP_LIFT``), so the diamond core comes back most often
    (about 77%) and S3 about 42% as in seed 000; times are uniform in the 30 days, amounts in
    the persona's range. One random stream per member: a buyer's orders do not depend on who
    else bought."""
    rows: list[dict[str, Any]] = []
    for member, persona, first in buyers:
        rng = random.Random(f"{seed}:{member}:{first:.0f}")
        per_year, _last, spend, _shares, _invites = HABITS[persona]
        mean = (per_year[0] + per_year[1]) / 2 * FOLLOW_UP_DAYS / 365 * FOLLOW_UP_LIFT[persona]
        for n in range(_poisson(rng, mean)):
            when = first + rng.uniform(0.0, FOLLOW_UP_DAYS) * 86_400.0
            rows.append(
                {
                    "order_id": f"F{member}-{first:.0f}-{n + 1}",
                    "member_id": member,
                    "ts": datetime.fromtimestamp(when, CHINA).strftime("%Y-%m-%d %H:%M:%S"),
                    "amount": round(rng.uniform(*spend), 1),
                    "items": rng.choice(ITEMS),
                    "channel": rng.choice(("miniapp", "community")),
                }
            )
    rows.sort(key=lambda o: (o["ts"], o["order_id"]))
    return rows


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's count of uniform draws (small means only)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else resource_path(DEMO_MEMBERS).parent
    members = generate()
    orders, social = generate_activity(members)
    (folder / "members.csv").write_text(to_csv(members), encoding="utf-8")
    (folder / "orders.csv").write_text(to_csv(orders, ORDER_COLUMNS), encoding="utf-8")
    (folder / "social.csv").write_text(to_csv(social, SOCIAL_COLUMNS), encoding="utf-8")
    points = to_csv(generate_points(), POINT_COLUMNS)
    (folder / "pickup_points.csv").write_text(points, encoding="utf-8")
    print(
        f"wrote {len(members)} members, {len(orders)} orders, {len(social)} social actions"
        f" to {folder}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
