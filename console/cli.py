"""Sub-commands of ``python main.py`` (see DESIGN.md's command-line contract)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from console import __version__
from console.arguments import non_negative_float
from console.logs import log_file, setup_logging
from console.store.target import target_arg, without_password

PROG = "python main.py"
ERROR_PREFIX = "main.py：错误："
"""How every failure line starts (argparse's usage errors and the commands' own)."""
log = logging.getLogger(__name__)


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


# argparse's own messages (it words them through gettext), in the users' language. Each key
# is argparse's msgid, placeholders and all; one it says that is not here stays English.
ARGPARSE_ZH: dict[str, str] = {
    "usage: ": "用法：",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "无效的选择 %(value)r（可选：%(choices)s）"
    ),
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多一个值",
    "expected at least one argument": "至少需要一个值",
    "invalid %(type)s value: %(value)r": "%(value)r 不是有效的值（应为 %(type)s）",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "需要以下参数之一：%s",
    "ambiguous option: %(option)s could match %(matches)s": (
        "选项 %(option)s 有歧义，可能是：%(matches)s"
    ),
    "ignored explicit argument %r": "多余的值 %r",
    "unknown parser %(parser_name)r (choices: %(choices)s)": (
        "未知的子命令 %(parser_name)r（可选：%(choices)s）"
    ),
    "can't open '%(filename)s': %(error)s": "无法打开 '%(filename)s'：%(error)s",
    "unexpected option string: %s": "意外的选项：%s",
}


def _argparse_zh(message: str) -> str:
    return ARGPARSE_ZH.get(message, message)


def _argparse_nzh(singular: str, plural: str, n: int) -> str:
    if singular == "expected %s argument":
        return "需要 %s 个值"
    return singular if n == 1 else plural


@contextlib.contextmanager
def _chinese_argparse() -> Iterator[None]:
    """argparse's messages in Chinese while our parser runs (argparse looks ``_`` and
    ``ngettext`` up in its module at each call; anyone else's argparse is left as it was)."""
    module: Any = argparse
    saved = module._, module.ngettext
    module._, module.ngettext = _argparse_zh, _argparse_nzh
    try:
        yield
    finally:
        module._, module.ngettext = saved


class _Parser(argparse.ArgumentParser):
    """Every command's ``--help`` ends with where the log goes (sub-commands inherit it);
    usage errors read in Chinese: ``main.py：错误：缺少必需的参数：--db``."""

    def format_help(self) -> str:
        return f"{super().format_help()}\nlog file: {log_file()}\n"

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        with _chinese_argparse():
            return super().parse_args(args, namespace)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        with _chinese_argparse():
            return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        with _chinese_argparse():
            self.print_usage(sys.stderr)
        command = self.prog.removeprefix(PROG).strip()
        prefix = f"main.py {command}：错误：" if command else ERROR_PREFIX
        self.exit(2, f"{prefix}{message}\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是 2026-11-21 这样的日期：{text!r}") from None


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"不是有效的 TCP 端口：{text!r}")
    return int(text)


def _add_window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--screenshot", type=Path, metavar="FILE", help="save a PNG of the window")
    parser.add_argument(
        "--exit-after",
        type=non_negative_float,
        metavar="SECONDS",
        help="close after this many seconds (taking the screenshot first)",
    )
    parser.add_argument("--cache", type=Path, metavar="PATH", help="the console's local cache file")
    parser.add_argument(
        "--outbox", type=Path, metavar="PATH", help="the console's outbox of unsent commands"
    )


DB_HELP = "the store: a SQLite file or postgresql://USER@HOST:PORT/DB"


