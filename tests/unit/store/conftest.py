"""One suite, two backends: ``store`` is SQLite (a file, then ``:memory:``) and the real
PostgreSQL server (this session's schema, emptied before each test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relay.store import SqliteStore
from tests.postgres import open_clean_store
from tests.unit.store.builders import AnyStore

BACKENDS = ["sqlite-file", "sqlite-memory", "postgres"]


async def open_backend(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> AnyStore:
    if backend == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return await open_clean_store(url)
    store = SqliteStore(tmp_path / "relay.db" if backend == "sqlite-file" else ":memory:")
    await store.open()
    return store


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AnyStore]:
    opened = await open_backend(request, request.param, tmp_path)
    try:
        yield opened
    finally:
        await opened.close()
