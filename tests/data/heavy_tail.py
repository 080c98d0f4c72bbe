"""A heavy-tailed customer base like real shops' exports (tracker issue 15), deterministic by
seed: almost everyone has one order, spend is lognormal, a cohort has been dormant for years,
some orders are cancelled or refunded (a ``status`` column) and some rows are exported twice.

    python -m tests.data.heavy_tail --customers 100000 --out DIR   # orders.csv, social.csv

Tests load it straight into a store (``load_into``): standing orders once each, cancelled and
refunded ones left out (what the importer's status policy does), social actions as given.
"""

from __future__ import annotations

import argparse
import csv
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import numpy.typing as npt
import sqlite_utils

from console.store.schema import transaction

CHINA = timezone(timedelta(hours=8))
DAY = 86_400.0
NEWEST = date(2018, 9, 3)  # the newest order's day: the export is years old
SINGLE_SHARE = 0.95  # customers with exactly one order
DORMANT_SHARE = 0.20  # customers whose orders are all three to six years old
LOYAL_SHARE = 0.01  # repeat buyers who order every week or two
SHARER_SHARE = 0.04  # customers who ever shared
KOC_SHARE = 0.006  # customers who share (and bring buyers) a lot
CANCELLED = 0.04
REFUNDED = 0.01
DUPLICATED = 0.02  # order rows exported twice


@dataclass(frozen=True)
class HeavyTailBase:
    """Customer index, time, amount and status of each order row (duplicates included);
    customer index, kind and time of each social action."""

    customers: int
    order_member: npt.NDArray[np.int64]
    order_ts: npt.NDArray[np.float64]
    order_amount: npt.NDArray[np.float64]
    order_status: npt.NDArray[np.str_]
    order_id: npt.NDArray[np.int64]
    social_member: npt.NDArray[np.int64]
    social_kind: npt.NDArray[np.str_]
    social_ts: npt.NDArray[np.float64]

    @property
    def newest(self) -> date:
        standing = self.order_status == "completed"
        return datetime.fromtimestamp(float(self.order_ts[standing].max()), CHINA).date()


def member_id(index: int) -> str:
    return f"h{index:07d}"


def generate(customers: int, seed: int = 15, newest: date = NEWEST) -> HeavyTailBase:
    """The base: see the module notes; the same seed gives the same rows."""
    rng = np.random.default_rng(seed)
    end = datetime(newest.year, newest.month, newest.day, 20, 0, tzinfo=CHINA).timestamp()
    counts = np.ones(customers, dtype=np.int64)
    repeat = rng.random(customers) >= SINGLE_SHARE
    counts[repeat] = 1 + rng.geometric(0.35, int(repeat.sum()))
    loyal = repeat & (rng.random(customers) < LOYAL_SHARE / (1 - SINGLE_SHARE))
    counts[loyal] = rng.integers(12, 45, int(loyal.sum()))
    dormant = ~loyal & (rng.random(customers) < DORMANT_SHARE)
    # Each customer's last order: dormant ones 3-6 years back, the rest within ~2.5 years,
    # the recent past more likely (the shop grew); the loyal within the last fortnight.
    last = rng.exponential(250.0, customers).clip(0, 900)
    last[dormant] = rng.uniform(3 * 365, 6 * 365, int(dormant.sum()))
    last[loyal] = rng.uniform(0, 14, int(loyal.sum()))
    last[0] = 0.0  # someone ordered on the newest day
    member = np.repeat(np.arange(customers), counts)
    gaps = rng.exponential(1.0, member.size)
    # Repeat buyers' earlier orders spread back from the last over their active span.
    span = np.where(loyal, 330.0, 200.0)[member]
    first_of = np.concatenate(([0], np.cumsum(counts)[:-1]))
    position = np.arange(member.size) - np.repeat(first_of, counts)
    steps = np.where(position == 0, 0.0, gaps * span / np.maximum(counts[member], 2))
    running = np.cumsum(steps)
    back = running - running[first_of][member]  # days before the member's last order
    ts = end - (last[member] + back) * DAY - rng.uniform(0, 0.4, member.size) * DAY
    amount = np.round(rng.lognormal(np.log(70.0), 0.9, member.size), 1)
    status = rng.choice(
        np.array(["completed", "cancelled", "refunded"]),
        size=member.size,
        p=[1 - CANCELLED - REFUNDED, CANCELLED, REFUNDED],
    )
    status[member == 0] = "completed"
    ids = np.arange(member.size)
    twice = rng.random(member.size) < DUPLICATED
    rows = np.concatenate((ids, ids[twice]))
    # Sharers are buyers of the last year or so: who shares a shop they left years ago?
    recent = np.flatnonzero(last < 400)
    sharers = rng.choice(recent, int(customers * SHARER_SHARE), replace=False)
    kocs = sharers[: max(1, int(customers * KOC_SHARE))]
    per_sharer = np.ones(sharers.size, dtype=np.int64) + rng.poisson(1.0, sharers.size)
    per_sharer[: kocs.size] = rng.integers(8, 40, kocs.size)
    social_member = np.repeat(sharers, per_sharer)
    social_kind = rng.choice(
        np.array(["share", "invite", "message"]), social_member.size, p=[0.6, 0.25, 0.15]
    )
    social_ts = end - rng.uniform(0, 300, social_member.size) * DAY
    return HeavyTailBase(
        customers,
        member[rows],
        ts[rows],
        amount[rows],
        status[rows],
        ids[rows],
        social_member,
        social_kind,
        social_ts,
    )


