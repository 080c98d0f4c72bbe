"""Which mapping reads which source's messages (``ingest-file --source NAME``)."""

from __future__ import annotations

from pathlib import Path

from console.adapters.base import Mapper

BUILT_IN = ("tiktok", "wechat_shop", "wecom")
STATS_SOURCES = frozenset({"wecom"})
"""Sources whose captures are a platform's statistics after the show, not room events: they
replay into ``platform-stats`` (``console.adapters.wecom.put_capture``), not ``/events``."""


class UnknownSource(Exception):
    """No adapter and no mapping file for a source name."""


def mapper_for(source: str, mappings_dir: Path | None = None) -> Mapper:
    """The built-in adapter's mapping, or the generic webhook mapping file
    ``<mappings_dir>/<source>.toml`` (or ``.json``)."""
    if source == "tiktok":
        from console.adapters.tiktok_mapping import TikTokMapper

        return TikTokMapper()
    if source == "wechat_shop":
        from console.adapters.wechat_shop import WeChatShopMapper

        return WeChatShopMapper()
    from console.adapters.webhook import WebhookMapper, load_mapping

    if mappings_dir is not None:
        for suffix in (".toml", ".json"):
            path = mappings_dir / f"{source}{suffix}"
            if path.is_file():
                return WebhookMapper(source, load_mapping(path))
    known = ", ".join(BUILT_IN)
    raise UnknownSource(
        f"unknown source {source!r}: one of {known}, or a mapping file {source}.toml in --mappings"
    )
