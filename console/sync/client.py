"""An async client for the store's HTTP API (httpx)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
from httpx_sse import EventSource, aconnect_sse

from console.domain.events import Event
from console.domain.room import RoomState
from console.domain.session_clock import SessionClock
from console.domain.snapshot import from_snapshot
from console.domain.timeline import Timeline

API = "/api/v1"
# The store sends a heartbeat on an idle stream every 5 s: three missed mean a dead link.
STREAM_READ_TIMEOUT_S = 15.0


class StoreError(Exception):
    """The store answered with an error status; ``reason`` is its one-line explanation."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason

    @property
    def is_auth(self) -> bool:
        return self.status in (401, 403)


class StoreClient:
    """Typed calls to one store with one bearer token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # Names the token in the console's cache (its role, remembered for offline starts)
        # without storing the token itself.
        self.token_id = hashlib.sha256(token.encode()).hexdigest()[:16]
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, API + path, **kwargs)
        _raise_for_status(response)
        return orjson.loads(response.content)

    async def create_session(
        self,
        title: str,
        scenario: str | None = None,
        audience: Mapping[str, Any] | None = None,
        clock: SessionClock = SessionClock.WALL,
    ) -> dict[str, Any]:
        body = {
            "title": title,
            "scenario": scenario,
            "audience": dict(audience or {}),
            "clock": clock.value,
        }
        result: dict[str, Any] = await self._request("POST", "/sessions", json=body)
        return result

    async def put_catalog(self, sid: str, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Set a session's lineup, offers and audience (operator); its cards come back."""
        result: list[dict[str, Any]] = await self._request(
            "PUT", f"/sessions/{sid}/catalog", json=dict(spec)
        )
        return result

    async def list_sessions(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._request("GET", "/sessions")
        return result

    async def get_session(self, sid: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._request("GET", f"/sessions/{sid}")
        return result

    async def set_status(self, sid: str, status: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._request(
            "PATCH", f"/sessions/{sid}", json={"status": status}
        )
        return result

    async def post_events(self, sid: str, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        body = orjson.dumps({"events": list(events)})
        result: dict[str, Any] = await self._request(
            "POST",
            f"/sessions/{sid}/events",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        return result

    async def read_events(self, sid: str, after: int, limit: int = 1000) -> tuple[list[Event], int]:
        """A page of the log after ``after`` and the log's current last ``seq``."""
        page = await self._request(
            "GET", f"/sessions/{sid}/events", params={"after": after, "limit": limit}
        )
        return [Event.from_dict(raw) for raw in page["events"]], int(page["last_seq"])

    async def replay(self, sid: str) -> Timeline:
        """The session over time, from the store's replay index (``GET /replay``)."""
        return Timeline.from_json(
            await self._request("GET", f"/sessions/{sid}/replay", timeout=120.0)
        )

    async def moment(
        self, sid: str, seq: int | None = None, at: float | None = None
    ) -> tuple[RoomState, float | None]:
        """The room right after event ``seq`` (or as it was at epoch time ``at``), folded by
        the store from its nearest checkpoint; with the time of that event."""
        params = {"seq": seq} if at is None else {"at": at}
        answer = await self._request("GET", f"/sessions/{sid}/replay/moment", params=params)
        return from_snapshot(answer["state"]), answer["ts"]

    async def me(self) -> dict[str, Any]:
        """This token's role, name and permissions."""
        result: dict[str, Any] = await self._request("GET", "/me")
        return result

    async def cards(self, sid: str) -> list[dict[str, Any]]:
        """The session's lineup: each card with its price ladder across the circles."""
        result: list[dict[str, Any]] = await self._request("GET", f"/sessions/{sid}/cards")
        return result

    async def reservations(self, sid: str) -> dict[str, Any]:
        """Reserved and arrived (已到), per circle and in total, with the host's caption."""
        result: dict[str, Any] = await self._request("GET", f"/sessions/{sid}/reservations")
        return result

    async def import_file(
        self, kind: str, body: bytes, mapping: str = "", filename: str = "upload.csv"
    ) -> dict[str, Any]:
        """Import a CSV file (operator): members, orders, social, products or points."""
        result: dict[str, Any] = await self._request(
            "POST",
            f"/imports/{kind}",
            params={"map": mapping, "filename": filename},
            content=body,
            headers={"Content-Type": "text/csv"},
            timeout=300.0,
        )
        return result

    async def put_pickup_points(self, points: Sequence[Mapping[str, Any]]) -> int:
        result = await self._request("PUT", "/pickup-points", json={"points": list(points)})
        return int(result["points"])

    async def place_order(self, sid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Place an order (shop front); the store prices it."""
        result: dict[str, Any] = await self._request(
            "POST", f"/sessions/{sid}/orders", json=dict(body)
        )
        return result

    async def put_platform_stats(
        self, sid: str, platform: str, viewers: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """A platform's per-viewer figures after the show (平台统计), kept apart."""
        result: dict[str, Any] = await self._request(
            "PUT", f"/sessions/{sid}/platform-stats/{platform}", json={"viewers": list(viewers)}
        )
        return result

    async def referral_code(self, sid: str, member_id: str) -> str:
        """The member's referral code; StoreError 404 if they have not shared yet."""
        answer = await self._request("GET", f"/sessions/{sid}/referral-codes/{member_id}")
        return str(answer["code"])

    async def pickup_points(self) -> list[dict[str, Any]]:
        """Every pickup point: id, name, 团长."""
        result: list[dict[str, Any]] = (await self._request("GET", "/pickup-points"))["points"]
        return result

    async def command(self, sid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Send one floor-assistant command (``type``, ``command_id``, fields)."""
        result: dict[str, Any] = await self._request(
            "POST", f"/sessions/{sid}/commands", json=dict(body)
        )
        return result

    async def stats(self, sid: str) -> dict[str, Any]:
        """The session's review figures (``GET /stats``)."""
        result: dict[str, Any] = await self._request("GET", f"/sessions/{sid}/stats", timeout=120.0)
        return result

    async def repurchase(self, sid: str) -> dict[str, Any]:
        """The session's buyers' 30-day repurchase per circle (``GET /repurchase``)."""
        result: dict[str, Any] = await self._request("GET", f"/sessions/{sid}/repurchase")
        return result

    async def followups(self, sid: str) -> dict[str, Any]:
        """Follow-up tasks' completion and outcome (``GET /followups``, operator)."""
        result: dict[str, Any] = await self._request("GET", f"/sessions/{sid}/followups")
        return result

    async def ltv(self) -> dict[str, Any]:
        """LTV by circle over the brand's history (``GET /ltv``, operator)."""
        result: dict[str, Any] = await self._request("GET", "/ltv", timeout=120.0)
        return result

    async def state(self, sid: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._request("GET", f"/sessions/{sid}/state")
        return result

    # -- segmentation (operator) ------------------------------------------------------

    async def segmentation_overview(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._request("GET", "/segmentation")
        return result

    async def list_members(
        self, segment: str | None = None, query: str = "", limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if segment:
            params["segment"] = segment
        if query:
            params["q"] = query
        result: dict[str, Any] = await self._request("GET", "/members", params=params)
        return result

    async def set_override(
        self, member_id: str, segment: str, reason: str, expires_on: str | None = None
    ) -> dict[str, Any]:
        body = {"segment": segment, "reason": reason, "expires_at": expires_on}
        result: dict[str, Any] = await self._request(
            "PUT", f"/members/{member_id}/override", json=body
        )
        return result

    async def revoke_override(self, member_id: str) -> None:
        response = await self._http.request("DELETE", f"{API}/members/{member_id}/override")
        _raise_for_status(response)

    async def start_segmentation(
        self, force: bool = False, as_of: str | None = None, window_days: int | None = None
    ) -> dict[str, Any]:
        """Run the segmentation as of ``as_of`` (YYYY-MM-DD; default today) over
        ``window_days`` (default: the rules' window)."""
        body: dict[str, Any] = {"force": force}
        if as_of is not None:
            body["as_of"] = as_of
        if window_days is not None:
            body["window_days"] = window_days
        result: dict[str, Any] = await self._request(
            "POST", "/segmentation/runs", json=body, timeout=300.0
        )
        return result

    @asynccontextmanager
    async def stream(self, sid: str, after: int) -> AsyncIterator[EventSource]:
        """The session's SSE stream resuming after ``after`` (sent as Last-Event-ID)."""
        timeout = httpx.Timeout(10.0, read=STREAM_READ_TIMEOUT_S)
        async with aconnect_sse(
            self._http,
            "GET",
            f"{API}/sessions/{sid}/stream",
            headers={"Last-Event-ID": str(after)},
            timeout=timeout,
        ) as source:
            if source.response.status_code >= 400:
                await source.response.aread()
                _raise_for_status(source.response)
            yield source


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        reason = str(orjson.loads(response.content).get("error", response.reason_phrase))
    except (orjson.JSONDecodeError, AttributeError):
        reason = response.reason_phrase or "error"
    raise StoreError(response.status_code, reason)
