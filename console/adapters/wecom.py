"""企业微信直播 (WeCom live) watch statistics -> the session's platform-reported figures.

After a show, the adapter asks WeCom for the living's per-viewer statistics (documented:
``GET /cgi-bin/gettoken?corpid=&corpsecret=``, then ``POST
/cgi-bin/living/get_watch_stat?access_token=`` with ``{"livingid", "next_key"}``, paging with
``next_key`` until ``ending`` is 1) and puts each page into the store
(``PUT /sessions/{sid}/platform-stats/wecom``). A finished session takes no platform events,
and a platform's count is not our log: these are stored apart, per viewer (``users``: the
corp's staff, ``external_users``: customers), and shown as 平台统计.

- An expired or invalid access token (errcode 42001, 40014) fetches a new one and asks again;
- a connection that fails asks again for the same page (the same ``next_key``);
- every page is put as it comes, and putting a viewer again replaces their figures: a run cut
  short and run again (from the first page) loses nothing and doubles nothing.

Each page is one capture line (kind ``get_watch_stat``, payload ``{"livingid", "next_key",
"answer"}``); ``ingest-file --source wecom`` puts a capture's pages again, with no network.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from console.adapters.base import RawMessage
from console.adapters.capture import CaptureWriter
from console.sync.client import StoreClient
from console.sync.retry import RETRY_TRANSIENT, STORE_BACKOFF, Backoff, describe, failure

log = logging.getLogger(__name__)
SOURCE = PLATFORM = "wecom"
KIND = "get_watch_stat"
TOKEN_ERRCODES = frozenset({40014, 42001})  # invalid access_token, access_token expired
MAX_PAGES = 10_000  # a platform that never says ``ending`` does not keep us forever
WECOM_BACKOFF = Backoff(first_s=0.25, most_s=4.0, jitter_s=0.1)


class WeComError(Exception):
    """WeCom answered with an error we cannot get past by asking again."""


def viewers_of(message: RawMessage) -> list[dict[str, Any]]:
    """A page's viewers as the store's ``platform-stats`` body rows (pure: the mapping)."""
    stat = (message.payload.get("answer") or {}).get("stat_info") or {}
    rows: list[dict[str, Any]] = []
    for user in stat.get("users") or []:
        rows.append(_row(str(user.get("userid", "")), "user", user, ""))
    for user in stat.get("external_users") or []:
        inviter = user.get("invitor_external_userid") or user.get("invitor_userid") or ""
        rows.append(_row(str(user.get("external_userid", "")), "external", user, str(inviter)))
    return [row for row in rows if row["viewer"]]


def _row(viewer: str, kind: str, user: dict[str, Any], inviter: str) -> dict[str, Any]:
    return {
        "viewer": viewer,
        "kind": kind,
        "watch_time": max(0, int(user.get("watch_time") or 0)),
        "commented": bool(user.get("is_comment")),
        "inviter": inviter,
    }


class WeComApi:
    """The corp's access token (cached until shortly before it expires) and the living API."""

    def __init__(
        self,
        base_url: str,
        corpid: str,
        secret: str,
        *,
        backoff: Backoff = WECOM_BACKOFF,
        give_up_after_s: float = 120.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=15.0)
        self._corpid, self._secret = corpid, secret
        self._backoff, self._give_up_after_s = backoff, give_up_after_s
        self._clock = clock
        self._token = ""
        self._token_until = 0.0
        self.token_fetches = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One call, asked again while WeCom is unreachable or answers 5xx."""
        retrying = self._backoff.retrying(
            RETRY_TRANSIENT,
            give_up_after_s=self._give_up_after_s,
            before_sleep=lambda state: log.info(
                "wecom: %s not reached (%s), trying again", path, describe(failure(state))
            ),
        )
        async for attempt in retrying:
            with attempt:
                response = await self._http.request(method, path, **kwargs)
                if response.status_code != 200:
                    raise WeComError(f"{path}: HTTP {response.status_code}")
                answer: dict[str, Any] = response.json()
                return answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def access_token(self, *, fresh: bool = False) -> str:
        if fresh or not self._token or self._clock() >= self._token_until:
            answer = await self._call(
                "GET",
                "/cgi-bin/gettoken",
                params={"corpid": self._corpid, "corpsecret": self._secret},
            )
            if answer.get("errcode", 0) != 0 or "access_token" not in answer:
                raise WeComError(f"gettoken: {answer.get('errcode')} {answer.get('errmsg')}")
            self.token_fetches += 1
            self._token = str(answer["access_token"])
            # Renewed five minutes early (WeCom's tokens last 7200 s).
            self._token_until = self._clock() + max(0, int(answer.get("expires_in", 7200)) - 300)
        return self._token

    async def watch_stat(self, livingid: str, next_key: str) -> dict[str, Any]:
        """One page; an expired token is renewed once and the page asked again."""
        for fresh in (False, True):
            token = await self.access_token(fresh=fresh)
            answer = await self._call(
                "POST",
                "/cgi-bin/living/get_watch_stat",
                params={"access_token": token},
                json={"livingid": livingid, "next_key": next_key},
            )
            code = int(answer.get("errcode", 0))
            if code == 0:
                return answer
            if code not in TOKEN_ERRCODES or fresh:
                raise WeComError(f"get_watch_stat: {code} {answer.get('errmsg')}")
            log.info("wecom: access token refused (%s), fetching a new one", code)
        raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class PollResult:
    pages: int = 0
    viewers: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    summary: dict[str, Any] | None = None

    def line(self) -> str:
        s = self.summary or {}
        return (
            f"pages {self.pages} viewers {self.viewers} added {self.added} "
            f"updated {self.updated} unchanged {self.unchanged} | watched {s.get('watched', 0)} "
            f"interacted {s.get('interacted', 0)} invited {s.get('invited', 0)} "
            f"watch_minutes {s.get('watch_minutes', 0)}"
        )


class StatsSink:
    """Puts pages of viewers into the session's platform statistics, retrying while the
    store is away (the same page again is harmless)."""

    def __init__(self, client: StoreClient, sid: str, *, backoff: Backoff = STORE_BACKOFF) -> None:
        self.client, self.sid, self._backoff = client, sid, backoff
        self.result = PollResult()

    async def put(self, message: RawMessage) -> None:
        rows = viewers_of(message)
        self.result.pages += 1
        self.result.viewers += len(rows)
        retrying = self._backoff.retrying(
            RETRY_TRANSIENT,
            give_up_after_s=120.0,
            before_sleep=lambda state: log.info(
                "wecom: store not reached (%s), trying again", describe(failure(state))
            ),
        )
        async for attempt in retrying:
            with attempt:
                answer = await self.client.put_platform_stats(self.sid, PLATFORM, rows)
        self.result.added += int(answer["added"])
        self.result.updated += int(answer["updated"])
        self.result.unchanged += int(answer["unchanged"])
        self.result.summary = answer["summary"]


async def poll_watch_stat(
    api: WeComApi,
    livingid: str,
    sink: StatsSink,
    *,
    capture: CaptureWriter | None = None,
    clock: Callable[[], float] = time.time,
) -> PollResult:
    """Every page of the living's statistics, each put into the store as it comes."""
    next_key = ""
    for _ in range(MAX_PAGES):
        answer = await api.watch_stat(livingid, next_key)
        message = RawMessage(
            SOURCE, KIND, {"livingid": livingid, "next_key": next_key, "answer": answer}, clock()
        )
        if capture is not None:
            capture.write(message)
        await sink.put(message)
        if int(answer.get("ending", 1)) == 1:
            return sink.result
        following = str(answer.get("next_key") or "")
        if not following or following == next_key:
            raise WeComError(f"get_watch_stat: 未结束却没有新的 next_key（{following!r}）")
        next_key = following
    raise WeComError(f"get_watch_stat: 超过 {MAX_PAGES} 页仍未结束")


async def put_capture(messages: Iterable[RawMessage], sink: StatsSink) -> PollResult:
    """``ingest-file --source wecom``: a capture's pages put again (no network)."""
    for message in messages:
        if message.source == SOURCE and message.kind == KIND:
            await sink.put(message)
    return sink.result


async def run_once(
    client: StoreClient,
    sid: str,
    *,
    base_url: str,
    corpid: str,
    secret: str,
    livingid: str,
    capture: CaptureWriter | None = None,
) -> PollResult:
    """``main.py adapter wecom``: one poll after the show."""
    api = WeComApi(base_url, corpid, secret)
    try:
        return await poll_watch_stat(api, livingid, StatsSink(client, sid), capture=capture)
    finally:
        await api.aclose()
