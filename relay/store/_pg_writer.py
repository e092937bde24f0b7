"""Group commit for ingest on PostgreSQL.

``insert_event`` queues the event and waits. A few writer tasks each take everything queued
(up to ``max_batch``), store it in one transaction (relay/store/_pg_ingest.py), and resolve
the callers' futures only after the commit: one round of statements and one WAL flush for
the whole batch instead of one per request. When a batch fails on a statement, each of its
events is tried again alone, so that one bad event fails only its own caller; when the
database cannot be reached, every caller gets ``StoreUnavailable`` (the sender retries).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from relay.store._pg_ingest import insert_batch
from relay.store.base import InsertResult, NewEvent, StoreUnavailable

__all__ = ["PgIngestWriter", "unreachable"]

_UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
)


def unreachable(exc: BaseException) -> bool:
    """The database did not answer (as opposed to refusing one statement)."""
    return isinstance(exc, _UNREACHABLE)


@dataclass(slots=True)
class _Job:
    event: NewEvent
    future: asyncio.Future[InsertResult]


def _resolve(job: _Job, result: InsertResult | None, error: BaseException | None) -> None:
    if job.future.done():  # the caller went away; the write itself stands
        return
    if error is not None:
        job.future.set_exception(error)
    else:
        assert result is not None
        job.future.set_result(result)


class PgIngestWriter:
    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        channel: Callable[[], str],
        *,
        writers: int = 2,
        max_batch: int = 512,
    ) -> None:
        self._pool = pool
        self._channel = channel
        self._writers = writers
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.batches = 0
        self.writes = 0

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._tasks = [
            asyncio.create_task(self._run(), name=f"relay-pg-writer-{n}")
            for n in range(self._writers)
        ]

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        tasks, self._tasks = self._tasks, []
        for _ in tasks:
            self._queue.put_nowait(None)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def submit(self, event: NewEvent) -> InsertResult:
        if not self._tasks:
            raise StoreUnavailable("store is closed")
        future: asyncio.Future[InsertResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(event, future))
        return await future

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            await self._commit(batch)
            if stop:
                return

    async def _commit(self, batch: list[_Job]) -> None:
        try:
            results = await self._write([job.event for job in batch])
        except Exception as exc:
            if unreachable(exc) or len(batch) == 1:
                failure = StoreUnavailable(f"database write failed: {exc}")
                for job in batch:
                    _resolve(job, None, failure)
                return
            for job in batch:  # one bad event must not fail the others
                await self._commit([job])
            return
        for job, result in zip(batch, results, strict=True):
            _resolve(job, result, None)

    async def _write(self, events: list[NewEvent]) -> list[InsertResult]:
        async with self._pool().acquire() as conn, conn.transaction():
            results = await insert_batch(conn, events, self._channel())
        self.batches += 1
        self.writes += len(events)
        return results
