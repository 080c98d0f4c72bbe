"""The demo member base (resources/demo/members.csv), generated deterministically.

Regenerate with ``python -m console.sim.demo_members``; a test checks the shipped file
matches, so the demo data is reproducible rather than hand-edited.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from pathlib import Path
from typing import Any

from console.resources import resource_path

DEMO_MEMBERS = "demo/members.csv"
COLUMNS = ("id", "name", "phone", "segment", "koc", "opted_out", "tags", "city")
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
CITIES = ("杭州", "上海", "苏州", "南京", "宁波", "成都", "武汉", "长沙")
SEGMENT_WEIGHTS = {"S1": 5, "S2": 15, "S3": 20, "S4": 25, "S5": 5, "S6": 30}
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
                "segment": segment,
                "koc": int(segment == "S5" or rng.random() < 0.03),
                "opted_out": int(rng.random() < 0.03),
                "tags": set(rng.sample(INTEREST_TAGS, k=rng.randrange(0, 3))),
                "city": rng.choice(CITIES),
            }
        )
    _tag_light_meal_circle(rng, members)
    for member in members:
        member["tags"] = ";".join(sorted(member["tags"]))
    return members


def _tag_light_meal_circle(rng: random.Random, members: list[dict[str, Any]]) -> None:
    """Seed 003's CDP circle: buyers of chicken breast or avocado, 5 KOCs among them."""
    kocs = [m for m in members if m["koc"]]
    others = [m for m in members if not m["koc"]]
    chosen = rng.sample(kocs, LIGHT_MEAL_KOCS) + rng.sample(
        others, LIGHT_MEAL_SIZE - LIGHT_MEAL_KOCS
    )
    for member in chosen:
        member["tags"] |= {LIGHT_MEAL_CIRCLE, rng.choice(("鸡胸肉", "牛油果", "减脂餐"))}


def to_csv(members: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(members)
    return out.getvalue()


def load_demo_members() -> list[dict[str, Any]]:
    """The shipped demo members, typed as the store's members table wants them."""
    with resource_path(DEMO_MEMBERS).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["koc"] = int(row["koc"])
        row["opted_out"] = int(row["opted_out"])
    return rows


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else resource_path(DEMO_MEMBERS)
    target.write_text(to_csv(generate()), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
