"""One writer per SQLite database, with group commit.

Every write is a function of a ``sqlite3.Connection``. A batch runs the functions in one
transaction (again with a savepoint each when one of them fails, so that one failing write
does not spoil the batch), commits once, and only then resolves the callers' futures.

Where a batch runs: with ``inline_connect``, the writes one turn of the event loop submitted
run at the end of that turn on the loop itself, on a connection that never waits for
SQLite's lock. Handing each write to a thread and back costs more than the write (the GIL
changes hands several times per statement; measured: a third of ingest throughput). When the
lock is taken (another process writes to the file, or the thread is busy) the batch goes to
the writer thread instead, whose connection waits for the lock as long as its busy timeout
allows, so the loop never blocks on the lock. Writes marked ``heavy`` (sweeps over many
rows) always go to the thread. Without ``inline_connect`` (an in-memory database) every
batch goes to the thread.

Checkpoints (with ``checkpoint_every``; the connections set ``wal_autocheckpoint=0``): left
to SQLite, a commit that finds 1,000 pages in the WAL copies them all back into the database
before it returns: 10-18 ms with the loop stopped, about once in a hundred batches under
load, which showed in the p99 ack time. Here, every ``checkpoint_every`` writes, the writer
thread copies the WAL back (PASSIVE: writers go on meanwhile, and the GIL is free while
SQLite copies), then the loop copies the few pages committed in the meantime, so that the
whole WAL is backfilled and the next write starts it again from the top: the WAL file stays
as small as SQLite's own checkpoints keep it.
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
class _Checkpoint:
    loop: asyncio.AbstractEventLoop | None  # whose inline connection finishes it, if any


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
    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        inline_connect: Callable[[], sqlite3.Connection] | None = None,
        checkpoint_every: int | None = None,
    ) -> None:
        self._connect = connect
        self._inline_connect = inline_connect
        self._inline: sqlite3.Connection | None = None
        self._pending: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        self.handed_over = 0  # inline batches that found the lock taken
        self._queue: queue.SimpleQueue[_Job | _Checkpoint | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.batches = 0
        self.writes = 0
        self._checkpoint_every = checkpoint_every
        self._checkpoint_lock = threading.Lock()
        self._since_checkpoint = 0
        self._checkpointing = False
        self.checkpoints = 0  # copied back by the thread
        self.checkpoints_finished = 0  # and then by the loop

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="relay-sqlite-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise StoreUnavailable(f"cannot open database: {self._startup_error}")

    def stop(self) -> None:
        for jobs in self._pending.values():  # submitted, not run yet: the thread runs them
            for job in jobs:
                self._queue.put(job)
        self._pending.clear()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._inline is not None:
            self._inline.close()
            self._inline = None

    async def submit(self, fn: Callable[[sqlite3.Connection], T], *, heavy: bool = False) -> T:
        if self._thread is None:
            raise StoreUnavailable("store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(fn, future, loop)
        inline_connect = self._inline_connect
        if heavy or inline_connect is None:
            self._queue.put(job)
        else:
            pending = self._pending.get(loop)
            if pending is None:
                pending = self._pending[loop] = []
                loop.call_soon(self._run_inline, loop, inline_connect)
            pending.append(job)
        return await future

    def _run_inline(
        self, loop: asyncio.AbstractEventLoop, connect: Callable[[], sqlite3.Connection]
    ) -> None:
        """At the end of a loop turn: its writes in one transaction, if the lock is free."""
        jobs = self._pending.pop(loop, None)
        if not jobs:
            return
        try:
            conn = self._inline
            if conn is None:
                conn = self._inline = connect()
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:  # locked (or cannot connect): the thread waits for the lock
            self.handed_over += 1
            for job in jobs:
                self._queue.put(job)
            return
        outcomes = self._outcomes(conn, jobs, begun=True)
        for job, (result, error) in zip(jobs, outcomes, strict=True):
            _resolve(job, result, error)
        self._count(len(jobs), loop)

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
                if isinstance(first, _Checkpoint):
                    self._checkpoint(conn, first)
                    continue
                batch = [first]
                stop = False
                checkpoint: _Checkpoint | None = None
                while len(batch) < _MAX_BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stop = True
                        break
                    if isinstance(item, _Checkpoint):
                        checkpoint = item
                        break
                    batch.append(item)
                self._commit(conn, batch)
                self._count(len(batch), None)
                if checkpoint is not None:
                    self._checkpoint(conn, checkpoint)
                if stop:
                    return
        finally:
            conn.close()

    # checkpoints -------------------------------------------------------------------------

    def _count(self, writes: int, loop: asyncio.AbstractEventLoop | None) -> None:
        """Count committed writes; every ``checkpoint_every`` of them, ask for a checkpoint
        (finished by ``loop``'s inline connection when the writes ran there)."""
        if self._checkpoint_every is None:
            return
        with self._checkpoint_lock:
            self._since_checkpoint += writes
            if self._checkpointing or self._since_checkpoint < self._checkpoint_every:
                return
            self._checkpointing = True
            self._since_checkpoint = 0
        self._queue.put(_Checkpoint(loop))

    def _checkpoint(self, conn: sqlite3.Connection, request: _Checkpoint) -> None:
        """On the thread: copy the WAL back while writers go on."""
        with contextlib.suppress(sqlite3.Error):  # e.g. another process checkpointing
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.checkpoints += 1
        if request.loop is not None:
            try:
                request.loop.call_soon_threadsafe(self._finish_checkpoint)
            except RuntimeError:  # the loop is gone
                pass
            else:
                return
        self._checkpoint_done()

    def _finish_checkpoint(self) -> None:
        """On the loop, between batches: copy back what was committed meanwhile."""
        conn = self._inline
        if conn is not None and not conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.checkpoints_finished += 1
        self._checkpoint_done()

    def _checkpoint_done(self) -> None:
        with self._checkpoint_lock:
            self._checkpointing = False

    def _commit(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        outcomes = self._outcomes(conn, batch)
        for job, (result, error) in zip(batch, outcomes, strict=True):
            # RuntimeError: the caller's loop is gone; the write itself stands.
            with contextlib.suppress(RuntimeError):
                job.loop.call_soon_threadsafe(_resolve, job, result, error)

    def _outcomes(
        self, conn: sqlite3.Connection, batch: list[_Job], *, begun: bool = False
    ) -> list[tuple[Any, BaseException | None]]:
        """Each job's result or error; a database that fails the batch fails every job."""
        try:
            outcomes = self._run_batch(conn, batch, begun=begun)
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            failure = StoreUnavailable(f"database write failed: {exc}")
            outcomes = [(None, failure) for _ in batch]
        self.batches += 1
        self.writes += len(batch)
        return outcomes

    def _run_batch(
        self, conn: sqlite3.Connection, batch: list[_Job], *, begun: bool = False
    ) -> list[tuple[Any, BaseException | None]]:
        """Run the batch in one transaction, optimistically without a savepoint per job (two
        statements fewer each); only when a job fails is the batch undone (to a savepoint, so
        the transaction keeps its write lock) and run again with a savepoint around each job,
        so that one failing write does not spoil the rest. Jobs are functions of the
        connection alone, so running one again is safe."""
        if not begun:
            conn.execute("BEGIN IMMEDIATE")
        if len(batch) == 1:
            try:
                result = batch[0].fn(conn)
            except Exception as exc:
                conn.execute("ROLLBACK")
                return [(None, exc)]
            conn.execute("COMMIT")
            return [(result, None)]
        conn.execute("SAVEPOINT batch")
        try:
            outcomes: list[tuple[Any, BaseException | None]] = [
                (job.fn(conn), None) for job in batch
            ]
        except Exception:
            conn.execute("ROLLBACK TO batch")
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
        conn.execute("RELEASE batch")
        conn.execute("COMMIT")
        return outcomes
