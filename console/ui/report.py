"""The post-broadcast report (复盘报告), made headless: ``python main.py report ... --out DIR``.

Writes ``stats.json`` (exactly ``GET /stats``), a CSV per table, PNG charts drawn with the
console's own pyqtgraph widgets (offscreen), and ``report.html``, one page an operator can send
to the brand. Every figure comes from the store's log through the stats code; a rate is
printed from its own numerator and denominator (``console.domain.metrics``) and beside them.
"""

from __future__ import annotations

import asyncio
import csv
import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from string import Template
from typing import Any

import orjson
import pyqtgraph as pg

from console.domain.aids import AidsRecord
from console.domain.events import EventType
from console.domain.followups import outcome_rows, state_rows
from console.domain.invitations import FUNNEL_DEFINITION, FUNNEL_HEADERS, funnel_rows
from console.domain.metrics import NO_VALUE, format_rate
from console.domain.platform_stats import PLATFORM_LABELS
from console.domain.repurchase import (
    LTV_DEFINITION,
    LTV_HEADERS,
    REPURCHASE_DEFINITION,
    REPURCHASE_HEADERS,
    ltv_rows,
    repurchase_caption,
    repurchase_rows,
)
from console.domain.reservations import (
    RESERVATION_DEFINITION,
    RESERVATION_HEADERS,
    caption_from_json,
    reservation_rows,
)
from console.domain.segments import ALL_SEGMENTS
from console.domain.stats import RATE_PARTS, rate_from_json
from console.domain.text import spreadsheet_row
from console.domain.timeline import Marker, Sample, Timeline
from console.resources import resource_path
from console.sync.client import StoreClient, StoreError
from console.ui.shoutout_model import KIND_LABELS
from console.ui.theme import PALETTE, SEGMENT_COLORS

CHINA = timezone(timedelta(hours=8))
METRICS = (
    ("reached", "触达", "int"),
    ("audience_watched", "受邀观看", "int"),
    ("watch_conversion", "观看转化率", "rate"),
    ("watched", "观看 (全部观众)", "int"),
    ("interacted", "互动人数", "int"),
    ("interaction_rate", "互动率", "rate"),
    ("chain_entrants", "下单/接龙观众", "int"),
    ("chain_conversion", "接龙转化率", "rate"),
    ("orders", "订单", "int"),
    ("buyers", "买家", "int"),
    ("gmv", "GMV (元)", "money"),
    ("aov", "客单价 (元)", "money"),
)
SESSION_WIDE = (
    ("new_customers", "新客", "int"),
    ("new_customers_retained", "沉淀到团长的新客", "int"),
    ("new_customer_retention", "新客沉淀率", "rate"),
    ("s6_reached", "S6触达", "int"),
    ("s6_woken", "S6下单", "int"),
    ("wakeup_rate", "S6唤醒率", "rate"),
    ("new_customer_orders", "新客订单", "int"),
    ("koc_new_customer_orders", "KOC带来的新客订单", "int"),
    ("koc_share", "KOC带新占比", "rate"),
    ("chains_opened", "开接龙", "int"),
    ("chains_formed_count", "成团", "int"),
    ("chains_formed", "成团率", "rate"),
)
LABELS = {key: label for key, label, _ in (*METRICS, *SESSION_WIDE)}
KINDS = {key: kind for key, _, kind in (*METRICS, *SESSION_WIDE)}
HEADLINE = (
    "reached",
    "audience_watched",
    "watch_conversion",
    "watched",
    "chain_entrants",
    "chain_conversion",
    "gmv",
    "buyers",
    "aov",
    "new_customer_retention",
    "wakeup_rate",
    "koc_share",
    "chains_formed",
)


def fmt(value: Any, kind: str) -> str:
    if value is None:
        return NO_VALUE
    if kind == "rate":
        return format_rate(value)
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:,}"


def figure_text(figures: Mapping[str, Any], key: str, kind: str) -> str:
    """A figure as printed; a rate from its own numerator and denominator, so that it
    reconciles with them ("—" where ``/stats`` has nothing to divide by)."""
    rate = rate_from_json(figures, key) if key in RATE_PARTS else None
    return rate.percent() if rate is not None else fmt(figures.get(key), kind)


