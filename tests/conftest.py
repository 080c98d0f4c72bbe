"""Fixtures shared by every test: isolation from the user's files, a real store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from tests.helpers import StoreProcess

# Property tests never fail on the machine's speed (no deadline). In CI they draw the same
# examples on every run, so a red CI reproduces locally; elsewhere they explore afresh.
settings.register_profile(
    "project", deadline=None, derandomize=bool(os.environ.get("CI")), print_blob=True
)
settings.load_profile("project")

XDG_DIRS = ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME")


@pytest.fixture(scope="session", autouse=True)
def _private_user_dirs_for_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Session fixtures too (the shared store process logs to the user's log directory)."""
    home = tmp_path_factory.mktemp("session-home")
    with pytest.MonkeyPatch.context() as patch:
        for name in XDG_DIRS:
            patch.setenv(name, str(home / name.lower()))
        # No test speaks through the machine's speakers: Qt Multimedia finds no sound server
        # (the playback test starts its own PulseAudio with null sinks, in a subprocess).
        patch.setenv("PULSE_SERVER", f"unix:{home / 'no-pulseaudio'}")
        patch.setenv("PIPEWIRE_REMOTE", str(home / "no-pipewire"))
        yield


@pytest.fixture(autouse=True)
def _private_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the real user's data, cache, settings or log directories."""
    home = tmp_path_factory.mktemp("home")
    for name in XDG_DIRS:
        monkeypatch.setenv(name, str(home / name.lower()))


@pytest.fixture(scope="session")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreProcess]:
    """One store process for tests that only add sessions of their own."""
    store = StoreProcess(tmp_path_factory.mktemp("shared-store") / "store.db")
    store.start()
    yield store
    store.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreProcess]:
    """A store of the test's own, free to be restarted or killed."""
    process = StoreProcess(tmp_path / "store.db")
    process.start()
    yield process
    process.stop()


_QT_TESTS = ("tests/ui/", "tests/e2e/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Qt's warnings fail the tests that drive Qt (``qt_log_level_fail``). A test that drives
    no Qt (the store's, the domain's) is not failed by them: a warning during it comes from a
    Qt object an earlier test left in the same worker process (Qt Multimedia's audio thread),
    and belongs to that test's checks, not this one's."""
    for item in items:
        if not any(part in item.nodeid for part in _QT_TESTS):
            item.add_marker(pytest.mark.qt_log_level_fail("CRITICAL"))