def _add_store_commands(commands: Any) -> None:
    """Sub-commands: serve and token."""
    serve = commands.add_parser("serve", help="run the store (HTTP API over SQLite or PostgreSQL)")
    serve.add_argument(
        "--db",
        type=target_arg,
        required=True,
        help="a SQLite file (created if missing) or postgresql://USER@HOST:PORT/DB",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8765, help="TCP port (0: any free port)")
    serve.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)

    token = commands.add_parser("token", help="manage role tokens")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_commands.add_parser("create", help="create a token and print it once")
    create.add_argument("--db", type=target_arg, required=True, help=DB_HELP)
    create.add_argument(
        "--role",
        required=True,
        choices=("host", "assistant", "operator", "ingest", "overlay", "leader"),
    )
    create.add_argument("--label", default="", help="a note on who holds it")
    create.add_argument(
        "--leader",
        metavar="POINT_ID",
        default="",
        help="with --role leader: the 团长's pickup point (their page shows only its orders)",
    )
    revoke = token_commands.add_parser("revoke", help="revoke a token")
    revoke.add_argument("--db", type=target_arg, required=True, help=DB_HELP)
    revoke.add_argument("token")

    move = commands.add_parser(
        "migrate",
        help="move a SQLite store to an empty PostgreSQL database (counts and checksums)",
    )
    move.add_argument(
        "--from", dest="source", type=Path, required=True, metavar="PATH.db", help="SQLite file"
    )
    move.add_argument(
        "--to",
        dest="target",
        type=_postgres_arg,
        required=True,
        metavar="postgresql://...",
        help="an empty PostgreSQL database (its schema is created)",
    )


IMPORT_KINDS = ("members", "orders", "social", "products", "points")
"""Row files (CSV, JSON Lines); ``catalog`` is a session's TOML file (lineup, offers)."""

KIND_NAMES = {
    "members": "会员",
    "orders": "订单",
    "social": "社交行为",
    "products": "商品",
    "points": "自提点",
    "reservations": "预约",
}
"""What an import kind is called in the summary line."""