def rate_parts_text(figures: Mapping[str, Any], key: str) -> str:
    """What a rate divides, labelled: "受邀观看 105 / 触达 120" ("" for no rate)."""
    if key not in RATE_PARTS or rate_from_json(figures, key) is None:
        return ""
    numerator, denominator = RATE_PARTS[key]
    return (
        f"{LABELS[numerator]} {figures[numerator]:,} / {LABELS[denominator]} "
        f"{figures[denominator]:,}"
    )


def _rate_cell(figures: Mapping[str, Any], key: str) -> str:
    rate = rate_from_json(figures, key)
    return NO_VALUE if rate is None else f"{rate.percent()} ({rate.fraction()})"


async def fetch(client: StoreClient, sid: str) -> tuple[dict[str, Any], dict[str, Any], Timeline]:
    """The session, its stats and its timeline (the store's replay index)."""
    session, stats, timeline = await asyncio.gather(
        client.get_session(sid), client.stats(sid), client.replay(sid)
    )
    return session, stats, timeline


async def fetch_ltv(client: StoreClient) -> dict[str, Any] | None:
    """LTV by circle (``GET /ltv``), or None when the token may not read it (not an
    operator's): the report then says so instead of the table."""
    try:
        return await client.ltv()
    except StoreError as exc:
        if exc.status != 403:
            raise
        return None


async def fetch_followups(client: StoreClient, sid: str) -> dict[str, Any] | None:
    """Follow-up tasks (``GET /followups``), or None when the token may not read them."""
    try:
        return await client.followups(sid)
    except StoreError as exc:
        if exc.status != 403:
            raise
        return None


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """One review table as CSV (with a BOM, for Excel); nicks, point and leader names come
    from members and platforms, so every cell goes through ``spreadsheet_row``."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(spreadsheet_row(header))
        writer.writerows(spreadsheet_row(row) for row in rows)
    return path


def write_csvs(out: Path, stats: dict[str, Any], samples: Sequence[Sample]) -> list[Path]:
    rows = [("total", stats["total"])] + [(s, stats["by_segment"][s]) for s in stats["by_segment"]]
    written = [
        _write_csv(
            out / "segments.csv",
            ["segment", *(key for key, _, _ in METRICS)],
            [
                [name, *("" if figures[k] is None else figures[k] for k, _, _ in METRICS)]
                for name, figures in rows
            ],
        )
    ]
    for name, table in (
        ("koc_leaderboard", stats["koc_leaderboard"]),
        ("new_neighbours", stats["new_neighbours"]),
    ):
        columns = list(table[0]) if table else []
        written.append(
            _write_csv(out / f"{name}.csv", columns, [[row[c] for c in columns] for row in table])
        )
    header = [
        "minute",
        "seq",
        "online",
        *(s.value for s in ALL_SEGMENTS),
        "orders",
        "gmv",
        "chain_entries",
    ]
    timeline = [
        [
            round(s.minute, 2),
            s.seq,
            s.online,
            *(s.online_by_segment[g] for g in ALL_SEGMENTS),
            s.orders,
            s.gmv / 100,
            s.chain_entries,
        ]
        for s in samples
    ]
    written.append(_write_csv(out / "timeline.csv", header, timeline))
    return written


def draw_charts(
    out: Path, stats: dict[str, Any], samples: Sequence[Sample], markers: Sequence[Marker]
) -> list[Path]:
    """PNG charts drawn by the console's own plotting library (a QApplication must exist)."""
    return [
        _save(chart, out / f"{name}.png")
        for name, chart in build_charts(stats, samples, markers).items()
    ]


