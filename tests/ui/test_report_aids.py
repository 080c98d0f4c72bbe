"""The report's 抽奖, 秒杀 and 场控提示 sections, against the log they come from: the draw re-runs
from the log to the printed winners and seed, a sale's units sold are its flash orders'
units, each prompt the board raised is a row (the board's own count by kind agrees)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from console.domain import draws, flash
from console.domain.decisions import NewEvent
from console.domain.events import Event, EventType
from console.domain.room import RoomState
from console.domain.segments import Segment
from console.domain.stats import session_stats
from console.domain.timeline import Timeline, TimelineSampler
from console.domain.turns import TURN_RULES
from console.ui.report import draw_rows, flash_rows, prompt_rows, write_html

T0 = 72_000.0  # on a minute boundary
S2, S3 = Segment.S2, Segment.S3
MEMBERS = {f"m{n:02d}": S3 if n < 8 else S2 for n in range(12)}
NICKS = {m: f"林*{n}" for n, m in enumerate(MEMBERS)}


class Log:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, kind: EventType, ts: float, member: str | None = None, **data: Any) -> Event:
        event = Event(
            len(self.events) + 1,
            f"e{len(self.events) + 1}",
            kind,
            ts,
            member,
            MEMBERS.get(member) if member else None,
            nick=NICKS.get(member, "") if member else "",
            data=data,
        )
        self.events.append(event)
        return event

    def decided(self, new: NewEvent) -> Event:
        return self.add(new.type, new.ts, new.member_id, **new.data)


def broadcast() -> tuple[list[Event], int]:
    """12 members join; 8 comment; a 秒杀 (3 orders, 4 units) ends on time at minute 6; a
    draw at minute 7; half the room leaves at minute 8 (a prompt); the draw's seed."""
    log = Log()
    for n, member in enumerate(MEMBERS):
        log.add(EventType.VIEWER_JOINED, T0 + n, member)
    for n, member in enumerate(list(MEMBERS)[:8]):
        log.add(EventType.COMMENT, T0 + 30 + n, member, text="好吃吗")
    for minute in range(1, 3):
        log.add(EventType.LIKE, T0 + minute * 60, "m00", count=1)
    product = {"product_id": "p-cherry", "product_name": "车厘子 2斤"}
    log.add(EventType.PRODUCT_PRESENTED, T0 + 170, None, **product)
    started = {
        "sale_id": "fs_1",
        **product,
        "price": 68.0,
        "units": 20,
        "minutes": 3.0,
        "ends_at": T0 + 180 + 180,
        "limit_per_member": 2,
        "circles": ["S2", "S3"],
        "countdown": True,
        "by": "场控",
    }
    log.add(EventType.FLASH_SALE_STARTED, T0 + 180, None, **started)
    left = 20
    for n, (member, quantity) in enumerate((("m01", 2), ("m09", 1), ("m03", 1))):
        left -= quantity
        log.add(
            EventType.ORDER_PLACED,
            T0 + 200 + n * 20,
            member,
            order_id=f"o{n}",
            product_id="p-cherry",
            quantity=quantity,
            amount=6800 * quantity,
            flash_sale_id="fs_1",
            flash_units_left=left,
        )
    sale = flash.FlashSale.from_data(started, sold=20 - left)
    for minute in range(4, 8):
        if minute == 6:
            log.decided(flash.ended_event(sale, "time", sale.ends_at))
        log.add(EventType.LIKE, T0 + minute * 60 + 5, "m00", count=1)
    criteria = draws.DrawCriteria("定制冰杯", 2, frozenset({S3}), 1.0, must_comment=True)
    seed = 0x1234_5678_9ABC_DEF0_1234_5678_9ABC_DEF0
    log.decided(draws.start_draw(log.events, criteria, seed, "场控", T0 + 7 * 60 + 10))
    for member in list(MEMBERS)[:6]:
        log.add(EventType.VIEWER_LEFT, T0 + 8 * 60 + 5, member)
    log.add(EventType.LIKE, T0 + 9 * 60 + 5, "m11", count=1)
    return log.events, seed


def folded(events: list[Event]) -> tuple[RoomState, Timeline]:
    state, sampler = RoomState(), TimelineSampler(60.0)
    for event in events:
        sampler.before(state, event)
        state.apply(event)
        sampler.after(state, event)
    samples, markers = sampler.finish(state)
    timeline = Timeline(state.seq, events[0].ts, events[-1].ts, 60.0, samples, markers)
    return state, Timeline(**{**timeline.__dict__, "aids": sampler.aids})


