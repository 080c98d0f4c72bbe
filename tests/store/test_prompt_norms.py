"""The room-turn prompts' thresholds a show logs when it goes live: the brand's norms from its
past shows (kept once per show, the same as folding its log again) and what its catalog set."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from console.domain.decisions import NewEvent
from console.domain.events import EventType
from console.domain.room import initial_state
from console.domain.session_clock import SessionClock
from console.domain.sessions import SessionStatus
from console.domain.turn_norms import ShowSummary, TurnSettings
from console.store import catalog, prompt_norms, rehearsal, repository, sessions
from console.store.catalog_file import CatalogFileError, import_catalog
from console.store.repository import append_new
from console.store.schema import open_store, transaction
from tests.backends import store_target

T0 = 1_800_000_000.0


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Any]:
    database = open_store(store_target(tmp_path, "store"))
    catalog.upsert_products(
        database,
        [
            {"id": p, "name": n, "base_price": 2980, "stock": 100, "emoji": "", "category": ""}
            for p, n in (("p1", "能量包"), ("p2", "牛油果"))
        ],
    )
    yield database
    database.close()


def new_show(db: Any, prompts: dict[str, float] | None = None) -> str:
    sid = repository.create_session(db, "夏日轻食", clock=SessionClock.REHEARSAL)["id"]
    catalog.set_session_catalog(db, sid, ["p1", "p2"], [], None, (), prompts)
    return str(sid)


def go_live(db: Any, sid: str) -> TurnSettings:
    """The thresholds the show went live with, as its JSON carries them (and no event)."""
    session, appended = sessions.set_status(db, sid, SessionStatus.LIVE, time.time)
    assert appended is None
    assert repository.read_events(db, sid, 0, 10) == []
    return initial_state(session).turn_settings


def play(db: Any, sid: str, buyers: int) -> None:
    """20 viewers; p1 presented 9.5 minutes, bought by ``buyers`` of them; then p2."""
    go_live(db, sid)
    joins = [
        {"id": f"j{n}", "type": "viewer_joined", "ts": T0 + n, "member_id": f"m{n:05d}"}
        for n in range(20)
    ]
    rehearsal.ingest(db, sid, joins, {})
    store_written = [NewEvent(EventType.PRODUCT_PRESENTED, T0 + 30, {"product_id": "p1"})]
    store_written += [
        NewEvent(
            EventType.ORDER_PLACED,
            T0 + 60 + n,
            {"product_id": "p1", "amount": 2980, "quantity": 1},
            member_id=f"m{n:05d}",
        )
        for n in range(buyers)
    ]
    with transaction(db) as conn:
        append_new(conn, sid, store_written)
    likes = [
        {"id": f"l{n}", "type": "like", "ts": T0 + 90 + 20 * n, "member_id": "m00000"}
        for n in range(26)
    ]
    rehearsal.ingest(db, sid, likes, {})
    with transaction(db) as conn:
        append_new(
            conn, sid, [NewEvent(EventType.PRODUCT_PRESENTED, T0 + 600, {"product_id": "p2"})]
        )
    sessions.set_status(db, sid, SessionStatus.ENDED, time.time)


def test_a_brand_without_past_shows_logs_nothing_and_prompts_with_the_defaults(db: Any) -> None:
    sid = new_show(db)
    assert go_live(db, sid).is_default


def test_the_next_show_logs_the_norms_of_the_past_ones_and_what_its_catalog_set(
    db: Any,
) -> None:
    for buyers in (4, 2):  # conversions 4/20 = 0.2 and 2/20 = 0.1
        play(db, new_show(db), buyers)
    kept = db.execute("SELECT session_id, summary FROM show_summaries").fetchall()
    assert len(kept) == 2
    # What was kept is what folding the log again gives (the log is the truth).
    for sid, summary in kept:
        again = prompt_norms.fold_summary(db, sid)
        assert again == ShowSummary.from_data(orjson.loads(summary))
    rates = sorted(ShowSummary.from_data(orjson.loads(s)).conversions["p1"] for _, s in kept)
    assert rates == [(0.1,), (0.2,)]

    sid = new_show(db, {"drop_share": 0.4})
    settings = go_live(db, sid)
    assert settings.conversion_norms == {"p1": pytest.approx(0.15)}  # the median of 0.2, 0.1
    assert settings.drop_share == 0.4
    assert settings.configured == ("drop_share",)
    assert settings.from_shows == 2
    # A second call changes nothing: the show keeps what it went live with.
    with transaction(db) as conn:
        conn.execute("DELETE FROM show_summaries")
        conn.execute("UPDATE sessions SET prompt_settings = NULL WHERE id = ?", [sid])
    sessions.set_status(db, sid, SessionStatus.LIVE, time.time)
    assert initial_state(repository.get_session(db, sid)).turn_settings == settings


def test_shows_that_ended_before_there_were_summaries_are_folded_when_asked(db: Any) -> None:
    for buyers in (4, 2):
        play(db, new_show(db), buyers)
    with transaction(db) as conn:
        conn.execute("DELETE FROM show_summaries")
    sid = new_show(db)
    assert go_live(db, sid).conversion_norms == {"p1": pytest.approx(0.15)}
    assert db.execute("SELECT count(*) FROM show_summaries").fetchone()[0] == 2


def test_a_catalog_file_with_a_bad_threshold_is_refused_by_field(db: Any, tmp_path: Path) -> None:
    sid = new_show(db)
    path = tmp_path / "catalog.toml"
    path.write_text('lineup = ["p1"]\n\n[prompts]\nonline_drop_percent = 120\n', "utf-8")
    with pytest.raises(CatalogFileError, match=r"catalog\.toml: prompts\.online_drop_percent"):
        import_catalog(db, sid, path)
    path.write_text('lineup = ["p1"]\n\n[prompts]\nonline_drop = 40\n', "utf-8")
    with pytest.raises(CatalogFileError, match=r"prompts\.online_drop"):
        import_catalog(db, sid, path)
    path.write_text(
        'lineup = ["p1"]\n\n[prompts]\nonline_drop_percent = 40\nwindow_minutes = 3\n', "utf-8"
    )
    import_catalog(db, sid, path)
    assert repository.get_session(db, sid)["prompt_settings"] == {
        "drop_share": 0.4,
        "window_min": 3.0,
    }


def test_the_stores_fold_starts_from_what_the_show_went_live_with(db: Any) -> None:
    from console.store.replay_index import ReplayIndexes

    sid = new_show(db, {"window_min": 3.0, "conversion_share": 0.6})
    settings = go_live(db, sid)
    rehearsal.ingest(
        db, sid, [{"id": "j", "type": "viewer_joined", "ts": T0, "member_id": "m1"}], {}
    )
    state = ReplayIndexes().caught_up(db, sid).state
    assert state.seq == 1
    assert state.turn_settings == settings
    assert (settings.window_min, settings.conversion_share) == (3, 0.6)
