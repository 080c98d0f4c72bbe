"""微信小店 (视频号小店) order pushes -> ``platform_order`` events.

The adapter runs its own small ASGI receiver (behind the brand's HTTPS proxy): the URL
check (GET with echostr) and the encrypted order messages (POST, "安全模式"). A message is
refused, logged and counted unless its msg_signature matches our token and it is at most five
minutes old. A push carries only the order id, so for a payment or a cancellation the
receiver asks the shop API for the order (``/channels/ec/order/get``); the capture keeps the
message with that order, so a replay needs no network.

- channels_ec_order_pay -> platform_order ``paid``; channels_ec_order_cancel -> ``cancelled``;
- channels_ec_order_new (placed, unpaid), _deliver and _confirm map to nothing: an unpaid
  order is no sale, and delivery is not a room fact.
One event per product line, id ``wechat_shop:<order_id>:<status>:<line>``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree import ElementTree

import httpx
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from console.adapters.base import RawMessage, event_id, platform_ts, platform_user, store_event
from console.adapters.capture import CaptureWriter
from console.adapters.sink import StoreSink
from console.adapters.wechat_crypto import Refused, WeChatCrypto, signature
from console.domain.events import PlatformOrderStatus

log = logging.getLogger(__name__)
SOURCE = PLATFORM = "wechat_shop"
STATUS_OF = {
    "channels_ec_order_pay": PlatformOrderStatus.PAID.value,
    "channels_ec_order_cancel": PlatformOrderStatus.CANCELLED.value,
}
KINDS = frozenset(
    {
        "channels_ec_order_new",
        "channels_ec_order_pay",
        "channels_ec_order_cancel",
        "channels_ec_order_deliver",
        "channels_ec_order_confirm",
    }
)


class WeChatShopMapper:
    """Payload: ``{"message": <decrypted push>, "order": <order/get's "order"> | null}``."""

    source = SOURCE

    def map(self, message: RawMessage) -> list[dict[str, Any]]:
        status = STATUS_OF.get(message.kind)
        push = message.payload.get("message") or {}
        order = message.payload.get("order") or {}
        if status is None or not order:
            return []
        order_id = str(order.get("order_id") or push.get("order_info", {}).get("order_id"))
        ts = platform_ts(push.get("CreateTime"), message.recv_ts)
        handle = str(order.get("openid") or push.get("FromUserName") or "")
        lines = (order.get("order_detail") or {}).get("product_infos") or []
        events = []
        for index, line in enumerate(lines):
            quantity = int(line.get("sku_cnt", 1))
            cents = line.get("real_price")
            if cents is None:
                cents = int(line.get("sale_price", 0)) * quantity
            data: dict[str, Any] = {
                "platform": PLATFORM,
                "platform_order_id": order_id,
                "status": status,
                "product_id": str(line.get("product_id", "")),
                "quantity": quantity,
                "amount": round(int(cents) / 100, 2),
            }
            if handle:
                data["platform_user"] = platform_user(PLATFORM, handle)
            events.append(
                store_event(event_id(SOURCE, order_id, status, index), "platform_order", ts, data)
            )
        return events


class ShopApi:
    """The shop's order API (access_token by appid + secret, then order/get)."""

    def __init__(self, base_url: str, appid: str, secret: str) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=10.0)
        self._appid, self._secret = appid, secret
        self._token = ""
        self._token_until = 0.0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _access_token(self) -> str:
        if not self._token or time.time() > self._token_until:
            answer = (
                await self._http.get(
                    "/cgi-bin/token",
                    params={
                        "grant_type": "client_credential",
                        "appid": self._appid,
                        "secret": self._secret,
                    },
                )
            ).json()
            if "access_token" not in answer:
                raise RuntimeError(f"shop API token: {answer.get('errmsg', answer)}")
            self._token = str(answer["access_token"])
            self._token_until = time.time() + int(answer.get("expires_in", 7200)) - 300
        return self._token

    async def order(self, order_id: str) -> dict[str, Any]:
        response = await self._http.post(
            "/channels/ec/order/get",
            params={"access_token": await self._access_token()},
            json={"order_id": order_id},
        )
        answer = response.json()
        if answer.get("errcode", 0) != 0:
            raise RuntimeError(f"order/get {order_id}: {answer.get('errmsg')}")
        order: dict[str, Any] = answer["order"]
        return order


def _encrypted_of(body: bytes) -> str:
    """The Encrypt field of a JSON or XML push body."""
    text = body.strip()
    if text.startswith(b"{"):
        return str(orjson.loads(text).get("Encrypt", ""))
    node = ElementTree.fromstring(text).find("Encrypt")
    return node.text or "" if node is not None else ""


def receiver_app(
    crypto: WeChatCrypto,
    sink: StoreSink,
    api: ShopApi,
    *,
    capture: CaptureWriter | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    mapper = WeChatShopMapper()

    async def verify_url(request: Request) -> Response:
        q = request.query_params
        echostr = q.get("echostr", "")
        if q.get("msg_signature"):
            try:
                crypto.verify(
                    q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), echostr, clock()
                )
                return PlainTextResponse(crypto.decrypt(echostr).decode())
            except Refused as exc:
                log.warning("wechat_shop: URL check refused: %s", exc.reason)
                return PlainTextResponse(exc.reason, status_code=403)
        expected = signature(crypto.token, q.get("timestamp", ""), q.get("nonce", ""))
        if q.get("signature") != expected:
            log.warning("wechat_shop: URL check refused: 签名不符")
            return PlainTextResponse("签名不符", status_code=403)
        return PlainTextResponse(echostr)

    async def push(request: Request) -> Response:
        q = request.query_params
        recv_ts = clock()
        try:
            encrypted = _encrypted_of(await request.body())
            crypto.verify(
                q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), encrypted, recv_ts
            )
            message = orjson.loads(crypto.decrypt(encrypted))
        except (Refused, ValueError, ElementTree.ParseError) as exc:
            reason = exc.reason if isinstance(exc, Refused) else f"消息格式错误：{exc}"
            sink.refused(reason)
            return PlainTextResponse(reason, status_code=403)
        kind = str(message.get("Event", ""))
        sink.received(recv_ts)
        sink.health.connected = True
        if kind in KINDS:
            order = None
            if kind in STATUS_OF:
                order_id = str(message.get("order_info", {}).get("order_id", ""))
                order = await api.order(order_id)  # an error: 500, WeChat pushes it again
            raw = RawMessage(SOURCE, kind, {"message": message, "order": order}, recv_ts)
            if capture is not None:
                capture.write(raw)
            await sink.send(mapper.map(raw), recv_ts=recv_ts)
        return PlainTextResponse("success")

    return Starlette(
        routes=[
            Route("/wechat/shop", verify_url, methods=["GET"]),
            Route("/wechat/shop", push, methods=["POST"]),
        ]
    )


async def serve_receiver(
    sink: StoreSink,
    host: str,
    port: int,
    api_base: str,
    *,
    capture: CaptureWriter | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run the receiver until stopped (token, key and app secret from the environment)."""
    values = env or os.environ
    crypto = WeChatCrypto(
        values["WECHAT_SHOP_TOKEN"], values["WECHAT_SHOP_AES_KEY"], values["WECHAT_SHOP_APPID"]
    )
    api = ShopApi(api_base, values["WECHAT_SHOP_APPID"], values["WECHAT_SHOP_SECRET"])
    app = receiver_app(crypto, sink, api, capture=capture)
    try:
        await uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).serve()
    finally:
        await api.aclose()
