"""企业微信直播 watch statistics: the documented API (token, paging, an expired token), a
restart mid-paging, the store's platform-stats kept apart from the log, capture and replay."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from console.adapters.base import RawMessage
from console.adapters.capture import CaptureWriter, read_capture
from console.adapters.wecom import (
    KIND,
    StatsSink,
    WeComApi,
    WeComError,
    poll_watch_stat,
    viewers_of,
)
from console.domain.stats import session_stats
from console.store.schema import connect
from console.sync.client import StoreClient
from console.sync.retry import Backoff
from console.ui.report import platform_lines, write_html
from tests.adapters.conftest import ingest_file
from tests.adapters.standin import StandIn
from tests.helpers import MAIN_PY, StoreProcess, run_async

CORPID, SECRET, LIVING = "ww1234567890abcdef", "corp-secret", "lvOQpTDwAAcP2ZvJoaFwFG6tm7VB1CjQ"
FAST = Backoff(first_s=0.05, most_s=0.2)
COMMENT = {"text": "来晚了", "platform_user": {"platform": "wecom", "handle": "wmB"}}


def _external(uid: str, watch: int, comment: int, **invitor: str) -> dict[str, Any]:
    return {
        "external_userid": uid,
        "type": 1,
        "name": f"客户{uid[-1]}",
        "watch_time": watch,
        "is_comment": comment,
        "is_mic": 0,
        **invitor,
    }


# Three pages: a staff member and five customers; three commented, three were invited.
PAGES: list[dict[str, list[dict[str, Any]]]] = [
    {
        "users": [{"userid": "zhangsan", "watch_time": 600, "is_comment": 1, "is_mic": 1}],
        "external_users": [
            _external("wmA", 1800, 1, invitor_userid="zhangsan"),
            _external("wmB", 59, 0),
        ],
    },
    {
        "users": [],
        "external_users": [
            _external("wmC", 1200, 0, invitor_external_userid="wmA"),
            _external("wmD", 300, 1),
        ],
    },
    {"users": [], "external_users": [_external("wmE", 120, 0, invitor_external_userid="wmA")]},
]
EXPECTED = {
    "watched": 6,
    "members": 1,  # wmA is bound to a member
    "guests": 5,
    "interacted": 3,
    "invited": 3,
    "watch_minutes": (600 + 1800 + 59 + 1200 + 300 + 120) // 60,
}


class WeComStandIn:
    """WeCom's living API as documented; next_key is stateless (a restart keeps it valid).
    The first request for page ``expire_at`` finds its token expired (42001); the first for
    ``fail_at`` answers a system error (-1)."""

    def __init__(self, expire_at: int | None = 1, fail_at: int | None = None) -> None:
        self.valid: set[str] = set()
        self.issued = 0
        self.expire_at, self.fail_at = expire_at, fail_at
        self.requests: list[tuple[int, str]] = []
        self.server = StandIn(self.app())

    def app(self) -> Starlette:
        async def gettoken(request: Request) -> JSONResponse:
            q = request.query_params
            if (q.get("corpid"), q.get("corpsecret")) != (CORPID, SECRET):
                return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
            self.issued += 1
            token = f"AT-{self.issued}"
            self.valid.add(token)
            return JSONResponse(
                {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
            )

        async def watch_stat(request: Request) -> JSONResponse:
            token = request.query_params.get("access_token", "")
            body = await request.json()
            key = body.get("next_key") or ""
            page = int(key.removeprefix("page-")) if key else 0
            self.requests.append((page, token))
            if token not in self.valid:
                return JSONResponse({"errcode": 40014, "errmsg": "invalid access_token"})
            if body.get("livingid") != LIVING:
                return JSONResponse({"errcode": 60001, "errmsg": "livingid not found"})
            if page == self.expire_at:
                self.expire_at = None
                self.valid.discard(token)
                return JSONResponse({"errcode": 42001, "errmsg": "access_token expired"})
            if page == self.fail_at:
                self.fail_at = None
                return JSONResponse({"errcode": -1, "errmsg": "system busy"})
            last = page == len(PAGES) - 1
            return JSONResponse(
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "ending": 1 if last else 0,
                    "next_key": "" if last else f"page-{page + 1}",
                    "stat_info": PAGES[page],
                }
            )

        return Starlette(
            routes=[
                Route("/cgi-bin/gettoken", gettoken, methods=["GET"]),
                Route("/cgi-bin/living/get_watch_stat", watch_stat, methods=["POST"]),
            ]
        )


@pytest.fixture
def wecom() -> Iterator[WeComStandIn]:
    standin = WeComStandIn()
    standin.server.start()
    yield standin
    standin.server.stop()


def _ended_session(store: StoreProcess, title: str) -> str:
    sid = store.new_session(title)
    with store.client() as client:
        client.patch(f"/sessions/{sid}", json={"status": "ended"}).raise_for_status()
    return sid


def _bind(store: StoreProcess, handle: str) -> str:
    with store.client() as client:
        member = client.get("/members", params={"limit": 1}).json()["members"][0]["id"]
        client.put(
            f"/members/{member}/identities",
            json={"identities": [{"platform": "wecom", "handle": handle}]},
        ).raise_for_status()
    return str(member)


def _stats(store: StoreProcess, sid: str, role: str = "operator") -> dict[str, Any]:
    with store.client(role) as client:
        response = client.get(f"/sessions/{sid}/stats")
        response.raise_for_status()
        return dict(response.json())


def _rows(store: StoreProcess, sid: str) -> list[tuple[str, int, int, str]]:
    db = connect(store.db_path)
    try:
        return [
            tuple(r)
            for r in db.execute(
                "SELECT viewer, watch_time, commented, inviter FROM platform_stats "
                "WHERE session_id = ? ORDER BY viewer",
                [sid],
            )
        ]
    finally:
        db.close()


def _figures(stats: dict[str, Any]) -> dict[str, Any]:
    figures = dict(stats["platform_reported"]["wecom"])
    assert figures.pop("fetched_at") > 0
    return figures


def test_a_page_maps_to_viewers_with_their_inviter() -> None:
    page = RawMessage("wecom", KIND, {"answer": {"stat_info": PAGES[0]}}, 1.0)
    assert viewers_of(page) == [
        {"viewer": "zhangsan", "kind": "user", "watch_time": 600, "commented": True, "inviter": ""},
        {
            "viewer": "wmA",
            "kind": "external",
            "watch_time": 1800,
            "commented": True,
            "inviter": "zhangsan",
        },
        {"viewer": "wmB", "kind": "external", "watch_time": 59, "commented": False, "inviter": ""},
    ]


def test_after_the_show_the_command_fetches_every_page_into_platform_stats(
    store: StoreProcess, wecom: WeComStandIn, tmp_path: Path
) -> None:
    sid = _ended_session(store, "企业微信直播")
    member = _bind(store, "wmA")
    with store.client("ingest") as client:  # a finished show takes no platform events...
        late = client.post(
            f"/sessions/{sid}/events",
            json={
                "events": [{"id": "wecom:x", "type": "comment", "ts": time.time(), "data": COMMENT}]
            },
        )
        assert late.status_code == 409, late.text
    capture = tmp_path / "wecom.jsonl"
    command = [
        sys.executable,
        str(MAIN_PY),
        "adapter",
        "wecom",
        "--store",
        store.url,
        "--token",
        store.token("ingest"),
        "--session",
        sid,
        "--corpid",
        CORPID,
        "--secret",
        SECRET,
        "--living-id",
        LIVING,
        "--base-url",
        wecom.server.url,
        "--capture",
        str(capture),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pages 3 viewers 6 added 6 updated 0 unchanged 0" in done.stdout
    # ... but its platform statistics: the expired token was renewed once, page 1 asked again.
    assert wecom.issued == 2
    assert [page for page, _ in wecom.requests] == [0, 1, 1, 2]
    stats = _stats(store, sid, "host")
    assert _figures(stats) == EXPECTED
    assert stats["total"]["watched"] == 0  # our own figures are the log's, untouched
    assert stats["total"]["interacted"] == 0
    assert "wmA" not in orjson.dumps(stats).decode()  # counts for a host, never the ids
    assert member not in orjson.dumps(stats["platform_reported"]).decode()
    # The capture holds the three good pages; replayed twice it adds nothing.
    assert [m.kind for m in read_capture(capture)] == [KIND] * 3
    for _ in range(2):
        again = ingest_file(store, sid, "wecom", capture)
        assert again.returncode == 0, again.stderr
        assert "added 0 updated 0 unchanged 6" in again.stdout
    fresh = _ended_session(store, "回放")
    for expected in ("added 6 updated 0 unchanged 0", "added 0 updated 0 unchanged 6"):
        replayed = ingest_file(store, fresh, "wecom", capture)
        assert replayed.returncode == 0, replayed.stderr
        assert expected in replayed.stdout
    assert _figures(_stats(store, fresh)) == EXPECTED
    assert _rows(store, fresh) == _rows(store, sid)
    assert len(_rows(store, sid)) == 6


class RestartingSink(StatsSink):
    """Stops the stand-in after the first page and starts it again a moment later, so the
    next page's request meets a closed port and must be asked again."""

    def __init__(self, client: StoreClient, sid: str, server: StandIn) -> None:
        super().__init__(client, sid)
        self.server = server

    async def put(self, message: RawMessage) -> None:
        await super().put(message)
        if self.result.pages == 1:
            self.server.stop()
            threading.Timer(0.4, self.server.start).start()


