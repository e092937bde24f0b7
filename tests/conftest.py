"""Fixtures every test directory may use: the PostgreSQL test server and session schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres import (
    PgServer,
    create_schema,
    drop_schema,
    find_server,
    run_sync,
    with_search_path,
)

# The secret scan over the whole suite, and the reliability figures (tests/suite_plugin.py).
pytest_plugins = ["tests.suite_plugin"]


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    return find_server()


@pytest.fixture(scope="session")
def pg_server_url(pg_server: PgServer) -> str:
    """The server itself (tests that make schemas of their own)."""
    return pg_server.require()


@pytest.fixture(scope="session")
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A database URL on this session's own schema (skips, or fails under
    RELAY_REQUIRE_POSTGRES=1, without a server)."""
    server = pg_server.require()
    schema = run_sync(create_schema(server))
    try:
        yield with_search_path(server, schema)
    finally:
        run_sync(drop_schema(server, schema))
