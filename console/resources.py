"""The one place that resolves files under ``resources/``."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def resource_path(relative: str) -> Path:
    """The path of ``resources/<relative>``; FileNotFoundError if it is missing."""
    path = RESOURCES / relative
    if not path.exists():
        raise FileNotFoundError(f"missing resource: {path}")
    return path
