"""Seeding a store database with the demo brand: members, their history, a segmentation."""

from __future__ import annotations

from pathlib import Path
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


def seed_demo(db_path: Path) -> dict[str, Any]:
    """Import the demo files (history moved to end today, products, pickup points) and run a
    segmentation.

    Does nothing when the store already has members. Returns the run's summary, or {}.
    """
    db = open_store(db_path)
    try:
        if repository.count_members(db) > 0:
            return {}
        today = today_in_china()
        shift = demo_shift_seconds(today)
        import_file(
            db, "members", resource_path(DEMO_MEMBERS), ImportOptions(mapping={"member_id": "id"})
        )
        for kind, relative in (
            ("orders", DEMO_ORDERS),
            ("social", DEMO_SOCIAL),
            ("products", DEMO_PRODUCTS),
            ("points", DEMO_POINTS),
        ):
            report = import_file(
                db, kind, resource_path(relative), ImportOptions(shift_seconds=shift)
            )
            if not report.applied:
                raise RuntimeError(f"demo {kind} did not import: {report.problems[:3]}")
        return run_segmentation(db, today, trigger="demo", actor="demo seed")
    finally:
        db.close()
