"""One writer thread per SQLite database, with group commit.

Every write is a function of a ``sqlite3.Connection``. The thread takes everything queued
while the previous commit ran, runs the functions in one transaction (again with a savepoint
each when one of them fails, so that one failing write does not spoil the batch), commits
once, and only then resolves the callers' futures.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from relay.store.base import StoreUnavailable

__all__ = ["SqliteWriter"]

T = TypeVar("T")
_MAX_BATCH = 1024


@dataclass(slots=True)
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def _resolve(job: _Job, result: Any, error: BaseException | None) -> None:
    if job.future.done():
        return
    if error is not None:
        job.future.set_exception(error)
    else:
        job.future.set_result(result)


class SqliteWriter:
    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.batches = 0
        self.writes = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="relay-sqlite-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise StoreUnavailable(f"cannot open database: {self._startup_error}")

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    async def submit(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._thread is None:
            raise StoreUnavailable("store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Job(fn, future, loop))
        return await future

    def _run(self) -> None:
        try:
            conn = self._connect()
        except BaseException as exc:  # reported to start()
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                stop = False
                while len(batch) < _MAX_BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
                self._commit(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        try:
            outcomes = self._run_batch(conn, batch)
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            failure = StoreUnavailable(f"database write failed: {exc}")
            outcomes = [(None, failure) for _ in batch]
        self.batches += 1
        self.writes += len(batch)
        for job, (result, error) in zip(batch, outcomes, strict=True):
            # RuntimeError: the caller's loop is gone; the write itself stands.
            with contextlib.suppress(RuntimeError):
                job.loop.call_soon_threadsafe(_resolve, job, result, error)

    def _run_batch(
        self, conn: sqlite3.Connection, batch: list[_Job]
    ) -> list[tuple[Any, BaseException | None]]:
        """Run the batch in one transaction, optimistically without a savepoint per job (two
        statements fewer each); only when a job fails is the batch rolled back and run again
        with a savepoint around each job, so that one failing write does not spoil the rest.
        Jobs are functions of the connection alone, so running one again is safe."""
        conn.execute("BEGIN IMMEDIATE")
        outcomes: list[tuple[Any, BaseException | None]] = []
        failed = False
        for job in batch:
            try:
                outcomes.append((job.fn(conn), None))
            except Exception as exc:
                if len(batch) == 1:
                    conn.execute("ROLLBACK")
                    return [(None, exc)]
                failed = True
                break
        if not failed:
            conn.execute("COMMIT")
            return outcomes
        conn.execute("ROLLBACK")
        conn.execute("BEGIN IMMEDIATE")
        outcomes = []
        for job in batch:
            conn.execute("SAVEPOINT job")
            try:
                result = job.fn(conn)
            except Exception as exc:
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                outcomes.append((None, exc))
            else:
                conn.execute("RELEASE job")
                outcomes.append((result, None))
        conn.execute("COMMIT")
        return outcomes
