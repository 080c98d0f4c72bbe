"""Generic signed webhooks: ``POST /sessions/{sid}/webhooks/{source}``.

No bearer token: the body's HMAC-SHA256 under the source's secret is the credential
(``X-Signature: sha256=<hex>``). Each source has a mapping file ``<source>.toml`` (or
``.json``) in the folder named by ``CONSOLE_WEBHOOKS_DIR`` (``console.domain.webhooks``);
its ``secret_env`` names the environment variable holding the secret (or ``secret`` holds it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request, Response

from console.domain.webhooks import (
    MappingError,
    WebhookMapping,
    map_message,
    messages_of,
    parse_mapping,
)
from console.store.deps import Context, json_response
from console.store.errors import ApiError, problem
from console.store.ingest import store_events
from console.store.messages import json_syntax_reason
from console.store.validation import BatchError, parse_batch

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1")
WEBHOOKS_DIR_ENV = "CONSOLE_WEBHOOKS_DIR"
_SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def load_source(source: str) -> tuple[WebhookMapping, bytes] | None:
    """The source's mapping and secret, or None when it is not configured."""
    folder = os.environ.get(WEBHOOKS_DIR_ENV, "")
    if not folder or not _SOURCE.fullmatch(source):
        return None
    for suffix in (".toml", ".json"):
        path = Path(folder) / f"{source}{suffix}"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            raw = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
            secret = raw.get("secret") or os.environ.get(str(raw.get("secret_env", "")), "")
            if not secret:
                return None
            try:
                return parse_mapping(source, raw), str(secret).encode()
            except MappingError as exc:
                log.error("webhook mapping %s is broken: %s", path, exc)
                raise problem(500, f"mapping.{exc.field}", exc.reason) from exc
    return None


def signature_of(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


@router.post(
    "/sessions/{sid}/webhooks/{source}",
    openapi_extra={"security": [], "description": "HMAC-SHA256 signed body (X-Signature)"},
)
async def webhook(
    sid: str,
    source: str,
    request: Request,
    ctx: Context,
    x_signature: Annotated[str | None, Header()] = None,
) -> Response:
    """A platform's (or the mini-program's) JSON message(s), mapped to room events."""
    body = await request.body()
    configured = load_source(source)
    if configured is None:
        log.warning("webhook %s refused: source not configured", source)
        raise problem(401, "source", f"来源 {source[:40]!r} 未配置 webhook 密钥")
    mapping, secret = configured
    if not x_signature:
        log.warning("webhook %s refused: unsigned", source)
        raise problem(401, "X-Signature", "缺少签名（X-Signature: sha256=<hex>）")
    if not hmac.compare_digest(x_signature.strip().lower(), signature_of(secret, body)):
        log.warning("webhook %s refused: wrong signature", source)
        raise problem(401, "X-Signature", "签名不符")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise problem(400, "body", json_syntax_reason(str(exc))) from exc
    received_at = ctx.clock()
    try:
        events = [map_message(mapping, m, received_at) for m in messages_of(mapping, document)]
    except MappingError as exc:
        raise problem(422, exc.field, exc.reason) from exc
    try:
        parsed = parse_batch(orjson.dumps({"events": events}))
    except BatchError as exc:
        raise ApiError(exc.status, exc.problems) from exc
    result: dict[str, Any] = await store_events(ctx, sid, parsed)
    return json_response(result)