def _add_data_commands(commands: Any) -> None:
    """Sub-commands: seed-demo, import, segment."""
    seed = commands.add_parser(
        "seed-demo", help="load the demo brand (members, orders, shares) and segment it"
    )
    seed.add_argument("--db", type=target_arg, required=True, help=DB_HELP)

    from console.store.imports.mapping import fields_help

    importer = commands.add_parser(
        "import",
        help="import members, orders, social actions, products or pickup points (CSV or JSON "
        "Lines), or a session's catalog (TOML)",
        description="Import a CSV or JSON Lines file: checked row by row, applied whole or\n"
        "not at all (unless --skip-bad). catalog: a session's TOML file, with --session SID.",
        epilog=fields_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("kind", choices=(*IMPORT_KINDS, "catalog", "reservations"))
    importer.add_argument("file", type=Path)
    importer.add_argument("--db", type=target_arg, required=True, help=DB_HELP)
    importer.add_argument(
        "--map",
        default="",
        metavar="FIELD=COLUMN,...",
        help="our field names to the file's columns, e.g. member_id=CustomerID,ts=InvoiceDate",
    )
    importer.add_argument(
        "--map-file", type=Path, help="a TOML file with [map], [options] and (orders) [status]"
    )
    importer.add_argument(
        "--lines",
        action="store_true",
        help="orders: each row is a line of an order (an invoice line); lines of one order_id "
        "add up. Without it each row is one order and a repeated order_id is refused",
    )
    importer.add_argument(
        "--status-map",
        default="",
        metavar="VALUE=STATUS,...",
        help="orders: the export's own status words, e.g. '已拒收=cancelled,部分退款=paid' "
        "(placed, paid, cancelled, refunded)",
    )
    importer.add_argument("--format", choices=("csv", "jsonl"), help="default: by file suffix")
    importer.add_argument("--encoding", default=None, help="default: UTF-8, else GB18030")
    importer.add_argument("--dayfirst", action="store_true", help="01/02/2024 is 1 February")
    importer.add_argument(
        "--utc-offset",
        type=float,
        default=None,
        metavar="HOURS",
        help="zone of times written without one (default +8, China)",
    )
    importer.add_argument(
        "--skip-bad",
        action="store_true",
        help="apply the good rows and write the bad ones to a rejects file",
    )
    importer.add_argument("--rejects", type=Path, help="default: FILE.rejected.csv")
    importer.add_argument(
        "--session",
        metavar="SID",
        help="with catalog: the session whose lineup it sets; with reservations: the session "
        "reserved",
    )

    invite = commands.add_parser("invite", help="invitations per circle before a session")
    invite_commands = invite.add_subparsers(dest="invite_command", metavar="ACTION", required=True)
    export = invite_commands.add_parser(
        "export",
        help="write the WeCom mass-send CSV, the SMS CSV and each 团长's group text, and record "
        "what was sent (monthly cap, funnel)",
    )
    export.add_argument("--db", type=target_arg, required=True, help=DB_HELP)
    export.add_argument("--session", metavar="SID", required=True)
    export.add_argument("--file", type=Path, required=True, help="the templates (TOML)")
    export.add_argument(
        "--out",
        type=Path,
        required=True,
        help="a new folder for the files (one already holding an export's files is refused)",
    )

    followups = commands.add_parser("followups", help="follow-up tasks after a show (SOP)")
    followup_commands = followups.add_subparsers(
        dest="followups_command", metavar="ACTION", required=True
    )
    make_tasks = followup_commands.add_parser(
        "create",
        help="turn the rule file into tasks for an ended session's buyers (running it again "
        "creates nothing new)",
    )
    make_tasks.add_argument("--db", type=target_arg, required=True, help=DB_HELP)
    make_tasks.add_argument("--session", metavar="SID", required=True)
    make_tasks.add_argument("--file", type=Path, required=True, help="the rules (TOML)")

    segment = commands.add_parser("segment", help="score every member and assign circles")
    segment.add_argument("--db", type=target_arg, required=True, help=DB_HELP)
    segment.add_argument(
        "--as-of",
        type=_date,
        metavar="YYYY-MM-DD",
        help="score as of this day (default: today; refused when the window holds no order)",
    )
    segment.add_argument(
        "--window-days",
        type=int,
        metavar="N",
        help="days of history the scores look at, ending with --as-of (default: the rules')",
    )
    segment.add_argument("--force", action="store_true", help="run even while a session is live")


def _add_live_commands(commands: Any) -> None:
    """Sub-commands: simulate, segments, replay, report, console."""
    simulate = commands.add_parser("simulate", help="drive a scenario against a running store")
    simulate.add_argument("--store", required=True, metavar="URL")
    simulate.add_argument("--token", required=True)
    simulate.add_argument("--scenario", required=True, metavar="NAME")
    simulate.add_argument(
        "--speed",
        type=non_negative_float,
        default=1.0,
        help="time compression (0: as fast as possible)",
    )
    simulate.add_argument("--session", metavar="SID", help="send into this session (ingest token)")
    simulate.add_argument(
        "--scale",
        type=non_negative_float,
        default=1.0,
        metavar="FRACTION",
        help="play this fraction of the crowd: members, pickup points, watchers, buyers "
        "(default 1; 0.1 for a quick rehearsal of a big scenario)",
    )
    simulate.add_argument(
        "--until",
        type=non_negative_float,
        metavar="MINUTE",
        help="stop at this minute of the scenario, leaving the session live (a rehearsal "
        "paused there: screenshots, a look at one moment)",
    )
    simulate.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)

    segments = commands.add_parser(
        "segments", help="open the operator's segmentation window (operator token)"
    )
    segments.add_argument("--store", required=True, metavar="URL")
    segments.add_argument("--token", required=True)
    _add_window_options(segments)

    replay = commands.add_parser(
        "replay", help="open the replay and review window of a session (operator token)"
    )
    replay.add_argument("--store", required=True, metavar="URL")
    replay.add_argument("--token", required=True)
    replay.add_argument("--session", required=True, metavar="SID")
    _add_window_options(replay)

    report = commands.add_parser(
        "report", help="write a session's review: stats.json, CSVs, PNG charts, report.html"
    )
    report.add_argument("--store", required=True, metavar="URL")
    report.add_argument("--token", required=True)
    report.add_argument("--session", required=True, metavar="SID")
    report.add_argument("--out", required=True, type=Path, metavar="DIR")

    live = commands.add_parser("console", help="open the live console against a running store")
    live.add_argument("--store", required=True, metavar="URL")
    live.add_argument("--token", required=True)
    live.add_argument("--session", metavar="SID", help="default: the newest live session")
    _add_window_options(live)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="直播中控台: live-host console for segmented private-domain live commerce. "
        "Without a sub-command: the embedded demo (store + simulated broadcast + console).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--scenario", default="xianzhida-summer-light", help="demo scenario (embedded mode)"
    )
    parser.add_argument(
        "--speed", type=non_negative_float, default=20.0, help="demo speed factor (embedded mode)"
    )
    parser.add_argument(
        "--until",
        type=non_negative_float,
        metavar="MINUTE",
        help="demo: stop the scenario at this minute, the show still live (embedded mode)",
    )
    parser.add_argument(
        "--db",
        type=target_arg,
        help="store database (embedded mode; default: data dir): a SQLite file or "
        "postgresql://USER@HOST:PORT/DB",
    )
    parser.add_argument(
        "--as",
        dest="role",
        choices=("assistant", "host"),
        default="assistant",
        help="embedded mode: the console's role (assistant: host view plus the commands)",
    )
    _add_window_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    _add_store_commands(commands)
    _add_data_commands(commands)
    _add_live_commands(commands)
    from console.adapters.commands import add_commands

    add_commands(commands)
    return parser