def test_a_restart_mid_paging_loses_nothing_and_doubles_nothing(
    store: StoreProcess, tmp_path: Path
) -> None:
    wecom = WeComStandIn(expire_at=1, fail_at=2)
    wecom.server.start()
    sid = _ended_session(store, "重启")
    capture_path = tmp_path / "wecom.jsonl"

    async def scenario() -> tuple[list[tuple[str, int, int, str]], Any]:
        client = StoreClient(store.url, store.token("ingest"))
        api = WeComApi(wecom.server.url, CORPID, SECRET, backoff=FAST)
        capture = CaptureWriter(capture_path)
        try:
            # The platform goes away after page 0 and comes back: page 1 is asked again.
            # Then page 2 fails: the run stops with what it has put so far.
            with pytest.raises(WeComError, match="system busy"):
                await poll_watch_stat(
                    api, LIVING, RestartingSink(client, sid, wecom.server), capture=capture
                )
            partial = _rows(store, sid)
            # Run again from the first page: the pages put before change nothing.
            result = await poll_watch_stat(api, LIVING, StatsSink(client, sid), capture=capture)
        finally:
            capture.close()
            await api.aclose()
            await client.aclose()
        return partial, result

    try:
        partial, result = run_async(scenario())
    finally:
        wecom.server.stop()
    assert [r[0] for r in partial] == ["wmA", "wmB", "wmC", "wmD", "zhangsan"]
    assert (result.pages, result.added, result.updated, result.unchanged) == (3, 1, 0, 5)
    assert wecom.issued == 2  # the expired token renewed once, across the restart too
    assert len(_rows(store, sid)) == 6
    figures = _figures(_stats(store, sid))
    assert figures == {**EXPECTED, "members": 0, "guests": 6}


