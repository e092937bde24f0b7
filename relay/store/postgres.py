"""The PostgreSQL store: several relay instances on one database (``--db postgresql://...``).

Ingest. ``insert_event`` joins a group commit (relay/store/_pg_writer.py): everything queued
while the previous batch was written goes in one transaction with set-based inserts
(relay/store/_pg_ingest.py), and the callers are answered after the commit. Dedupe is the
unique index on ``(source, dedupe_key)``: ``ON CONFLICT DO NOTHING``, then the stored twin is
selected, so two instances receiving the same re-delivery at once store it once and both
answer with the same event id. A route's dedupe window is checked under a transaction-level
advisory lock per (route, key), so it holds across instances too.

Claims. ``claim`` runs in one transaction: ``FOR UPDATE SKIP LOCKED`` picks due deliveries
that no concurrent transaction holds, and each is leased to the instance (``lease_owner``,
``lease_expires_at``) with its attempt row opened.

The per-target limit is exact across instances. With ``max_in_flight`` (the worker passes
the target's ``max_concurrency``), the claim transaction first takes ``pg_advisory_xact_lock``
on the target, then, in the next statement, counts the target's ``in_flight`` deliveries and
claims at most ``max_in_flight - count`` (relay/store/_pg_lifecycle.py). The lock is held
for two round trips: that statement and the commit. Why the count can be trusted:

1. A delivery enters ``in_flight`` only in a claim, and every claim of the target (on any
   instance) holds the target's lock from before its count until its commit: claims of one
   target happen one after the other.
2. The lock is released only after the holder's commit is visible, and under READ COMMITTED
   the count statement takes its snapshot after the lock was granted: it sees every earlier
   claim. So ``count`` is at least the number of deliveries in flight at the commit.
3. Every other move (finish, recover, cancel, replay) only takes deliveries out of
   ``in_flight``; one that commits after the count makes the true number smaller, never
   larger.

Hence after every claim ``in_flight <= max_in_flight``. An attempt is under way at the target
only while its delivery is ``in_flight``: the worker sends after the claim commits and
records the end (``finish_attempt``) after the answer, and a lease is taken back only once it
expired (below). So no more than ``max_in_flight`` runs are ever started at once, whatever
the number of instances. Lowering the limit (config reload) holds new claims until enough
attempts ended. Claims without ``max_in_flight`` skip the lock.

Leases. An instance renews the leases of its running attempts (relay/store/_pg_leases.py):
after a crash they expire within ``lease_ttl`` and any instance's sweep takes them back
(``recover_expired`` without ``owner`` touches expired leases only; with PostgreSQL
``relay serve`` never asks for ``owner``: other instances' live leases are left alone).
Sooner than that, a lease owner holds a liveness token, a session-level advisory lock, from
before its first claim (relay/store/_pg_liveness.py): ``recover_dead`` takes back at once
the leases of owners whose session ended (kill -9, OOM, lost machine), through the same
recovery.

New work. Every transaction that stores or re-queues deliveries ends with ``pg_notify``
(sent at commit); each instance LISTENs (relay/store/_pg_listen.py) and calls the callbacks
given to ``on_new_work`` (the app wakes the target's worker loop), so an idle instance starts
a delivery a few milliseconds after another one stored it. The worker's poll stays as the
safety net. The channel is per schema: deployments in other schemas do not wake each other.

Schema. ``open`` migrates (relay/store/_pg_schema.py) under a session advisory lock, so
instances starting together migrate once. The schema is the connection's ``search_path``
(``?search_path=name`` in the URL, or the role's default, usually ``public``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

import asyncpg

from relay.clock import Clock, SystemClock
from relay.logs import get_logger
from relay.ratelimit import RateLimit
from relay.store import _pg_lifecycle as lifecycle
from relay.store._pg_leases import LeaseKeeper
from relay.store._pg_listen import WorkListener
from relay.store._pg_liveness import KEEPALIVE, LivenessToken, recover_dead
from relay.store._pg_schema import migrate
from relay.store._pg_sql import Conn, run_pg
from relay.store._pg_writer import PgIngestWriter, unreachable
from relay.store._sql import Dialect, MakeOp
from relay.store._sql_store import SqlStore
from relay.store.base import (
    AttemptResult,
    ClaimedDelivery,
    DeliveryRecord,
    InsertResult,
    NewEvent,
    StoreUnavailable,
)

__all__ = ["DEFAULT_LEASE_TTL", "PostgresStore"]

T = TypeVar("T")
DEFAULT_LEASE_TTL = 30.0
Work = Callable[[Conn], Awaitable[T]]


async def _reset(conn: Conn) -> None:
    """On release to the pool: relay leaves no session state (its locks are transaction
    locks; LISTEN has its own connection), so only an open transaction is undone. asyncpg's
    default reset would cost one more round trip per operation."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class PostgresStore(SqlStore):
    """What both SQL stores share is ``SqlStore``'s (relay/store/_sql_store.py): here, the
    pool, the ingest writer, claim and finish (one-statement CTEs), leases and liveness."""

    _dialect = Dialect.POSTGRES

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        lease_ttl: float | None = DEFAULT_LEASE_TTL,
        pool_size: int = 10,
        writers: int = 2,
        command_timeout: float = 60.0,
    ) -> None:
        self.url = url
        self._clock = clock or SystemClock()
        self._pool_size = pool_size
        self._command_timeout = command_timeout
        self._pool: asyncpg.Pool | None = None
        self._channel = "relay_work"
        self._schema = "public"
        self._writer = PgIngestWriter(self._live_pool, lambda: self._channel, writers=writers)
        self._leases = LeaseKeeper(lease_ttl, self._clock)
        self._token = LivenessToken(
            lambda: asyncpg.connect(self.url, timeout=10.0, server_settings=KEEPALIVE),
            self._clock,
        )
        self._callbacks: list[Callable[[str], None]] = []
        self._listener: WorkListener | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._log = get_logger()

    # lifecycle ---------------------------------------------------------------------------

    def on_new_work(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    def _heard(self, target: str) -> None:
        for callback in self._callbacks:
            callback(target)

    async def _connect(self) -> Conn:
        return await asyncpg.connect(self.url, timeout=10.0)

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self._pool_size,
                command_timeout=self._command_timeout,
                timeout=10.0,
                reset=_reset,
            )
            async with self._pool.acquire() as conn:
                before, after = await migrate(conn)
                schema = await conn.fetchval("SELECT current_schema()")
            self._schema = str(schema)
            self._channel = f"relay_work:{schema}"[:63]
            if self._callbacks:
                self._listener = WorkListener(self._connect, self._channel, self._heard)
                await self._listener.start()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
            await self._close_pool()
            raise StoreUnavailable(f"cannot open the PostgreSQL store: {exc}") from exc
        if after != before:
            self._log.info("relay.store.migrated", backend="postgresql", before=before, after=after)
        self._writer.start()
        if self._leases.interval is not None:
            self._renewer = asyncio.create_task(self._renew_leases(), name="relay-pg-leases")

    async def close(self) -> None:
        await self._writer.stop()
        await self._token.stop()
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        await self._close_pool()

    async def _close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=10.0)
            except TimeoutError:
                pool.terminate()

    def _live_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreUnavailable("store is closed")
        return self._pool

    async def ping(self) -> bool:
        try:
            async with self._live_pool().acquire(timeout=5.0) as conn:
                await conn.fetchval("SELECT 1", timeout=5.0)
        except Exception:
            return False
        return True

    async def _run(self, fn: Work[T], *, transaction: bool = True) -> T:
        try:
            async with self._live_pool().acquire() as conn:
                if not transaction:
                    return await fn(conn)
                async with conn.transaction():
                    return await fn(conn)
        except Exception as exc:
            if unreachable(exc):
                raise StoreUnavailable(f"database unavailable: {exc}") from exc
            raise

    async def _read_op(self, make: MakeOp[T], *, atomic: bool = False) -> T:
        return await self._run(partial(run_pg, make=make), transaction=atomic)

    async def _write_op(self, make: MakeOp[T], *, heavy: bool = False, single: bool = False) -> T:
        work = partial(run_pg, make=make, channel=self._channel)
        return await self._run(work, transaction=not single)

    async def _renew_leases(self) -> None:
        interval = self._leases.interval
        assert interval is not None
        while True:
            await asyncio.sleep(interval)
            try:
                await self.renew_leases()
            except Exception as exc:  # the next round tries again; the ttl leaves two
                self._log.error("relay.store.lease_renew_failed", error=str(exc))

    async def renew_leases(self) -> int:
        """Extend the leases of this process's running attempts (done every ``ttl / 3``)."""
        if not self._leases.held:
            return 0
        return await self._run(self._leases.renew, transaction=False)

    @property
    def group_commit_stats(self) -> tuple[int, int]:
        """(commits, writes) of ingest since open: writes/commits is the mean batch size."""
        return self._writer.batches, self._writer.writes

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.listening

    # ingest and delivery -----------------------------------------------------------------

    async def insert_event(self, event: NewEvent) -> InsertResult:
        return await self._writer.submit(event)

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
        await self._token.hold(owner)  # before any lease of ``owner`` exists
        claimed = await self._run(
            partial(
                lifecycle.claim,
                target=target,
                limit=limit,
                now=now,
                owner=owner,
                lease=self._leases.lease(lease_seconds),
                max_in_flight=max_in_flight,
                lock_key=lifecycle.claim_lock_key(self._schema, target),
                rate=rate,
            ),
            transaction=False,
        )
        self._leases.hold(claimed, owner, now + lease_seconds)
        return claimed

    async def finish_attempt(self, claimed: ClaimedDelivery, result: AttemptResult) -> None:
        # One statement (relay/store/_pg_lifecycle.py: _FINISH), atomic by itself: no
        # BEGIN and COMMIT round trips around it.
        await self._run(
            partial(lifecycle.finish_attempt, claimed=claimed, result=result), transaction=False
        )
        self._leases.release(claimed)

    async def claim_checks(
        self, target: str, limit: int, now: float, owner: str, lease_seconds: float
    ) -> list[DeliveryRecord]:
        await self._token.hold(owner)  # a check's lease is a lease too
        return await super().claim_checks(target, limit, now, owner, lease_seconds)

    async def recover_dead(self, now: float, owner: str) -> list[str]:
        await self._token.keep()
        dead, recovered = await self._run(
            partial(recover_dead, now=now, mine=[owner, *self._token.owners], channel=self._channel)
        )
        if dead:
            self._log.warning(
                "relay.store.lease_owners_gone", owners=dead, recovered=len(recovered)
            )
        return recovered

    @property
    def liveness_pid(self) -> int | None:
        """The backend pid of the session holding this store's liveness tokens."""
        return self._token.pid
