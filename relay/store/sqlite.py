"""The embedded store: one SQLite file in WAL mode, one writer thread with group commit.

``SqliteStore(":memory:")`` keeps everything in memory (tests, dry runs).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

from relay.ids import new_id
from relay.ratelimit import RateLimit
from relay.store import _sqlite_ingest as ingest
from relay.store import _sqlite_lifecycle as lifecycle
from relay.store._sql import Dialect, MakeOp, run_sqlite
from relay.store._sql_store import SqlStore
from relay.store._sqlite_connect import MIN_SQLITE, connect, prepare
from relay.store._sqlite_writer import SqliteWriter
from relay.store.base import (
    AttemptResult,
    ClaimedDelivery,
    InsertResult,
    NewEvent,
    StoreUnavailable,
)

__all__ = ["MIN_SQLITE", "SqliteStore"]

T = TypeVar("T")
# writes between checkpoints (an ingested event is about three WAL pages). Measured with the
# ingest benchmark: every 1,000 writes, the loop's final step took 6 ms and the p99 was
# 18.6-19.9 ms; every 250, 1.2-2.5 ms and 16.0-16.6 ms, for about 3 % less throughput.
CHECKPOINT_EVERY = 250


class SqliteStore(SqlStore):
    """What both SQL stores share is ``SqlStore``'s (relay/store/_sql_store.py): here, the
    connections, the group-commit writer and its hot paths (ingest, claim, finish)."""

    _dialect = Dialect.SQLITE

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        self.path = str(path)
        self._memory = self.path == ":memory:"
        self._uri = f"file:relay-{new_id('mem')}?mode=memory&cache=shared" if self._memory else None
        self._busy_timeout = busy_timeout
        self._writer = SqliteWriter(
            self._connect,
            inline_connect=None if self._memory else partial(self._connect, busy_timeout=0.0),
            checkpoint_every=None if self._memory else CHECKPOINT_EVERY,
        )
        self._readers: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._keepalive: sqlite3.Connection | None = None

    # lifecycle ---------------------------------------------------------------------------

    def _connect(self, busy_timeout: float | None = None) -> sqlite3.Connection:
        timeout = self._busy_timeout if busy_timeout is None else busy_timeout
        return connect(self.path, timeout=timeout, uri=self._uri)

    async def open(self) -> None:
        if self._memory:
            self._keepalive = self._connect()
        prepare(self.path, self._connect, memory=self._memory, writes=True)
        self._writer.start()
        if not self._memory:
            self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="relay-sqlite-r")

    async def close(self) -> None:
        self._writer.stop()
        if self._readers is not None:
            self._readers.shutdown(wait=True)
            self._readers = None
        if self._keepalive is not None:
            self._keepalive.close()
            self._keepalive = None

    async def ping(self) -> bool:
        try:
            await self._read(lambda c: c.execute("SELECT 1").fetchone())
        except (sqlite3.Error, StoreUnavailable):
            return False
        return True

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._readers is None:
            return await self._writer.submit(fn)

        def run() -> T:
            conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._connect()
                self._local.conn = conn
            return fn(conn)

        return await asyncio.get_running_loop().run_in_executor(self._readers, run)

    async def _read_op(self, make: MakeOp[T], *, atomic: bool = False) -> T:
        return await self._read(partial(run_sqlite, make=make))  # a reader is one snapshot

    async def _write_op(self, make: MakeOp[T], *, heavy: bool = False, single: bool = False) -> T:
        return await self._writer.submit(partial(run_sqlite, make=make), heavy=heavy)

    @property
    def group_commit_stats(self) -> tuple[int, int]:
        """(commits, writes) since open: writes/commits is the mean batch size."""
        return self._writer.batches, self._writer.writes

    # ingest ------------------------------------------------------------------------------

    async def insert_event(self, event: NewEvent) -> InsertResult:
        return await self._writer.submit(partial(ingest.insert_event, event=event))

    # delivery ----------------------------------------------------------------------------

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
        if limit <= 0:
            return []
        # ``rate``: one relay serve owns the file, and its worker's own bucket is the limit
        return await self._writer.submit(
            partial(
                lifecycle.claim,
                target=target,
                limit=limit,
                now=now,
                owner=owner,
                lease=lease_seconds,
                max_in_flight=max_in_flight,
            )
        )

    async def finish_attempt(self, claimed: ClaimedDelivery, result: AttemptResult) -> None:
        await self._writer.submit(partial(lifecycle.finish_attempt, claimed=claimed, result=result))

    async def recover_dead(self, now: float, owner: str) -> list[str]:
        return []  # one instance per file (its lock): no other owner's leases to judge
