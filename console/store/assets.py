"""The bundled fonts (SIL OFL) the store's web pages load, so they render alike on any
machine: one route, mounted under each page's prefix (``/overlay/assets/…`` for the
overlay's relative URLs, ``/leader/assets/…`` for the 团长's page). Public: no token."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from console.resources import resource_path
from console.store.errors import problem

ASSETS = {
    "font.otf": ("fonts/LiveConsoleSansSC-Bold.otf", "font/otf"),
    "emoji.ttf": ("fonts/LiveConsoleEmoji.ttf", "font/ttf"),
}


async def font_asset(name: str) -> FileResponse:
    """A page's font by name; 404 for any other name."""
    if name not in ASSETS:
        raise problem(404, "name", f"没有这个文件：{name[:40]}")
    path, media_type = ASSETS[name]
    return FileResponse(resource_path(path), media_type=media_type)


def add_asset_route(router: APIRouter) -> None:
    """``GET {router's prefix}/assets/{name}``: the fonts."""
    router.add_api_route("/assets/{name}", font_asset, methods=["GET"], include_in_schema=False)
