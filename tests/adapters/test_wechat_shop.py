"""微信小店 order pushes: the signature and AES mode, the receiver, the order API, a store."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from console.adapters.capture import CaptureWriter
from console.adapters.sink import StoreSink
from console.adapters.wechat_crypto import Refused, WeChatCrypto, signature
from console.adapters.wechat_shop import ShopApi, receiver_app
from console.sync.client import StoreClient
from tests.adapters.conftest import PLATFORMS, ingest_file, platform_log
from tests.adapters.standin import StandIn
from tests.helpers import StoreProcess, run_async

DOC = json.loads((PLATFORMS / "wechat_shop" / "pushes.json").read_text(encoding="utf-8"))
TOKEN, APPID = "brandtoken", "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # WeChat's documented sample key


def test_encryption_round_trips_and_matches_the_documented_layout() -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    encrypted = crypto.encrypt("订单".encode(), random16=b"0123456789abcdef")
    assert crypto.decrypt(encrypted) == "订单".encode()
    raw = base64.b64decode(encrypted)
    assert len(raw) % 32 == 0
    other = WeChatCrypto(TOKEN, AES_KEY, "wx-someone-else")
    with pytest.raises(Refused, match="appid"):
        other.decrypt(encrypted)
    assert signature("b", "a", "c") == signature("c", "b", "a")


def test_unsigned_wrongly_signed_and_stale_messages_are_refused() -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    enc = crypto.encrypt(b"{}")
    now = 1717000000.0
    good = crypto.sign("1717000000", "n1", enc)
    crypto.verify(good, "1717000000", "n1", enc, now)
    with pytest.raises(Refused, match="缺少签名"):
        crypto.verify(None, "1717000000", "n1", enc, now)
    with pytest.raises(Refused, match="签名不符"):
        crypto.verify(good, "1717000000", "n2", enc, now)
    with pytest.raises(Refused, match="过期"):
        crypto.verify(good, "1717000000", "n1", enc, now + 301)


def _shop_api() -> Starlette:
    """The shop API as documented: /cgi-bin/token, then /channels/ec/order/get."""

    async def token(request: Request) -> JSONResponse:
        assert request.query_params["appid"] == APPID
        return JSONResponse({"access_token": "AT-1", "expires_in": 7200})

    async def order(request: Request) -> JSONResponse:
        if request.query_params.get("access_token") != "AT-1":
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        order_id = (await request.json())["order_id"]
        return JSONResponse({"errcode": 0, "errmsg": "ok", "order": DOC["orders"][order_id]})

    return Starlette(
        routes=[
            Route("/cgi-bin/token", token, methods=["GET"]),
            Route("/channels/ec/order/get", order, methods=["POST"]),
        ]
    )


@pytest.fixture
def shop_api() -> Iterator[StandIn]:
    server = StandIn(_shop_api())
    server.start()
    yield server
    server.stop()


def _pushed(
    crypto: WeChatCrypto, push: dict[str, Any], ts: int, sign: bool = True
) -> tuple[dict, bytes]:
    message = {**push, "CreateTime": ts}
    enc = crypto.encrypt(json.dumps(message).encode())
    params = {"timestamp": str(ts), "nonce": "n" + str(ts), "encrypt_type": "aes"}
    if sign:
        params["msg_signature"] = crypto.sign(params["timestamp"], params["nonce"], enc)
    body = json.dumps({"ToUserName": push["ToUserName"], "Encrypt": enc}).encode()
    return params, body


def test_pushes_become_platform_orders_once_and_replay_adds_nothing(
    store: StoreProcess, shop_api: StandIn, tmp_path: Path
) -> None:
    sid = store.new_session("视频号小店")
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    capture_path = tmp_path / "shop.jsonl"

    async def scenario() -> list[tuple[int, str]]:
        client = StoreClient(store.url, store.token("ingest"))
        sink = StoreSink(client, sid, "wechat_shop")
        api = ShopApi(shop_api.url, APPID, "app-secret")
        capture = CaptureWriter(capture_path)
        app = receiver_app(crypto, sink, api, capture=capture)
        answers = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://brand.example") as wx:
            now = int(time.time())
            for round_ in range(2):  # WeChat pushes again when unsure: nothing doubles
                for push in DOC["pushes"]:
                    params, body = _pushed(crypto, push, now)
                    r = await wx.post("/wechat/shop", params=params, content=body)
                    answers.append((r.status_code, r.text))
                del round_
            # A forged, an unsigned and a stale push are refused with their reason.
            params, body = _pushed(crypto, DOC["pushes"][1], now)
            forged = await wx.post("/wechat/shop", params={**params, "nonce": "x"}, content=body)
            params, body = _pushed(crypto, DOC["pushes"][1], now, sign=False)
            unsigned = await wx.post("/wechat/shop", params=params, content=body)
            params, body = _pushed(crypto, DOC["pushes"][1], now - 600)
            stale = await wx.post("/wechat/shop", params=params, content=body)
            answers += [(r.status_code, r.text) for r in (forged, unsigned, stale)]
            # The URL check (明文 echostr signed with the token).
            check = {"timestamp": str(now), "nonce": "abc", "echostr": "e-123"}
            check["signature"] = signature(TOKEN, check["timestamp"], check["nonce"])
            answers.append(((await wx.get("/wechat/shop", params=check)).status_code, "echo"))
            bad = await wx.get("/wechat/shop", params={**check, "signature": "0"})
            answers.append((bad.status_code, "bad echo"))
        assert sink.health.dropped == 3
        capture.close()
        await api.aclose()
        await client.aclose()
        return answers

    answers = run_async(scenario())
    assert answers[:10] == [(200, "success")] * 10
    assert [a[0] for a in answers[10:13]] == [403, 403, 403]
    assert "签名不符" in answers[10][1]
    assert "缺少签名" in answers[11][1]
    assert "过期" in answers[12][1]
    assert answers[13:] == [(200, "echo"), (403, "bad echo")]
    events = platform_log(store, sid)
    assert [(e["data"]["platform_order_id"], e["data"]["status"]) for e in events] == [
        ("3705115058471208928", "paid"),
        ("3705115058471209001", "paid"),
        ("3705115058471209001", "cancelled"),
    ]
    paid = events[0]["data"]
    assert paid["amount"] == 298.0
    assert paid["quantity"] == 1
    assert paid["product_id"] == "10000029374312"
    assert events[1]["data"]["amount"] == 29.7  # 3 x 9.90 without a real_price
    # The log keeps the buyer's openid as a pseudonym (tag), never the openid itself.
    assert paid["platform_user"]["platform"] == "wechat_shop"
    assert "handle" not in paid["platform_user"]
    assert "oZ1aB2cD3eF4gH5iJ6kL7mN8oP9q" not in str(events)
    # The capture replays into a fresh session, twice, without duplicates.
    fresh = store.new_session("回放")
    # The capture holds the repeated pushes too: they are duplicates the first time already.
    for expected in ("accepted 3 duplicates 3", "accepted 0 duplicates 6"):
        result = ingest_file(store, fresh, "wechat_shop", capture_path)
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout
    assert len(platform_log(store, fresh)) == 3
