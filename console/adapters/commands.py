"""The adapters' sub-commands: ``ingest-file`` (a contract) and ``adapter SOURCE``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from tenacity import RetryError

from console.adapters.capture import CaptureError, CaptureWriter, read_capture
from console.adapters.registry import STATS_SOURCES, UnknownSource, mapper_for
from console.adapters.replay import ReplayResult, replay
from console.adapters.sink import StoreSink
from console.adapters.wecom import PollResult, StatsSink, WeComError, put_capture, run_once
from console.arguments import non_negative_float
from console.sync.client import StoreClient, StoreError


class CommandError(Exception):
    """Bad arguments or input: one line for the user."""


def add_commands(commands: Any) -> None:
    ingest = commands.add_parser(
        "ingest-file", help="replay a capture of platform messages into a session (ingest token)"
    )
    _store_options(ingest)
    ingest.add_argument(
        "--source", required=True, metavar="NAME", help="tiktok, wechat_shop, wecom, ..."
    )
    ingest.add_argument("file", type=Path, metavar="FILE", help="JSON Lines capture")
    ingest.add_argument(
        "--speed",
        type=non_negative_float,
        default=0.0,
        help="times the recorded pace (default 0: as fast as possible)",
    )
    ingest.add_argument(
        "--keep-time", action="store_true", help="keep the recorded times (default: as if now)"
    )
    ingest.add_argument("--mappings", type=Path, metavar="DIR", help="webhook mapping files")

    adapter = commands.add_parser("adapter", help="run a live platform adapter (ingest token)")
    kinds = adapter.add_subparsers(dest="adapter", metavar="SOURCE", required=True)
    tiktok = kinds.add_parser("tiktok", help="follow a TikTok LIVE room")
    _store_options(tiktok)
    tiktok.add_argument("--user", required=True, help="the creator's @unique_id")
    tiktok.add_argument("--capture", type=Path, metavar="FILE", help="append raw messages here")

    shop = kinds.add_parser(
        "wechat-shop", help="receive 微信小店 order pushes (HTTPS behind a proxy)"
    )
    _store_options(shop)
    shop.add_argument("--host", default="127.0.0.1")
    shop.add_argument("--port", type=int, default=8780)
    shop.add_argument("--capture", type=Path, metavar="FILE", help="append raw messages here")
    shop.add_argument("--api", default="https://api.weixin.qq.com", help="the shop API's base URL")

    wecom = kinds.add_parser(
        "wecom", help="fetch 企业微信直播 watch statistics once, after the show"
    )
    _store_options(wecom)
    wecom.add_argument("--corpid", required=True, help="the corp's id (企业ID)")
    wecom.add_argument(
        "--secret", required=True, help="the secret of the app allowed to read livings"
    )
    wecom.add_argument("--living-id", required=True, metavar="ID", help="the living's livingid")
    wecom.add_argument("--base-url", default="https://qyapi.weixin.qq.com", metavar="URL")
    wecom.add_argument("--capture", type=Path, metavar="FILE", help="append raw pages here")


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar="URL")
    parser.add_argument("--token", required=True, help="an ingest token")
    parser.add_argument("--session", required=True, metavar="SID")


def run(args: argparse.Namespace) -> int:
    if args.command == "ingest-file" and args.source in STATS_SOURCES:
        print(asyncio.run(ingest_stats_file(args)).line())
        return 0
    if args.command == "ingest-file":
        result = asyncio.run(ingest_file(args))
        print(
            f"messages {result.messages} events {result.events} accepted {result.accepted} "
            f"duplicates {result.duplicates} dropped {result.dropped}"
        )
        return 0
    return asyncio.run(_run_adapter(args))


async def ingest_file(args: argparse.Namespace) -> ReplayResult:
    if not args.file.is_file():
        raise CommandError(f"no such file: {args.file}")
    try:
        mapper = mapper_for(args.source, args.mappings)
    except UnknownSource as exc:
        raise CommandError(str(exc)) from exc
    client = StoreClient(args.store, args.token)
    sink = StoreSink(client, args.session, args.source, give_up_after_s=60.0)
    try:
        return await replay(
            read_capture(args.file),
            mapper,
            sink,
            speed=args.speed or None,
            keep_time=args.keep_time,
        )
    except CaptureError as exc:
        raise CommandError(str(exc)) from exc
    except StoreError as exc:
        raise CommandError(f"store: {exc.reason}") from exc
    finally:
        await client.aclose()


async def ingest_stats_file(args: argparse.Namespace) -> PollResult:
    """A capture of a platform's statistics, put into the session's platform-stats again."""
    if not args.file.is_file():
        raise CommandError(f"no such file: {args.file}")
    client = StoreClient(args.store, args.token)
    try:
        return await put_capture(read_capture(args.file), StatsSink(client, args.session))
    except CaptureError as exc:
        raise CommandError(str(exc)) from exc
    except StoreError as exc:
        raise CommandError(f"store: {exc.reason}") from exc
    finally:
        await client.aclose()


async def _run_adapter(args: argparse.Namespace) -> int:
    client = StoreClient(args.store, args.token)
    capture = CaptureWriter(args.capture) if args.capture else None
    if args.adapter == "wecom":
        return await _run_wecom(args, client, capture)
    source = {"tiktok": "tiktok", "wechat-shop": "wechat_shop"}[args.adapter]
    sink = StoreSink(client, args.session, source)
    try:
        if args.adapter == "tiktok":
            from console.adapters.tiktok import TikTokAdapter

            await TikTokAdapter(sink, capture=capture).run(args.user)
        elif args.adapter == "wechat-shop":
            from console.adapters.wechat_shop import serve_receiver

            await serve_receiver(sink, args.host, args.port, args.api, capture=capture)
    finally:
        if capture is not None:
            capture.close()
        await client.aclose()
    return 0


async def _run_wecom(
    args: argparse.Namespace, client: StoreClient, capture: CaptureWriter | None
) -> int:
    try:
        result = await run_once(
            client,
            args.session,
            base_url=args.base_url,
            corpid=args.corpid,
            secret=args.secret,
            livingid=args.living_id,
            capture=capture,
        )
    except (WeComError, RetryError) as exc:
        raise CommandError(f"wecom: {exc}") from exc
    except StoreError as exc:
        raise CommandError(f"store: {exc.reason}") from exc
    finally:
        if capture is not None:
            capture.close()
        await client.aclose()
    print(result.line())
    return 0
