"""The in-process delivery engine tests run on each backend: SQLite in memory, and the real
PostgreSQL server (this session's schema, emptied before each test)."""

from __future__ import annotations

import pytest

from relay.store.base import Store
from relay.store.postgres import PostgresStore
from tests import harness
from tests.postgres import open_clean_store, run_sync


async def _empty(url: str) -> None:
    store = await open_clean_store(url)
    await store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which store ``running_relay`` gives a test that names none (the worker tests use it:
    ``pytestmark = pytest.mark.usefixtures("backend")``)."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        run_sync(_empty(url))

        def postgres() -> Store:
            return PostgresStore(url)

        monkeypatch.setattr(harness, "default_store", postgres)
    name: str = request.param
    return name
