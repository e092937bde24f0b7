"""The SQLite store for a command that only reads the log (``relay deliveries``, ``show``,
``events``, ``dlq list``, ``stats``, ``targets``, ``secrets list``): ``SqliteStore``'s reads,
the same statements (``SqlStore``), run on one connection in the calling thread, without
the writer thread, the reader pool or an event loop.

Its coroutines never suspend, so ``run_to_end`` drives a command's coroutine without
asyncio: importing asyncio, the thread pool and the writer was about a third of such a
command's start (``relay deliveries``: 310 ms, 205 without them, ``python -m
bench.cli_startup``). Everything that writes is refused (``NotImplementedError``): a command
that changes the store opens ``SqliteStore`` (``relay.store.open_store``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

from relay.ratelimit import RateLimit
from relay.store._sql import Dialect, MakeOp, run_sqlite
from relay.store._sql_store import SqlStore
from relay.store._sqlite_connect import connect, prepare
from relay.store.base import (
    AttemptResult,
    ClaimedDelivery,
    InsertResult,
    NewEvent,
    StoreUnavailable,
)

__all__ = ["SqliteReader", "run_to_end"]

T = TypeVar("T")
_BUSY_TIMEOUT = 5.0  # as SqliteStore's: a moment of the server's writes is waited out


def run_to_end(coro: Coroutine[Any, Any, T]) -> T:
    """The coroutine's result, for one that never suspends (it awaits only
    ``SqliteReader``'s methods); ``RuntimeError`` if it does (it is closed then)."""
    try:
        coro.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coro.close()
    raise RuntimeError("a coroutine run without an event loop waited for one")


class SqliteReader(SqlStore):
    """Read-only, one connection, the calling thread (see the module's docstring)."""

    _dialect = Dialect.SQLITE

    def __init__(self, path: str) -> None:
        if path == ":memory:":
            raise ValueError("SqliteReader reads a file: an in-memory database would be empty")
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        return connect(self.path, timeout=_BUSY_TIMEOUT)

    async def open(self) -> None:
        # as SqliteStore's: created and migrated; not tried for writes (it makes none)
        prepare(self.path, self._connect, memory=False, writes=False)
        try:
            self._conn = self._connect()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open {self.path}: {exc}") from exc

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def ping(self) -> bool:
        try:
            return self._open().execute("SELECT 1").fetchone() is not None
        except (sqlite3.Error, StoreUnavailable):
            return False

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreUnavailable(f"{self.path} is not open")
        return self._conn

    async def _read_op(self, make: MakeOp[T], *, atomic: bool = False) -> T:
        return run_sqlite(self._open(), make)  # autocommit, as SqliteStore's readers

    # writes: refused ---------------------------------------------------------------------

    def _refuse(self) -> NoReturn:
        raise NotImplementedError("SqliteReader only reads: open the store with open_store")

    async def _write_op(self, make: MakeOp[T], *, heavy: bool = False, single: bool = False) -> T:
        self._refuse()

    async def insert_event(self, event: NewEvent) -> InsertResult:
        self._refuse()

    async def claim(
        self,
        target: str,
        limit: int,
        now: float,
        owner: str,
        lease_seconds: float,
        *,
        max_in_flight: int | None = None,
        rate: RateLimit | None = None,
    ) -> list[ClaimedDelivery]:
        self._refuse()

    async def finish_attempt(self, claimed: ClaimedDelivery, result: AttemptResult) -> None:
        self._refuse()

    async def recover_dead(self, now: float, owner: str) -> list[str]:
        self._refuse()