def write_csv(base: HeavyTailBase, folder: Path) -> tuple[Path, Path]:
    """``orders.csv`` (order_id, member_id, ts, amount, status) and ``social.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    orders, social = folder / "orders.csv", folder / "social.csv"
    with orders.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["order_id", "member_id", "ts", "amount", "status"])
        for oid, who, ts, amount, status in zip(
            base.order_id,
            base.order_member,
            base.order_ts,
            base.order_amount,
            base.order_status,
            strict=True,
        ):
            moment = datetime.fromtimestamp(float(ts), CHINA).isoformat(timespec="seconds")
            out.writerow([f"o{oid:08d}", member_id(int(who)), moment, f"{amount:.1f}", status])
    with social.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["member_id", "kind", "ts"])
        for who, kind, ts in zip(base.social_member, base.social_kind, base.social_ts, strict=True):
            moment = datetime.fromtimestamp(float(ts), CHINA).isoformat(timespec="seconds")
            out.writerow([member_id(int(who)), kind, moment])
    return orders, social


def load_into(db: sqlite_utils.Database, base: HeavyTailBase) -> None:
    """Members, standing orders (each once) and social actions, straight into a store."""
    now = time.time()
    standing = base.order_status == "completed"
    seen = np.zeros(int(base.order_id.max()) + 1, dtype=bool)
    keep = np.zeros(base.order_id.size, dtype=bool)
    for row in np.flatnonzero(standing):  # first copy of each order id
        oid = base.order_id[row]
        if not seen[oid]:
            seen[oid] = keep[row] = True
    with transaction(db) as conn:
        conn.executemany(
            "INSERT INTO members (id, name, nick, segment, updated_at) VALUES (?, ?, ?, ?, ?)",
            ((member_id(i), f"顾客{i}", "顾*", None, now) for i in range(base.customers)),
        )
        conn.executemany(
            "INSERT INTO orders (order_id, member_id, ts, amount, imported_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                (f"o{oid:08d}", member_id(int(who)), float(ts), float(amount), now)
                for oid, who, ts, amount in zip(
                    base.order_id[keep],
                    base.order_member[keep],
                    base.order_ts[keep],
                    base.order_amount[keep],
                    strict=True,
                )
            ),
        )
        conn.executemany(
            "INSERT INTO social_actions (action_id, member_id, kind, ts, imported_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                (f"s{n}", member_id(int(who)), str(kind), float(ts), now)
                for n, (who, kind, ts) in enumerate(
                    zip(base.social_member, base.social_kind, base.social_ts, strict=True)
                )
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    orders, social = write_csv(generate(args.customers, args.seed), args.out)
    print(f"wrote {orders} and {social}")


if __name__ == "__main__":
    main()
