"""The store process logs to the user's log file, uvicorn's own records included."""

from __future__ import annotations

from console.logs import log_file
from tests.helpers import StoreProcess


def test_the_store_and_uvicorn_log_to_the_users_log_file(store: StoreProcess) -> None:
    store.stop()  # uvicorn logs its shutdown too
    logged = log_file().read_text(encoding="utf-8")
    assert f"INFO console.store.server: store {store.db_path} listening on {store.url}" in logged
    assert "INFO uvicorn.error: Application startup complete." in logged
    assert "INFO uvicorn.error: Finished server process" in logged
