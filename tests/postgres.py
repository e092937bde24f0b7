"""The real PostgreSQL server for tests: a throwaway schema per test session.

``RELAY_TEST_POSTGRES_URL`` names the server (default ``postgresql://postgres@127.0.0.1:5432/
test``, then the same as user ``root``). Every test session creates ``relay_test_<random>``,
points the store at it with ``?search_path=`` and drops it at the end. Without a reachable
server the PostgreSQL tests are skipped, unless ``RELAY_REQUIRE_POSTGRES=1`` (``.ci/run``
sets it): then they fail.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

from relay.clock import Clock
from relay.store.postgres import DEFAULT_LEASE_TTL, PostgresStore

__all__ = [
    "DEFAULT_URL",
    "PgServer",
    "create_schema",
    "drop_schema",
    "find_server",
    "open_clean_store",
    "run_sync",
    "truncate",
    "with_search_path",
]

T = TypeVar("T")
_REFERENCING = ("attempts", "transitions", "deliveries")
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
_FALLBACK_USER = "root"


def with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "search_path"]
    query.append(("search_path", schema))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


class PgServer:
    """A reachable server (``url``), or why there is none (``reason``)."""

    def __init__(self, url: str | None, reason: str) -> None:
        self.url = url
        self.reason = reason

    def require(self) -> str:
        if self.url is not None:
            return self.url
        message = f"PostgreSQL tests need a server: {self.reason}"
        if os.environ.get("RELAY_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " (RELAY_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(message)


async def _reachable(url: str) -> str | None:
    try:
        conn = await asyncpg.connect(url, timeout=5.0)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to the end on a loop of its own (in a thread: callers may be inside one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def find_server() -> PgServer:
    url = os.environ.get("RELAY_TEST_POSTGRES_URL") or DEFAULT_URL
    errors = []
    for candidate in dict.fromkeys([url, _as_user(url, _FALLBACK_USER)]):
        error = run_sync(_reachable(candidate))
        if error is None:
            return PgServer(candidate, "")
        errors.append(f"{_as_user(candidate, '***') if '@' in candidate else candidate}: {error}")
    hint = "set RELAY_TEST_POSTGRES_URL"
    return PgServer(None, "; ".join(errors) + f" ({hint})")


async def create_schema(url: str, prefix: str = "relay_test") -> str:
    schema = f"{prefix}_{secrets.token_hex(5)}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    return schema


async def drop_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def truncate(store: PostgresStore) -> None:
    """Empty every relay table of the store's schema (its schema version stays). DELETE,
    not TRUNCATE: on tables this small it is many times faster."""
    conn = await asyncpg.connect(store.url)
    try:
        tables = {
            str(t[0])
            for t in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'relay_schema'"
            )
        }
        first = [t for t in _REFERENCING if t in tables]  # rows that point at others go first
        async with conn.transaction():
            for table in [*first, *sorted(tables - set(first))]:
                await conn.execute(f'DELETE FROM "{table}"')  # noqa: S608 (catalog names)
    finally:
        await conn.close()


async def open_clean_store(
    url: str, *, clock: Clock | None = None, lease_ttl: float | None = DEFAULT_LEASE_TTL
) -> PostgresStore:
    """An opened store on an emptied schema."""
    store = PostgresStore(url, clock=clock, lease_ttl=lease_ttl)
    await store.open()
    await truncate(store)
    return store
