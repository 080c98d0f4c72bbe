"""Seeding a store database with the demo brand: members, their history, a segmentation."""

from __future__ import annotations

import time
from typing import Any

from console.resources import resource_path
from console.sim.demo_members import (
    DEMO_MEMBERS,
    DEMO_ORDERS,
    DEMO_POINTS,
    DEMO_PRODUCTS,
    DEMO_SOCIAL,
    demo_shift_seconds,
)
from console.store import repository
from console.store.imports import ImportOptions, import_file
from console.store.schema import open_store
from console.store.segmentation import run_segmentation, today_in_china
from console.store.target import StoreTarget


def seed_demo(db_path: StoreTarget) -> dict[str, Any]:
    """Import the demo files (history moved to end today) and run a segmentation; add the
    demo products and pickup points (and member locations) where the store has none.

    Members are left alone when the store already has some. Returns the run's summary, or {}.
    """
    db = open_store(db_path)
    try:
        _seed_catalog(db)
        if repository.count_members(db) > 0:
            return {}
        today = today_in_china(time.time())
        shift = demo_shift_seconds(today)
        _import(db, "members", DEMO_MEMBERS, ImportOptions(mapping={"member_id": "id"}))
        for kind, relative in (("orders", DEMO_ORDERS), ("social", DEMO_SOCIAL)):
            _import(db, kind, relative, ImportOptions(shift_seconds=shift))
        return run_segmentation(db, today, time.time, trigger="demo", actor="demo seed")
    finally:
        db.close()


def _seed_catalog(db: Any) -> None:
    """The demo products are brought up to date on every start (a new version may add some;
    scenarios restock what they sell); pickup points only into a store that has none."""
    _import(db, "products", DEMO_PRODUCTS, ImportOptions())
    if db.execute("SELECT count(*) FROM pickup_points").fetchone()[0] == 0:
        _import(db, "points", DEMO_POINTS, ImportOptions())


def _import(db: Any, kind: str, relative: str, options: ImportOptions) -> None:
    report = import_file(db, kind, resource_path(relative), options)
    if not report.applied:
        raise RuntimeError(f"demo {kind} did not import: {report.problems[:3]}")