def build_charts(
    stats: dict[str, Any], samples: Sequence[Sample], markers: Sequence[Marker]
) -> dict[str, Any]:
    """The report's charts as widgets, by file name (``viewers``, ``gmv``, ``gmv_by_segment``),
    at the size they are saved (the layout check reads them as drawn)."""
    charts: dict[str, Any] = {}
    minutes = [s.minute for s in samples]

    viewers = pg.PlotWidget(title="在线观众 · 分层")
    # Bottom right: the marker labels run along the top. 12 pt: 16 px, as every text.
    viewers.addLegend(offset=(-10, -10), labelTextSize="12pt")
    viewers.getPlotItem().setLabel("bottom", "开播后分钟")
    for segment in ALL_SEGMENTS:
        viewers.plot(
            minutes,
            [s.online_by_segment[segment] for s in samples],
            pen=pg.mkPen(SEGMENT_COLORS[segment], width=2),
            name=f"{segment.value} {segment.label}",
        )
    viewers.plot(
        minutes,
        [s.online for s in samples],
        pen=pg.mkPen(PALETTE["accent"], width=3),
        name="在线合计",
    )
    span = minutes[-1] if minutes else 0.0
    _mark(viewers, markers, span)
    charts["viewers"] = viewers

    # GMV above, orders below, on one time axis (counts and yuan do not share a scale).
    money = pg.GraphicsLayoutWidget()
    gmv_plot = money.addPlot(row=0, col=0, title="订单与 GMV")
    gmv_plot.setLabel("left", "GMV (元)")
    gmv_plot.plot(minutes, [s.gmv / 100 for s in samples], pen=pg.mkPen(PALETTE["accent"], width=3))
    orders_plot = money.addPlot(row=1, col=0)
    orders_plot.setLabel("left", "订单数")
    orders_plot.setLabel("bottom", "开播后分钟")
    orders_plot.plot(minutes, [s.orders for s in samples], pen=pg.mkPen("#4aa3ff", width=3))
    orders_plot.setXLink(gmv_plot)
    for plot in (gmv_plot, orders_plot):  # one width, so the two time axes line up
        plot.getAxis("left").setWidth(LEFT_AXIS_PX)
    gmv_plot.hideAxis("bottom")  # one time axis, under the orders
    money.ci.layout.setRowStretchFactor(0, 3)
    money.ci.layout.setRowStretchFactor(1, 2)
    _mark(gmv_plot, markers, span)
    _mark(orders_plot, markers, span, labels=False)
    charts["gmv"] = money

    tiers = pg.PlotWidget(title="各分层 GMV (元)")
    values = [stats["by_segment"][s.value]["gmv"] for s in ALL_SEGMENTS]
    tiers.addItem(
        pg.BarGraphItem(
            x=list(range(6)),
            height=values,
            width=0.7,
            brushes=[SEGMENT_COLORS[s] for s in ALL_SEGMENTS],
        )
    )
    bars = tiers.getPlotItem()
    bars.showAxis("left")
    bars.setLabel("left", "GMV (元)")
    bars.getAxis("bottom").setTicks(
        [[(i, f"{s.value} {s.label}") for i, s in enumerate(ALL_SEGMENTS)]]
    )
    top = max(values, default=0) or 1
    bars.setYRange(0, top * 1.15)
    for i, value in enumerate(values):  # each bar's own figure, readable without the axis
        label = pg.TextItem(f"{value:,.0f}", color="#e6e9ee", anchor=(0.5, 1))
        label.setPos(i, value)
        tiers.addItem(label)
    charts["gmv_by_segment"] = tiers
    for chart in charts.values():
        chart.resize(*CHART_SIZE)
    return charts


MARKER_LABEL_CHARS = 9  # a marker's name, cut: the table in the report has it whole
MARKER_LABEL_ROWS = (0.96, 0.86, 0.76)  # label heights, in turn, so neighbours do not overlap
# A label is about 9 characters of 16 px; on a 1,200 px chart that is ~13% of the time axis,
# so with three rows a label may start ~5% after the one before it.
MARKER_LABEL_GAP = 0.05


def _mark(plot: Any, markers: Sequence[Marker], span: float, labels: bool = True) -> None:
    """Presentations and 接龙 milestones as dashed lines (notices would clutter), labelled
    horizontally on a dark ground where there is room, at alternating heights (vertical
    labels ran off the top and piled into a blur). ``span``: the time axis's length."""
    shown = [m for m in markers if m.kind is not EventType.NOTICE_POSTED]
    span = span or 1.0
    last_labelled: float | None = None
    row = 0
    for marker in shown:
        labelled = labels and (
            last_labelled is None or (marker.minute - last_labelled) / span >= MARKER_LABEL_GAP
        )
        # The last tenth of the axis has no room for a label reading to the right.
        labelled = labelled and marker.minute / span <= 0.9
        options: dict[str, Any] = {}
        if labelled:
            last_labelled = marker.minute
            options = {
                "label": marker.label[:MARKER_LABEL_CHARS],
                "labelOpts": {
                    "position": MARKER_LABEL_ROWS[row % len(MARKER_LABEL_ROWS)],
                    "color": "#c9d1db",
                    "fill": PALETTE["panel"],
                    "anchors": [(0, 0.5), (0, 0.5)],
                },
            }
            row += 1
        plot.addItem(
            pg.InfiniteLine(
                marker.minute,
                angle=90,
                pen=pg.mkPen("#5b6470", style=pg.QtCore.Qt.PenStyle.DashLine),
                **options,
            )
        )


