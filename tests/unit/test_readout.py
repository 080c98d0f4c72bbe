"""The read-out queue: most urgent first, one at a time, acknowledged ones skipped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.domain.readout import DEFAULT_KINDS, ReadoutQueue
from console.domain.shoutouts import Shoutout, ShoutoutKind


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def so(sid: str, priority: int, ts: float, kind: ShoutoutKind = ShoutoutKind.VIP_ORDER) -> Shoutout:
    return Shoutout(sid, kind, sid, priority, f"口播{sid}", ts, ts)


def drain(queue: ReadoutQueue, board: list[Shoutout], clock: FakeClock) -> list[str]:
    said = []
    while (item := queue.next(board, clock.now)) is not None:
        said.append(item.id)
        clock.advance(2)
        queue.finished(item.id)
    return said


def test_most_urgent_first_then_oldest() -> None:
    clock = FakeClock()
    board = [so("a", 3, 990), so("b", 1, 995), so("c", 3, 980), so("d", 2, 999)]
    assert drain(ReadoutQueue(), board, clock) == ["b", "d", "c", "a"]


def test_never_two_at_once() -> None:
    clock = FakeClock()
    queue = ReadoutQueue()
    board = [so("a", 1, 990), so("b", 2, 990)]
    first = queue.next(board, clock.now)
    assert first is not None
    assert first.id == "a"
    assert queue.next(board, clock.advance(1)) is None  # "a" still being said
    queue.finished("a")
    second = queue.next(board, clock.advance(1))
    assert second is not None
    assert second.id == "b"


def test_never_the_same_twice() -> None:
    clock = FakeClock()
    queue = ReadoutQueue()
    board = [so("a", 1, 990)]
    assert drain(queue, board, clock) == ["a"]
    assert queue.next(board, clock.advance(5)) is None


def test_acknowledged_while_synthesising_is_skipped() -> None:
    clock = FakeClock()
    queue = ReadoutQueue()
    board = [so("a", 1, 990), so("b", 2, 991)]
    item = queue.next(board, clock.now)
    assert item is not None
    assert item.id == "a"
    board = [s for s in board if s.id != "a"]  # the assistant acknowledged it meanwhile
    assert not queue.still_waiting(s.id for s in board)
    assert queue.skipped == 1
    assert queue.in_flight is None
    nxt = queue.next(board, clock.advance(1))
    assert nxt is not None
    assert nxt.id == "b"
    assert queue.still_waiting(s.id for s in board)


def test_acknowledged_before_its_turn_is_never_read() -> None:
    clock = FakeClock()
    board = [so("a", 1, 990), so("b", 2, 991)]
    board.pop(1)  # acknowledged before the queue came to it
    assert drain(ReadoutQueue(), board, clock) == ["a"]


def test_only_the_configured_kinds() -> None:
    clock = FakeClock()
    board = [
        so("q", 6, 990, ShoutoutKind.QUESTION),
        so("w", 1, 991, ShoutoutKind.DRAW_WINNER),
        so("o", 3, 992, ShoutoutKind.VIP_ORDER),
    ]
    assert ShoutoutKind.QUESTION not in DEFAULT_KINDS
    assert drain(ReadoutQueue(), board, clock) == ["w", "o"]
    only_orders = ReadoutQueue(kinds=frozenset({ShoutoutKind.VIP_ORDER}))
    assert drain(only_orders, board, clock) == ["o"]


def test_stale_ones_are_not_read() -> None:
    clock = FakeClock(1000)
    board = [so("old", 1, 1000 - 121), so("new", 3, 999)]
    assert drain(ReadoutQueue(max_age_s=120), board, clock) == ["new"]


def test_a_player_that_never_reports_back_is_given_up() -> None:
    clock = FakeClock()
    queue = ReadoutQueue(stuck_after_s=30)
    board = [so("a", 1, 999), so("b", 2, 999)]
    assert queue.next(board, clock.now) is not None
    assert queue.next(board, clock.advance(29)) is None
    item = queue.next(board, clock.advance(2))
    assert item is not None
    assert item.id == "b"


def test_forget_keeps_memory_small() -> None:
    clock = FakeClock()
    queue = ReadoutQueue()
    drain(queue, [so("a", 1, 999), so("b", 1, 999)], clock)
    queue.forget(["b"])
    assert queue.read == {"b"}


entries = st.lists(st.tuples(st.integers(1, 6), st.floats(900, 1000), st.booleans()), max_size=25)


@given(entries)
def test_reads_each_waiting_one_once_in_board_urgency_order(
    rows: list[tuple[int, float, bool]],
) -> None:
    clock = FakeClock(1000)
    board = [so(f"s{n}", p, ts) for n, (p, ts, _) in enumerate(rows)]
    queue = ReadoutQueue()
    said: list[str] = []
    acked = {f"s{n}" for n, (_, _, ack) in enumerate(rows) if ack}
    while (item := queue.next(board, clock.now)) is not None:
        # Acknowledge some while each is being synthesised.
        board = [s for s in board if s.id not in acked or s.id == item.id]
        if queue.still_waiting(s.id for s in board):
            said.append(item.id)
            queue.finished(item.id)
        acked.discard(item.id)
        board = [s for s in board if s.id not in acked]
        acked = set()
    assert len(said) == len(set(said))
    by_id = {f"s{n}": (p, ts) for n, (p, ts, _) in enumerate(rows)}
    keys = [(by_id[s][0], by_id[s][1], s) for s in said]
    assert keys == sorted(keys)
    # Nothing left unsaid that is still waiting.
    assert {s.id for s in board} <= set(said)
