"""Keeping the garbage collector's full passes short while on air."""

from __future__ import annotations

import gc


def freeze_long_lived_objects() -> None:
    """Move everything alive now out of the collector's reach.

    What is built at startup (Qt wrappers, pyqtgraph items, modules) or loaded for a replay (a
    million events and their checkpoints) lives as long as the window: a full collection that
    walks it all would stall the UI for tens or hundreds of milliseconds.
    """
    gc.collect()
    gc.freeze()
