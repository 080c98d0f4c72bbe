"""Sub-commands of ``python main.py`` (see DESIGN.md's command-line contract)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from console import __version__

PROG = "python main.py"


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return int(text)


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--screenshot", type=Path, metavar="FILE", help="save a PNG of the window")
    parser.add_argument(
        "--exit-after",
        type=_positive_float,
        metavar="SECONDS",
        help="close after this many seconds (taking the screenshot first)",
    )
    parser.add_argument("--cache", type=Path, metavar="PATH", help="the console's local cache file")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="直播中控台: live-host console for segmented private-domain live commerce. "
        "Without a sub-command: the embedded demo (store + simulated broadcast + console).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--scenario", default="xianzhida-summer-light", help="demo scenario (embedded mode)"
    )
    parser.add_argument(
        "--speed", type=_positive_float, default=10.0, help="demo speed factor (embedded mode)"
    )
    parser.add_argument("--db", type=Path, help="store database (embedded mode; default: data dir)")
    _add_window_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the store (HTTP API over SQLite)")
    serve.add_argument("--db", type=Path, required=True, help="SQLite file (created if missing)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8765, help="TCP port (0: any free port)")
    serve.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)

    token = commands.add_parser("token", help="manage role tokens")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_commands.add_parser("create", help="create a token and print it once")
    create.add_argument("--db", type=Path, required=True)
    create.add_argument(
        "--role", required=True, choices=("host", "assistant", "operator", "ingest")
    )
    create.add_argument("--label", default="", help="a note on who holds it")
    revoke = token_commands.add_parser("revoke", help="revoke a token")
    revoke.add_argument("--db", type=Path, required=True)
    revoke.add_argument("token")

    seed = commands.add_parser("seed-demo", help="load the demo members into a store database")
    seed.add_argument("--db", type=Path, required=True)

    simulate = commands.add_parser("simulate", help="drive a scenario against a running store")
    simulate.add_argument("--store", required=True, metavar="URL")
    simulate.add_argument("--token", required=True)
    simulate.add_argument("--scenario", required=True, metavar="NAME")
    simulate.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="time compression (0: as fast as possible)",
    )
    simulate.add_argument("--session", metavar="SID", help="send into this session (ingest token)")
    simulate.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)

    live = commands.add_parser("console", help="open the live console against a running store")
    live.add_argument("--store", required=True, metavar="URL")
    live.add_argument("--token", required=True)
    live.add_argument("--session", metavar="SID", help="default: the newest live session")
    _add_window_options(live)
    return parser


def main(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.screenshot is None) != (args.exit_after is None) and args.screenshot is not None:
        parser.error("--screenshot needs --exit-after SECONDS")
    try:
        return _dispatch(args)
    except CliError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command is None:
        from console.launcher import run_embedded

        return run_embedded(args)
    if command == "serve":
        return _serve(args)
    if command == "token":
        return _token(args)
    if command == "seed-demo":
        return _seed_demo(args.db)
    if command == "simulate":
        return _simulate(args)
    if command == "console":
        from console.ui.app import run_console

        return run_console(
            store_url=args.store,
            token=args.token,
            session=args.session,
            cache_path=args.cache,
            screenshot=args.screenshot,
            exit_after=args.exit_after,
        )
    raise CliError(f"unknown command {command!r}")


def _serve(args: argparse.Namespace) -> int:
    from console.store.server import serve, watch_parent

    if args.exit_with_parent:
        watch_parent()
    try:
        serve(args.db, args.host, args.port)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    return 0


def _token(args: argparse.Namespace) -> int:
    from console.store import auth
    from console.store.schema import open_store

    db = open_store(args.db)
    try:
        if args.token_command == "create":
            print(auth.create_token(db, auth.Role(args.role), args.label))
            return 0
        if not auth.revoke_token(db, args.token):
            raise CliError("no such active token")
        print("revoked")
        return 0
    finally:
        db.close()


def _seed_demo(db_path: Path) -> int:
    from console.sim.demo_members import load_demo_members
    from console.store.repository import upsert_members
    from console.store.schema import open_store

    db = open_store(db_path)
    try:
        count = upsert_members(db, load_demo_members())
    finally:
        db.close()
    print(f"loaded {count} demo members into {db_path}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from console.sim.simulate import SimulationError, simulate
    from console.store.server import watch_parent

    if args.exit_with_parent:
        watch_parent()
    try:
        return asyncio.run(
            simulate(args.store, args.token, args.scenario, args.speed, args.session)
        )
    except SimulationError as exc:
        raise CliError(str(exc)) from exc