CHART_SIZE = (1200, 520)
LEFT_AXIS_PX = 90  # room for 6-digit yuan and the axis title


def _save(widget: Any, path: Path) -> Path:
    widget.grab().save(str(path), "PNG")
    widget.close()
    return path


def _tile(figures: Mapping[str, Any], key: str) -> str:
    """One headline figure; a rate with what it divides under it."""
    parts = html.escape(rate_parts_text(figures, key))
    return (
        f"<div class='tile'><div class='label'>{html.escape(LABELS[key])}</div>"
        f"<div class='value'>{html.escape(figure_text(figures, key, KINDS[key]))}</div>"
        + (f"<div class='parts'>{parts}</div>" if parts else "")
        + "</div>"
    )


def _cells(values: Sequence[object], tag: str = "td") -> str:
    return "".join(f"<{tag}>{html.escape(str(v))}</{tag}>" for v in values)


def platform_lines(stats: Mapping[str, Any]) -> list[str]:
    """One line per platform that reported its own statistics after the show (平台统计):
    its figures, never ours (``platform_reported`` of ``/stats``)."""
    lines = []
    for platform, figures in sorted((stats.get("platform_reported") or {}).items()):
        name = PLATFORM_LABELS.get(platform, platform)
        lines.append(
            f"{name}（平台统计）：观看 {figures['watched']} · 互动 {figures['interacted']} · "
            f"邀请 {figures['invited']}"
        )
    return lines


def _platform_html(stats: Mapping[str, Any]) -> str:
    lines = platform_lines(stats)
    if not lines:
        return ""
    return "".join(f"<p class='platform'>{html.escape(line)}</p>" for line in lines)


def _clock(minute: float) -> str:
    """Minutes from the first event as "mm:ss" (the replay's moment label)."""
    return f"{int(minute):02d}:{int(minute * 60) % 60:02d}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], empty: str) -> str:
    head = "<tr>" + _cells(headers, "th") + "</tr>"
    body = "".join("<tr>" + _cells(row) + "</tr>" for row in rows)
    return f"<table>{head}{body or f'<tr><td colspan={len(headers)}>{empty}</td></tr>'}</table>"


def draw_rows(aids: AidsRecord) -> list[list[str]]:
    """抽奖: when, prize, conditions, how many qualified, winners (masked), the seed."""
    return [
        [
            _clock(d.minute),
            d.prize,
            d.conditions(),
            str(d.eligible),
            f"{len(d.winners)}/{d.count}：" + "、".join(d.winners),
            f"{d.seed} (事件 #{d.seq})",
        ]
        for d in aids.draws
    ]


def flash_rows(aids: AidsRecord) -> list[list[str]]:
    """秒杀: when, product, price, units sold of its units, limit, circles, time, end."""
    rows = []
    for sale in aids.flash_sales.values():
        ran = sale.ran_minutes
        rows.append(
            [
                _clock(sale.minute),
                sale.product_name,
                f"¥{sale.price:g}",
                f"{sale.sold}/{sale.units}",
                f"{sale.limit_per_member} 件",
                "、".join(sale.circles) or "全部圈层",
                f"{sale.minutes:g} 分钟" + ("" if ran is None else f" (实际 {_clock(ran)})"),
                sale.ended_text(),
            ]
        )
    return rows


def prompt_rows(aids: AidsRecord) -> list[list[str]]:
    """场控提示 raised when the room turned: when, kind, the words shown."""
    return [[_clock(p.minute), KIND_LABELS[p.kind], p.text] for p in aids.prompts]


def _aids_html(aids: AidsRecord) -> str:
    return (
        "<h2>抽奖 (福袋)</h2>"
        + _table(
            ["时间", "奖品", "条件", "符合条件", "中奖 (已打码)", "种子 (可据日志复核)"],
            draw_rows(aids),
            "本场没有抽奖",
        )
        + "<h2>秒杀</h2>"
        + _table(
            ["时间", "商品", "秒杀价", "售出/件数", "每人限购", "圈层", "时长", "结束"],
            flash_rows(aids),
            "本场没有秒杀",
        )
        + "<h2>场控提示</h2>"
        + _table(["时间", "类型", "提示"], prompt_rows(aids), "本场没有触发场控提示")
    )