def test_the_route_checks_its_input_and_replaces_a_viewer_figures(store: StoreProcess) -> None:
    scheduled = store.new_session("未开播", live=False)
    live = store.new_session("直播中")
    row = {"viewer": "wmZ", "kind": "external", "watch_time": 60, "commented": False}
    with store.client("ingest") as client:
        path = f"/sessions/{live}/platform-stats"
        unknown = client.put(f"{path}/douyin", json={"viewers": [row]})
        assert unknown.status_code == 404
        assert "不支持的平台" in unknown.text
        early = client.put(f"/sessions/{scheduled}/platform-stats/wecom", json={"viewers": [row]})
        assert early.status_code == 409
        assert "尚未开播" in early.text
        bad = client.put(f"{path}/wecom", json={"viewers": [{**row, "watch_time": -1}]})
        assert bad.status_code == 422
        assert "watch_time" in bad.text
        assert client.put(f"{path}/wecom", json={"viewers": [row]}).json()["added"] == 1
        longer = client.put(f"{path}/wecom", json={"viewers": [{**row, "watch_time": 600}]})
        answer = longer.json()
        assert (answer["added"], answer["updated"], answer["unchanged"]) == (0, 1, 0)
        assert answer["summary"]["watch_minutes"] == 10
        assert client.get(f"/sessions/{live}/stats").status_code == 403  # ingest reads nothing
    assert _stats(store, live)["platform_reported"]["wecom"]["watched"] == 1
    assert _stats(store, scheduled)["platform_reported"] == {}


def test_the_report_prints_one_line_per_platform_apart_from_ours(tmp_path: Path) -> None:
    stats = session_stats([], {}, {})  # a show with nothing in its own log
    stats["platform_reported"] = {"wecom": {**EXPECTED, "fetched_at": 1.0}}
    assert platform_lines(stats) == ["企业微信直播（平台统计）：观看 6 · 互动 3 · 邀请 3"]
    page = write_html(tmp_path, {"id": "s1", "title": "企业微信直播"}, stats, []).read_text(
        encoding="utf-8"
    )
    assert "企业微信直播（平台统计）：观看 6 · 互动 3 · 邀请 3" in page
    del stats["platform_reported"]
    assert platform_lines(stats) == []


def test_a_wrong_secret_stops_the_run_before_any_page(
    store: StoreProcess, wecom: WeComStandIn
) -> None:
    sid = _ended_session(store, "密钥错误")
    api = WeComApi(wecom.server.url, CORPID, "wrong")

    async def scenario() -> None:
        client = StoreClient(store.url, store.token("ingest"))
        try:
            await poll_watch_stat(api, LIVING, StatsSink(client, sid))
        finally:
            await api.aclose()
            await client.aclose()

    with pytest.raises(WeComError, match="40001"):
        run_async(scenario())
    assert _rows(store, sid) == []
