"""Room snapshots (快照) as plain JSON values, and back: the whole reducer state, exactly.

The store keeps replay checkpoints this way and sends "the room at seq N" to the replay
window; the window restores a ``RoomState`` that folds on exactly as the live one would.
JSON, not pickle: a snapshot crosses the network, and a client must never run what a server
sends. Every field of ``RoomState`` has a codec here, and a test folds half a log, round-trips
it through JSON and folds the rest, against folding it all at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

from console.domain.chains import ChainProgress, ChainStatus
from console.domain.events import EventType
from console.domain.platform import AdapterHealth, PlatformCount
from console.domain.room import RoomState
from console.domain.segments import Segment
from console.domain.shoutouts import Shoutout, ShoutoutBoard, ShoutoutKind
from console.domain.turn_norms import PresentationResult, TurnSettings

FORMAT = 5  # 2: ``buyers`` counts each member's standing orders; 3: live platforms;
# 4: per-minute online counts for the turn prompts (``online_minutes``); 5: entries in those
# counts, the presentations and the prompts' thresholds


class SnapshotError(ValueError):
    """A snapshot that is not one this code wrote (wrong format, missing or bad field)."""


def _segment(value: str | None) -> Segment | None:
    return None if value is None else Segment(value)


def _by_segment_out(value: dict[Segment, int]) -> dict[str, int]:
    return {s.value: n for s, n in value.items()}


def _by_segment_in(value: dict[str, int]) -> dict[Segment, int]:
    return {Segment(s): int(n) for s, n in value.items()}


def _chain_out(chain: ChainProgress) -> dict[str, Any]:
    return {f.name: getattr(chain, f.name) for f in fields(chain)} | {"status": chain.status.value}


def _chain_in(value: dict[str, Any]) -> ChainProgress:
    return ChainProgress(
        **{k: v for k, v in value.items() if k != "status"}, status=ChainStatus(value["status"])
    )


def _shoutout_out(shoutout: Shoutout) -> dict[str, Any]:
    out = {f.name: getattr(shoutout, f.name) for f in fields(shoutout)}
    out["kind"] = shoutout.kind.value
    out["contributors"] = sorted(shoutout.contributors)
    return out


def _shoutout_in(value: dict[str, Any]) -> Shoutout:
    rest = {k: v for k, v in value.items() if k not in ("kind", "contributors")}
    return Shoutout(
        **rest, kind=ShoutoutKind(value["kind"]), contributors=set(value["contributors"])
    )


def _board_out(board: ShoutoutBoard) -> dict[str, Any]:
    return {
        "active": [_shoutout_out(s) for s in board.active.values()],  # insertion order kept
        "counts": [
            board.raised,
            board.merged,
            board.suppressed,
            board.acknowledged,
            board.dropped,
            board.superseded,
        ],
        "raised_by_kind": {k.value: n for k, n in board.raised_by_kind.items()},
        "last_by_subject": [[k.value, s, ts] for (k, s), ts in board._last_by_subject.items()],
        "last_by_kind": {k.value: ts for k, ts in board._last_by_kind.items()},
        "open_by_subject": [[k.value, s, sid] for (k, s), sid in board._open_by_subject.items()],
    }


def _board_in(value: dict[str, Any]) -> ShoutoutBoard:
    raised, merged, suppressed, acknowledged, dropped, superseded = value["counts"]
    board = ShoutoutBoard(
        active={s["id"]: _shoutout_in(s) for s in value["active"]},
        raised=raised,
        merged=merged,
        suppressed=suppressed,
        acknowledged=acknowledged,
        dropped=dropped,
        superseded=superseded,
        raised_by_kind={ShoutoutKind(k): n for k, n in value["raised_by_kind"].items()},
    )
    board._last_by_subject = {(ShoutoutKind(k), s): ts for k, s, ts in value["last_by_subject"]}
    board._last_by_kind = {ShoutoutKind(k): ts for k, ts in value["last_by_kind"].items()}
    board._open_by_subject = {(ShoutoutKind(k), s): sid for k, s, sid in value["open_by_subject"]}
    return board


def _same(value: Any) -> Any:
    return value


def _copied(value: Any) -> Any:
    return type(value)(value)


def _members_set_out(value: set[str]) -> list[str]:
    return sorted(value)


_Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]
_BY_SEGMENT: _Codec = (_by_segment_out, _by_segment_in)
_SET: _Codec = (_members_set_out, set)
_PLAIN: _Codec = (_same, _same)
_CONTAINER: _Codec = (_copied, _copied)
_CODECS: dict[str, _Codec] = {
    "seq": _PLAIN,
    "online_members": (
        lambda v: {m: None if s is None else s.value for m, s in v.items()},
        lambda v: {m: _segment(s) for m, s in v.items()},
    ),
    "online_by_segment": _BY_SEGMENT,
    "online_guests": _PLAIN,
    "peak_online": _PLAIN,
    "peak_ts": _PLAIN,
    "watched_members": _SET,
    "watched_by_segment": _BY_SEGMENT,
    "totals": (
        lambda v: {t.value: n for t, n in v.items()},
        lambda v: {EventType(t): int(n) for t, n in v.items()},
    ),
    "likes": _PLAIN,
    "first_ts": _PLAIN,
    "last_ts": _PLAIN,
    "orders": _PLAIN,
    "gmv": _PLAIN,
    "buyers": _CONTAINER,
    "orders_by_segment": _BY_SEGMENT,
    "gmv_by_segment": _BY_SEGMENT,
    "units_by_product": _CONTAINER,
    "stock_left": _CONTAINER,
    "chains": (
        lambda v: [_chain_out(c) for c in v.values()],
        lambda v: {c["id"]: _chain_in(c) for c in v},
    ),
    "cancelled_orders": _PLAIN,
    "new_customers": _SET,
    "new_customer_orders": _PLAIN,
    "new_by_point": _CONTAINER,
    "referral_orders": _CONTAINER,
    "referral_gmv": _CONTAINER,
    "referral_new_customers": _CONTAINER,
    "product_names": _CONTAINER,
    "presenting": _PLAIN,
    "presenting_since": _PLAIN,
    "presenting_viewers": _SET,
    "presenting_buyers": _SET,
    "presentations": (
        lambda v: [asdict(p) for p in v],
        lambda v: [PresentationResult(**p) for p in v],
    ),
    "notices": (lambda v: [dict(n) for n in v], lambda v: [dict(n) for n in v]),
    "shoutouts": (_board_out, _board_in),
    "platform_counts": (
        lambda v: [c.to_dict() for c in v.values()],
        lambda v: {c["platform"]: PlatformCount(**c) for c in v},
    ),
    "adapters": (
        lambda v: [a.to_dict() for a in v.values()],
        lambda v: {a["source"]: AdapterHealth(**a) for a in v},
    ),
    "platform_live": _CONTAINER,
    "platform_orders_flagged": _PLAIN,
    "chain_joins_refused": _PLAIN,
    "identities_bound": _PLAIN,
    "flash_sales": (
        lambda v: {p: dict(s) for p, s in v.items()},
        lambda v: {p: dict(s) for p, s in v.items()},
    ),
    "online_minutes": (
        lambda v: [[minute, list(counts)] for minute, counts in v],
        lambda v: [(int(minute), tuple(int(n) for n in counts)) for minute, counts in v],
    ),
    "turn_settings": (lambda v: v.to_data(), TurnSettings.from_data),
}
assert set(_CODECS) == {f.name for f in fields(RoomState)}, "every RoomState field needs a codec"


def to_snapshot(state: RoomState) -> dict[str, Any]:
    """The whole state as JSON-able values (sets sorted, so equal states give equal JSON)."""
    out: dict[str, Any] = {"format": FORMAT}
    for name, (encode, _) in _CODECS.items():
        out[name] = encode(getattr(state, name))
    return out


def from_snapshot(value: dict[str, Any]) -> RoomState:
    """The ``RoomState`` a snapshot was taken of; ``SnapshotError`` names what is wrong."""
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise SnapshotError(f"not a room snapshot of format {FORMAT}")
    state = RoomState()
    for name, (_, decode) in _CODECS.items():
        if name not in value:
            raise SnapshotError(f"snapshot lacks {name!r}")
        try:
            setattr(state, name, decode(value[name]))
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"snapshot field {name!r}: {exc}") from exc
    return state
