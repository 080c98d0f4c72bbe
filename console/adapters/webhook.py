"""Generic webhook sources in a capture: the same mapping files the store's webhook route
reads (``console.domain.webhooks``), so ``ingest-file --source NAME --mappings DIR`` replays
a capture of signed bodies with the ids the live route gave them."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from console.adapters.base import RawMessage
from console.domain.webhooks import WebhookMapping, map_message, messages_of, parse_mapping


def load_mapping(path: Path) -> WebhookMapping:
    text = path.read_text(encoding="utf-8")
    raw = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    return parse_mapping(path.stem, raw)


class WebhookMapper:
    """A capture line's payload is one webhook body as it arrived."""

    def __init__(self, source: str, mapping: WebhookMapping) -> None:
        self.source = source
        self.mapping = mapping

    def map(self, message: RawMessage) -> list[dict[str, Any]]:
        return [
            map_message(self.mapping, m, message.recv_ts)
            for m in messages_of(self.mapping, message.payload)
        ]