def main(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.screenshot is None) != (args.exit_after is None) and args.screenshot is not None:
        parser.error("--screenshot 需要同时给出 --exit-after SECONDS")
    setup_logging()
    log.info("%s %s started", PROG, args.command or "(embedded)")  # never argv: tokens
    try:
        return _dispatch(args)
    except CliError as exc:
        log.info("%s: %s", args.command or "embedded", exc)
        print(f"{ERROR_PREFIX}{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        unreachable = _unreachable_database(exc)
        if unreachable is not None:
            log.info("%s: %s", args.command or "embedded", unreachable)
            print(f"{ERROR_PREFIX}{unreachable}", file=sys.stderr)
            return 2
        # The traceback goes to the log file and to stderr (the stderr handler).
        log.exception("%s %s failed", PROG, args.command or "(embedded)")
        return 1


def _seed_demo_command(args: argparse.Namespace) -> int:
    return _seed_demo(args.db)


def _unreachable_database(exc: BaseException) -> str | None:
    """A PostgreSQL server that refused or could not be reached, said in one line."""
    if "psycopg" not in sys.modules:
        return None
    import psycopg

    if isinstance(exc, psycopg.OperationalError):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"无法打开数据库：{without_password(first)}"
    if isinstance(exc, psycopg.ProgrammingError) and "invalid" in str(exc).lower()[:40]:
        # libpq refusing the URL itself (its message may quote part of the password)
        return "数据库地址格式不对（请检查其中的百分号编码和参数）"
    return None


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command is None:
        from console.launcher import run_embedded

        return run_embedded(args)
    plain = _PLAIN_COMMANDS.get(command)
    if plain is not None:
        return plain(args)
    if command == "console":
        from console.ui.app import run_console

        return run_console(
            store_url=args.store,
            token=args.token,
            session=args.session,
            cache_path=args.cache,
            outbox_path=args.outbox,
            screenshot=args.screenshot,
            exit_after=args.exit_after,
        )
    if command == "segments":
        from console.ui.app import run_segments

        return run_segments(
            store_url=args.store,
            token=args.token,
            screenshot=args.screenshot,
            exit_after=args.exit_after,
        )
    if command == "report":
        return _report(args)
    if command == "replay":
        from console.ui.app import run_replay

        return run_replay(
            store_url=args.store,
            token=args.token,
            session=args.session,
            screenshot=args.screenshot,
            exit_after=args.exit_after,
        )
    raise CliError(f"未知的命令 {command!r}")


def _report(args: argparse.Namespace) -> int:
    import httpx

    from console.sync.client import StoreError
    from console.ui.app import make_application
    from console.ui.report import run_report

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # headless: charts only
    make_application()
    try:
        written = run_report(args.store, args.token, args.session, args.out)
    except StoreError as exc:
        raise CliError(f"存储拒绝了请求：{exc.reason}") from exc
    except httpx.TransportError as exc:
        raise CliError(f"无法连接存储 {args.store}：{exc}") from exc
    for path in written:
        print(path)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from console.store.server import serve, watch_parent

    if args.exit_with_parent:
        watch_parent()
    try:
        serve(args.db, args.host, args.port)
    except OSError as exc:
        raise CliError(f"无法在 {args.host}:{args.port} 上监听：{exc.strerror or exc}") from exc
    return 0


def _postgres_arg(value: str) -> Any:
    target = target_arg(value)
    if isinstance(target, Path):
        raise argparse.ArgumentTypeError(f"应为 postgresql://用户@主机:端口/库名，收到 {value!r}")
    return target


def _migrate(args: argparse.Namespace) -> int:
    from console.store.migrate import MigrationError, migrate, report_lines

    try:
        copies = migrate(args.source, args.target, lambda line: print(line, file=sys.stderr))
    except MigrationError as exc:
        raise CliError(str(exc)) from exc
    for line in report_lines(copies):
        print(line)
    return 0


def _token(args: argparse.Namespace) -> int:
    from console.store import auth
    from console.store.schema import open_store

    db = open_store(args.db)
    try:
        if args.token_command == "create":
            if args.leader and args.role != "leader":
                raise CliError("--leader POINT_ID 只能与 --role leader 一起使用")
            try:
                print(auth.create_token(db, auth.Role(args.role), args.label, args.leader))
            except auth.UnknownPoint as exc:
                raise CliError(str(exc)) from exc
            return 0
        if not auth.revoke_token(db, args.token):
            raise CliError("没有这个令牌，或它已被吊销")
        print("已吊销")
        return 0
    finally:
        db.close()


def _seed_demo(db_path: Path) -> int:
    from console.demo import seed_demo

    run = seed_demo(db_path)
    if not run:
        print(f"{db_path} 里已有会员，没有写入演示数据")
        return 0
    counts = " ".join(f"{k}={v}" for k, v in run["counts"].items())
    print(f"已向 {db_path} 写入 {run['members']} 位演示会员；圈层：{counts}")
    return 0


def _import(args: argparse.Namespace) -> int:
    if args.kind == "catalog":
        return _import_catalog(args)
    if args.kind == "reservations":
        return _import_reservations(args)
    from console.store.imports import import_file
    from console.store.imports.runner import ImportError_
    from console.store.schema import open_store
    from console.terminal import Progress

    options = _import_options(args)
    db = open_store(args.db)
    try:
        report = import_file(
            db, args.kind, args.file, options, args.format, Progress(f"导入 {args.file.name}")
        )
    except ImportError_ as exc:
        raise CliError(str(exc)) from exc
    finally:
        db.close()
    for problem in report.problems[:20]:
        print(problem, file=sys.stderr)
    if len(report.problems) > 20:
        print(f"……另有 {len(report.problems) - 20} 个问题", file=sys.stderr)
    if not report.applied:
        print(
            f"{report.file}：{report.rows} 行中有 {report.rejected} 行有问题，全部未导入"
            "（请修正这些行，或加 --skip-bad 只导入没有问题的行）",
            file=sys.stderr,
        )
        return 1
    print(_import_summary(report, args.kind))
    if report.rejects_file:
        print(f"有问题的行已写入 {report.rejects_file}")
    return 0


def _import_options(args: argparse.Namespace) -> Any:
    """The ImportOptions the flags say (``--map-file`` first, the flags over it): the same
    for every row-file kind, reservations included."""
    from console.store.imports import ImportOptions, MappingError, load_mapping_file, parse_map
    from console.store.imports.mapping import status_map

    if args.kind != "orders" and (args.lines or args.status_map):
        raise CliError("--lines 和 --status-map 只用于 orders")
    try:
        options = load_mapping_file(args.map_file, args.kind) if args.map_file else ImportOptions()
        options.mapping.update(parse_map(args.map, args.kind))
        options.status_map.update(status_map(args.status_map))
    except MappingError as exc:
        raise CliError(str(exc)) from exc
    options.lines = options.lines or args.lines
    options.dayfirst = options.dayfirst or args.dayfirst
    if args.utc_offset is not None:
        options.utc_offset_hours = args.utc_offset
    if args.encoding:
        options.encoding = args.encoding
    options.skip_bad = args.skip_bad
    options.rejects_path = args.rejects
    return options


def _import_summary(report: Any, kind: str) -> str:
    """One line: rows, what became of them, and (orders) how many of each status."""
    rejected = f"拒绝 {report.rejected}"
    if report.duplicates:
        rejected += f"（其中 {report.duplicates} 行编号重复）"
    merged = ""
    if report.merged:
        merged = (
            f"，{report.merged} 行明细并入所属订单"
            if kind == "orders"
            else f"，{report.merged} 行重复已合并"
        )
    what = KIND_NAMES.get(kind, kind)
    text = (
        f"{report.file}：{report.rows} 行，接受 {report.accepted}，{rejected}{merged}；"
        f"{what}新增 {report.inserted}，更新 {report.updated}，未变 {report.unchanged}"
    )
    if kind in ("orders", "social"):
        text += f"；新建会员 {report.members_created}"
    if report.by_status is not None:
        text += "；按状态：" + "，".join(f"{s} {n}" for s, n in report.by_status.items())
    return text + f"（{report.seconds:.1f} 秒）"


def _segment(args: argparse.Namespace) -> int:
    import time

    from console.store.schema import open_store
    from console.store.segmentation import RunRefused, SegmentationError, run_segmentation

    db = open_store(args.db)
    try:
        run = run_segmentation(
            db,
            args.as_of,
            time.time,
            trigger="cli",
            actor="cli",
            window_days=args.window_days,
            force=args.force,
        )
    except RunRefused as exc:
        raise CliError(exc.verdict.reason_cli()) from exc
    except SegmentationError as exc:
        raise CliError(str(exc)) from exc
    finally:
        db.close()
    total = max(run["members"], 1)
    print(
        f"分群 {run['id']}：截至 {run['as_of']}，{run['window_days']} 天窗口"
        f"（规则 {run['rules_version']}）：会员 {run['members']}，活跃 {run['active']}，"
        f"KOC {run['koc']}"
    )
    for segment, count in run["counts"].items():
        print(f"  {segment} {count:>9,}  {count / total:6.1%}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from console.sim.simulate import SimulationError, simulate
    from console.store.server import watch_parent

    if args.exit_with_parent:
        watch_parent()
    try:
        return asyncio.run(
            simulate(
                args.store,
                args.token,
                args.scenario,
                args.speed,
                args.session,
                args.scale,
                until_minute=args.until,
            )
        )
    except SimulationError as exc:
        raise CliError(str(exc)) from exc


def _adapters(args: argparse.Namespace) -> int:
    from console.adapters.commands import CommandError, run

    try:
        return run(args)
    except CommandError as exc:
        raise CliError(str(exc)) from exc


def _import_catalog(args: argparse.Namespace) -> int:
    from console.store.catalog_file import CatalogFileError, import_catalog
    from console.store.schema import open_store

    if not args.session:
        raise CliError("import catalog 需要 --session SID（要设置商品清单的场次）")
    db = open_store(args.db)
    try:
        summary = import_catalog(db, args.session, args.file)
    except CatalogFileError as exc:
        raise CliError(str(exc)) from exc
    finally:
        db.close()
    reach = summary["audience"]
    reached = f"；受众 {reach['reached']} 位会员" if reach else ""
    print(
        f"{args.file.name}：场次 {args.session}：商品 {summary['lineup']} 个，"
        f"优惠 {summary['offers']} 条{reached}"
    )
    return 0


def _import_reservations(args: argparse.Namespace) -> int:
    from console.domain.decisions import Refused
    from console.store.imports.runner import ImportError_
    from console.store.repository import NotFound
    from console.store.reservations import import_reservations
    from console.store.schema import open_store

    if not args.session:
        raise CliError("import reservations 需要 --session SID（预约的场次）")
    options = _import_options(args)  # --skip-bad, --rejects, --map-file, --encoding... too
    db = open_store(args.db)
    try:
        report = import_reservations(db, args.session, args.file, options)
    except (ImportError_, NotFound, Refused) as exc:
        raise CliError(str(exc)) from exc
    finally:
        db.close()
    if not report.applied:
        for problem in report.problems[:20]:
            print(problem, file=sys.stderr)
        raise CliError(
            f"{args.file.name}：{report.rows} 行中有 {report.rejected} 行有问题，全部未导入"
        )
    print(
        f"{args.file.name}：场次 {args.session}：新增预约 {report.inserted}，"
        f"已有 {report.unchanged}"
    )
    if report.rejects_file:
        print(f"跳过有问题的行 {report.rejected} 行，已写入 {report.rejects_file}")
    return 0


def _invite(args: argparse.Namespace) -> int:
    import time

    from console.domain.decisions import Refused
    from console.store.invitations import (
        ExportFolderInUse,
        InvitationFileError,
        export_invitations,
    )
    from console.store.repository import NotFound
    from console.store.schema import open_store

    db = open_store(args.db)
    try:
        summary = export_invitations(db, args.session, args.file, args.out, time.time)
    except (InvitationFileError, ExportFolderInUse, NotFound, Refused) as exc:
        raise CliError(str(exc)) from exc
    finally:
        db.close()
    channels = _counts(summary["by_channel"], CHANNEL_NAMES)
    skipped = _counts(summary["skipped"], SKIP_NAMES)
    print(
        f"场次 {args.session}：已邀请 {summary['invited']}（{channels}）；未邀请：{skipped}；"
        f"文件在 {args.out}（下次导出请换一个新文件夹：已有导出文件的文件夹会被拒绝，"
        "已发出的邀请不会被覆盖）"
    )
    return 0


CHANNEL_NAMES = {"wecom": "企业微信", "sms": "短信", "group": "团长群"}
SKIP_NAMES = {
    "opted_out": "已退订",
    "monthly_cap": "已达每月上限",
    "already_invited": "已邀请过",
    "unreachable": "无法联系",
    "not_in_audience": "不在本场受众",
}
"""The invitation summary's channels and reasons for skipping, as users call them."""


def _counts(counts: dict[str, int], names: dict[str, str]) -> str:
    """``{"sms": 3, "wecom": 5}`` -> "短信 3，企业微信 5"; "无" when empty."""
    return "，".join(f"{names.get(k, k)} {v}" for k, v in sorted(counts.items())) or "无"


def _followups(args: argparse.Namespace) -> int:
    import time

    from console.domain.decisions import Refused
    from console.store.followups import FollowupFileError, create_tasks
    from console.store.repository import NotFound
    from console.store.schema import open_store

    db = open_store(args.db)
    try:
        made = create_tasks(db, args.session, args.file, time.time())
    except (FollowupFileError, NotFound, Refused) as exc:
        raise CliError(str(exc)) from exc
    finally:
        db.close()
    rules = _counts(made["by_rule"], {})
    print(f"场次 {args.session}：新建任务 {made['created']}，已有 {made['existing']}（{rules}）")
    return 0


_PLAIN_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": _serve,
    "token": _token,
    "seed-demo": _seed_demo_command,
    "migrate": _migrate,
    "import": _import,
    "invite": _invite,
    "followups": _followups,
    "segment": _segment,
    "simulate": _simulate,
    "ingest-file": _adapters,
    "adapter": _adapters,
}
"""Commands that need only their arguments (the windows' take more, in _dispatch)."""