def _table_rows(rows: Sequence[Sequence[object]]) -> str:
    return "".join("<tr>" + _cells(row) + "</tr>" for row in rows)


def _repurchase_html(stats: Mapping[str, Any]) -> str:
    repurchase = stats.get("repurchase")
    if not repurchase:
        return ""
    return (
        f"<h2>{html.escape(repurchase_caption(repurchase))}</h2>"
        f"<table><tr>{_cells(REPURCHASE_HEADERS, 'th')}</tr>"
        f"{_table_rows(repurchase_rows(repurchase))}</table>"
        f"<p class='note'>{html.escape(REPURCHASE_DEFINITION)}</p>"
    )


def _before_show_html(stats: Mapping[str, Any]) -> str:
    """预热蓄水: reservations per circle and the invitation funnel (per circle and 团长)."""
    parts = []
    reserved = stats.get("reservations")
    if reserved and (reserved.get("total") or {}).get("reserved"):
        parts.append(
            f"<h2>{html.escape(caption_from_json(reserved))}</h2>"
            f"<table><tr>{_cells(RESERVATION_HEADERS, 'th')}</tr>"
            f"{_table_rows(reservation_rows(reserved))}</table>"
            f"<p class='note'>{html.escape(RESERVATION_DEFINITION)}</p>"
        )
    funnel = stats.get("invitation_funnel")
    if funnel and (funnel.get("total") or {}).get("invited"):
        parts.append(
            "<h2>邀请漏斗 · 按分层与团长</h2>"
            f"<table><tr>{_cells(FUNNEL_HEADERS, 'th')}</tr>"
            f"{_table_rows(funnel_rows(funnel))}</table>"
            f"<p class='note'>{html.escape(FUNNEL_DEFINITION)}</p>"
        )
    return "".join(parts)


FOLLOWUP_HEADERS = ("规则 / 负责人", "任务", "按时完成", "逾期完成", "待办", "已逾期")
OUTCOME_HEADERS = ("规则", "任务完成的会员：30天复购", "任务未完成的会员：30天复购")
FOLLOWUP_DEFINITION = (
    "回访任务由规则文件在下播后生成（main.py followups create）。按时完成 = 截止前完成；逾期完成 = "
    "截止后完成；待办 = 未完成且未到截止；已逾期 = 未完成且已过截止（以生成报告时的时钟计）。"
    "复购按30天复购率的口径：本场买家在首单后30天内另有一笔未取消的订单。"
)


def _followups_html(followups: Mapping[str, Any] | None) -> str:
    """余温沉淀: completion per rule and per owner, and what finished tasks led to."""
    if not followups or not (followups.get("total") or {}).get("total"):
        return ""
    leaders = followups.get("leaders") or {}
    label = str(followups.get("repurchase_label", ""))
    return (
        "<h2>回访任务 · 按规则与负责人</h2>"
        f"<table><tr>{_cells(FOLLOWUP_HEADERS, 'th')}</tr>"
        f"{_table_rows(state_rows(followups, leaders))}</table>"
        f"<h2>回访带来的复购（{html.escape(label)}）</h2>"
        f"<table><tr>{_cells(OUTCOME_HEADERS, 'th')}</tr>"
        f"{_table_rows(outcome_rows(followups))}</table>"
        f"<p class='note'>{html.escape(FOLLOWUP_DEFINITION)}</p>"
    )


def _ltv_html(ltv: Mapping[str, Any] | None) -> str:
    if ltv is None:
        return "<h2>LTV · 按分层</h2><p class='note'>需运营者令牌才能读取全品牌的 LTV。</p>"
    return (
        f"<h2>LTV · 按分层</h2><table><tr>{_cells(LTV_HEADERS, 'th')}</tr>"
        f"{_table_rows(ltv_rows(ltv))}</table>"
        f"<p class='note'>{html.escape(LTV_DEFINITION)}</p>"
    )


