"""Loads and changes the segmentation through the store, for the operator's window."""

from __future__ import annotations

from typing import Any

import httpx
from PySide6.QtCore import QObject, Signal

from console.sync.client import StoreClient, StoreError

PAGE_SIZE = 50


class SegmentsController(QObject):
    """Signals:
    overview_changed(dict): the latest run, recent runs and the rules version arrived.
    ltv_changed(dict): LTV by circle (``GET /ltv``, ``console.domain.repurchase``) arrived.
    members_changed(dict): a page of members arrived (``total``, ``members``, ``offset``).
    failed(str): a call failed; the text says why, for the status line.
    """

    overview_changed = Signal(dict)
    ltv_changed = Signal(dict)
    members_changed = Signal(dict)
    failed = Signal(str)

    def __init__(self, client: StoreClient) -> None:
        super().__init__()
        self.client = client
        self.segment: str | None = None
        self.query = ""
        self.offset = 0

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except StoreError as exc:
            self.failed.emit(f"商店拒绝: {exc.reason}")
        except httpx.TransportError as exc:
            self.failed.emit(f"无法连接商店: {exc}")
        return None

    async def load_overview(self) -> None:
        overview = await self._call(self.client.segmentation_overview())
        if overview is not None:
            self.overview_changed.emit(overview)

    async def load_members(
        self, segment: str | None = None, query: str | None = None, offset: int | None = None
    ) -> None:
        if segment is not None:
            self.segment = segment or None
        if query is not None:
            self.query = query
        if offset is not None:
            self.offset = max(0, offset)
        page = await self._call(
            self.client.list_members(self.segment, self.query, PAGE_SIZE, self.offset)
        )
        if page is not None:
            page["offset"] = self.offset
            self.members_changed.emit(page)

    async def load_ltv(self) -> None:
        ltv = await self._call(self.client.ltv())
        if ltv is not None:
            self.ltv_changed.emit(ltv)

    async def reload(self) -> None:
        await self.load_overview()
        await self.load_ltv()
        await self.load_members()

    async def set_override(
        self, member_id: str, segment: str, reason: str, expires_on: str | None
    ) -> None:
        if await self._call(self.client.set_override(member_id, segment, reason, expires_on)):
            await self.reload()

    async def revoke_override(self, member_id: str) -> None:
        await self._call(self.client.revoke_override(member_id))
        await self.reload()

    async def run_now(
        self, force: bool = False, as_of: str | None = None, window_days: int | None = None
    ) -> None:
        run = await self._call(self.client.start_segmentation(force, as_of, window_days))
        if run is not None:
            await self.reload()