class _Tables(HTMLParser):
    """Each <table> after an <h2>, as rows of cell texts, by the heading."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._heading: str | None = None
        self._in_h2 = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "h2":
            self._in_h2, self._heading = True, ""
        elif tag == "tr" and self._heading is not None:
            self.tables.setdefault(self._heading, []).append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False
        elif tag in ("td", "th") and self._cell is not None and self._heading is not None:
            self.tables[self._heading][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self._heading = (self._heading or "") + data
        elif self._cell is not None:
            self._cell.append(data)


def report_tables(tmp_path: Path, events: list[Event], timeline: Timeline) -> dict[str, Any]:
    audience = dict.fromkeys(MEMBERS, None) | MEMBERS
    stats = session_stats(events, audience, {})
    path = write_html(tmp_path, {"id": "s1", "title": "夏日轻食"}, stats, [], timeline.aids)
    page = _Tables()
    page.feed(path.read_text(encoding="utf-8"))
    return page.tables


def test_the_report_prints_the_draw_so_it_can_be_re_run(tmp_path: Path) -> None:
    events, seed = broadcast()
    _, timeline = folded(events)
    [drawn] = [e for e in events if e.type is EventType.DRAW_DRAWN]
    rerun = draws.rerun_draw(events, drawn)
    assert rerun.agrees
    assert rerun.eligible == ["m00", "m01", "m02", "m03", "m04", "m05", "m06", "m07"]
    nicks = [NICKS[m] for m in rerun.winners]
    [header, row] = report_tables(tmp_path, events, timeline)["抽奖 (福袋)"]
    assert header[:4] == ["时间", "奖品", "条件", "符合条件"]
    assert row[0] == "07:10"
    assert row[1] == "定制冰杯"
    assert row[2] == "S3 · 看满1分钟 · 评论过"
    assert row[3] == str(len(rerun.eligible))
    assert row[4] == "2/2：" + "、".join(nicks)
    assert row[5] == f"{draws.seed_text(seed)} (事件 #{drawn.seq})"
    assert draw_rows(timeline.aids) == [row]


def test_the_report_prints_each_flash_sale_from_its_orders(tmp_path: Path) -> None:
    events, _ = broadcast()
    _, timeline = folded(events)
    sold = sum(
        int(e.data["quantity"])
        for e in events
        if e.type is EventType.ORDER_PLACED and e.data.get("flash_sale_id") == "fs_1"
    )
    [ended] = [e for e in events if e.type is EventType.FLASH_SALE_ENDED]
    ran = (ended.ts - T0) / 60 - 3
    [header, row] = report_tables(tmp_path, events, timeline)["秒杀"]
    assert header == ["时间", "商品", "秒杀价", "售出/件数", "每人限购", "圈层", "时长", "结束"]
    assert row == [
        "03:00",
        "车厘子 2斤",
        "¥68",
        f"{sold}/20",
        "2 件",
        "S2、S3",
        f"3 分钟 (实际 {int(ran):02d}:{int(ran * 60) % 60:02d})",
        "到时结束",
    ]
    assert flash_rows(timeline.aids) == [row]


def test_the_report_prints_every_prompt_the_board_raised(tmp_path: Path) -> None:
    events, _ = broadcast()
    state, timeline = folded(events)
    raised = sum(n for kind, n in state.shoutouts.raised_by_kind.items() if kind in TURN_RULES)
    assert raised >= 1
    rows = report_tables(tmp_path, events, timeline)["场控提示"]
    assert rows[0] == ["时间", "类型", "提示"]
    assert len(rows[1:]) == raised == len(prompt_rows(timeline.aids))
    # Six of the eight S3 leave at 08:05, one by one: the third takes S3 down 37% (3 of 8,
    # faster than the room's 25%), the fourth the room down 33%; each prompt in the words
    # it was raised with.
    by_kind = {row[1]: row for row in rows[1:]}
    assert by_kind["人气下滑"][0] == by_kind["圈层流失"][0] == "08:05"
    assert by_kind["人气下滑"][2] == "在线 5分钟内少了 33%（12→8），可上福利款或抽奖留人"
    assert by_kind["圈层流失"][2] == "S3 高潜成长 在线 5分钟内少了 37%，可推成长任务卡"


def test_a_report_without_aids_says_so(tmp_path: Path) -> None:
    events, _ = broadcast()
    quiet = events[:12]
    _, timeline = folded(quiet)
    tables = report_tables(tmp_path, quiet, timeline)
    assert tables["抽奖 (福袋)"][1] == ["本场没有抽奖"]
    assert tables["秒杀"][1] == ["本场没有秒杀"]
    assert tables["场控提示"][1] == ["本场没有触发场控提示"]


def test_the_record_survives_the_replay_index_json() -> None:
    events, _ = broadcast()
    _, timeline = folded(events)
    again = Timeline.from_json(timeline.to_json())
    assert again.aids == timeline.aids
    assert {m.kind for m in again.markers} >= {
        EventType.FLASH_SALE_STARTED,
        EventType.FLASH_SALE_ENDED,
        EventType.DRAW_DRAWN,
    }