def write_html(
    out: Path,
    session: dict[str, Any],
    stats: dict[str, Any],
    charts: Sequence[Path],
    aids: AidsRecord | None = None,
    ltv: Mapping[str, Any] | None = None,
    followups: Mapping[str, Any] | None = None,
) -> Path:
    started = session.get("started_at")
    total = stats["total"]
    headline = "".join(_tile(total, key) for key in HEADLINE)
    columns = [("合计", total)] + [
        (f"{s.value} {s.label}", stats["by_segment"][s.value]) for s in ALL_SEGMENTS
    ]
    metric_rows = "".join(
        "<tr>"
        + _cells(
            [
                name,
                *(
                    _rate_cell(figures, k) if kind == "rate" else fmt(figures[k], kind)
                    for k, _, kind in METRICS
                ),
            ]
        )
        + "</tr>"
        for name, figures in columns
    )
    kocs = "".join(
        "<tr>"
        + _cells(
            [
                r["nick"] or r["member_id"],
                "是" if r["koc"] else "否",
                r["orders"],
                f"{r['gmv']:,.2f}",
                r["new_customers"],
            ]
        )
        + "</tr>"
        for r in stats["koc_leaderboard"][:20]
    )
    points = "".join(
        "<tr>"
        + _cells([r.get("point_name") or r["pickup_point"], r["leader"], r["new_neighbours"]])
        + "</tr>"
        for r in stats["new_neighbours"][:30]
    )
    page = Template(resource_path("report/report.html").read_text(encoding="utf-8")).substitute(
        title=html.escape(str(session.get("title", ""))),
        started=datetime.fromtimestamp(started, CHINA).strftime("%Y-%m-%d %H:%M")
        if started
        else "未开播",
        session_id=html.escape(str(session.get("id", ""))),
        seq=stats.get("seq", ""),
        headline=headline,
        metric_headers=_cells([label for _, label, _ in METRICS], "th"),
        metric_rows=metric_rows,
        charts="".join(
            f"<img src='{html.escape(p.name)}' alt='{html.escape(p.stem)}'>" for p in charts
        ),
        kocs=kocs or "<tr><td colspan='5'>本场没有带来订单的分享</td></tr>",
        points=points or "<tr><td colspan='3'>本场没有新客</td></tr>",
        platform_reported=_platform_html(stats),
        aids=_aids_html(aids or AidsRecord()),
        repurchase=_before_show_html(stats) + _repurchase_html(stats),
        ltv=_ltv_html(ltv),
        followups=_followups_html(followups),
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


async def fetch_all(
    store_url: str, token: str, sid: str
) -> tuple[Any, Any, Timeline, dict[str, Any] | None, dict[str, Any] | None]:
    client = StoreClient(store_url, token)
    try:
        session, stats, timeline = await fetch(client, sid)
        return (
            session,
            stats,
            timeline,
            await fetch_ltv(client),
            await fetch_followups(client, sid),
        )
    finally:
        await client.aclose()


def run_report(store_url: str, token: str, sid: str, out: Path) -> list[Path]:
    """Fetch, then write every file (the caller made the QApplication for the charts)."""
    session, stats, timeline, ltv, followups = asyncio.run(fetch_all(store_url, token, sid))
    return write_report(out, session, stats, timeline, ltv, followups)


def write_report(
    out: Path,
    session: dict[str, Any],
    stats: dict[str, Any],
    timeline: Timeline,
    ltv: Mapping[str, Any] | None = None,
    followups: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Every file of the report from what is already loaded (a QApplication must exist);
    ``ltv``: LTV by circle (``GET /ltv``), None when the token could not read it."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "stats.json").write_bytes(orjson.dumps(stats, option=orjson.OPT_INDENT_2))
    samples, markers = timeline.samples, timeline.markers
    written = [out / "stats.json", *write_csvs(out, stats, samples)]
    if stats.get("repurchase"):
        written.append(
            _write_csv(
                out / "repurchase.csv", REPURCHASE_HEADERS, repurchase_rows(stats["repurchase"])
            )
        )
    if ltv is not None:
        written.append(_write_csv(out / "ltv.csv", LTV_HEADERS, ltv_rows(ltv)))
    if followups and (followups.get("total") or {}).get("total"):
        leaders = followups.get("leaders") or {}
        written.append(
            _write_csv(out / "followups.csv", FOLLOWUP_HEADERS, state_rows(followups, leaders))
        )
    charts = draw_charts(out, stats, samples, markers)
    page = write_html(out, session, stats, charts, timeline.aids, ltv, followups)
    return [*written, *charts, page]
