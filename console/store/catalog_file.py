"""A session's catalog file (TOML): its lineup, each circle's offers, 话术, its audience.

The file is checked with the same models as ``PUT /sessions/{sid}/catalog``; a problem names
the file and the field (``offers[3].price``), and nothing is applied unless all of it is good.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlite_utils
from pydantic import ValidationError

from console.domain.decisions import Refused
from console.store.catalog import set_session_catalog
from console.store.messages import reason_of
from console.store.models import CatalogIn
from console.store.repository import NotFound
from console.tomlfile import read_toml


class CatalogFileError(ValueError):
    """The file cannot be applied; the message says where and why. Nothing changed."""


def load_catalog_file(path: Path) -> CatalogIn:
    raw = read_toml(path, CatalogFileError)
    try:
        return CatalogIn.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{path}: {_where(e['loc'])}: {reason_of(e)}" for e in exc.errors()]
        raise CatalogFileError("\n".join(problems)) from exc


def import_catalog(db: sqlite_utils.Database, sid: str, path: Path) -> dict[str, Any]:
    """Apply the file to session ``sid``; a summary of what was set."""
    spec = load_catalog_file(path)
    audience = spec.audience.model_dump() if spec.audience else None
    try:
        reach = set_session_catalog(
            db,
            sid,
            spec.lineup,
            spec.offer_rows(),
            audience,
            spec.script_rows(),
            spec.prompts.settings() if spec.prompts else None,
        )
    except (NotFound, Refused) as exc:
        raise CatalogFileError(f"{path}: {exc}") from exc
    return {
        "lineup": len(spec.lineup),
        "offers": len(spec.offers),
        "scripts": sum(len(s.lines) for s in spec.scripts),
        "audience": reach,
    }


def _where(loc: tuple[Any, ...]) -> str:
    """('offers', 3, 'price') -> 'offers[3].price'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "（整个文件）"
