"""A synthetic brand at scale for the segmentation benchmark: members, orders, shares."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from console.store.schema import open_store, transaction
from console.store.segmentation import end_of_day

DAY = 86_400.0


def member_ids(count: int) -> list[str]:
    return [f"m{n:07d}" for n in range(count)]


def order_arrays(
    members: int, orders: int, as_of: date, seed: int = 1
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Member index, time and amount of each order: heavy-tailed, most members buy rarely.

    The busiest members buy about every few days (weights capped); a handful of wholesale
    buyers spend far more than anyone, as real exports have.
    """
    rng = np.random.default_rng(seed)
    weights = np.minimum(rng.pareto(1.2, members) + 0.05, 40.0)
    codes = rng.choice(members, size=orders, p=weights / weights.sum())
    end = end_of_day(as_of)
    ts = end - rng.uniform(0, 540, orders) * DAY  # a year and a half: some fall outside
    amounts = np.round(rng.lognormal(4.2, 0.8, orders), 1)
    amounts[rng.choice(orders, size=20, replace=False)] *= 5_000  # wholesale orders
    returns = rng.random(orders) < 0.03
    amounts[returns] = -amounts[returns]
    order = np.lexsort((ts, codes))
    return codes[order], ts[order], amounts[order]


def social_arrays(
    members: int, actions: int, as_of: date, seed: int = 2
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    sharers = rng.choice(members, size=max(1, members // 10), replace=False)
    codes = rng.choice(sharers, size=actions)
    kinds = rng.choice(3, size=actions, p=[0.7, 0.1, 0.2])
    ts = end_of_day(as_of) - rng.uniform(0, 400, actions) * DAY
    return codes, kinds, ts


def build_store(
    path: Path, members: int, orders: int, actions: int, as_of: date
) -> dict[str, float]:
    """Fill a new store file; returns how long each part took (seconds)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    ids = member_ids(members)
    codes, ts, amounts = order_arrays(members, orders, as_of)
    s_codes, s_kinds, s_ts = social_arrays(members, actions, as_of)
    timings["generate"] = time.perf_counter() - started

    db = open_store(path)
    started = time.perf_counter()
    db.execute("DROP INDEX IF EXISTS orders_member")
    db.execute("DROP INDEX IF EXISTS social_member")
    with transaction(db) as conn:
        conn.executemany(
            "INSERT INTO members (id, name, nick, updated_at) VALUES (?, '', '', 0)",
            ((i,) for i in ids),
        )
        conn.executemany(
            "INSERT INTO orders (order_id, member_id, ts, amount, imported_at) "
            "VALUES (?, ?, ?, ?, 0)",
            _orders(ids, codes, ts, amounts),
        )
        kinds = ("share", "invite", "message")
        conn.executemany(
            "INSERT INTO social_actions (action_id, member_id, kind, ts, imported_at) "
            "VALUES (?, ?, ?, ?, 0)",
            (
                (f"a{n}", ids[c], kinds[k], t)
                for n, (c, k, t) in enumerate(
                    zip(s_codes.tolist(), s_kinds.tolist(), s_ts.tolist(), strict=True)
                )
            ),
        )
    db.execute("CREATE INDEX orders_member ON orders (member_id, ts, amount)")
    db.execute("CREATE INDEX social_member ON social_actions (member_id, ts, kind)")
    db.execute("ANALYZE")
    timings["load"] = time.perf_counter() - started
    db.close()
    return timings


def _orders(
    ids: list[str],
    codes: npt.NDArray[np.int64],
    ts: npt.NDArray[np.float64],
    amounts: npt.NDArray[np.float64],
) -> Iterator[tuple[str, str, float, float]]:
    for n, (code, moment, amount) in enumerate(
        zip(codes.tolist(), ts.tolist(), amounts.tolist(), strict=True)
    ):
        yield f"o{n:08d}", ids[code], moment, amount
