"""The embedded store: one SQLite file in WAL mode, one writer thread with group commit.

``SqliteStore(":memory:")`` keeps everything in memory (tests, dry runs).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from relay.ids import new_id
from relay.store._records import (
    ATTEMPT_COLUMNS,
    DELIVERY_COLUMNS,
    EVENT_COLUMNS,
    attempt_from_row,
    delivery_from_row,
    dump_json,
    event_from_row,
)
from relay.store._sqlite_schema import migrate
from relay.store._sqlite_writer import SqliteWriter
from relay.store.base import (
    CLAIMABLE,
    REPLAYABLE,
    AttemptRecord,
    AttemptResult,
    ClaimedDelivery,
    DeliveryRecord,
    DeliveryStatus,
    EventRecord,
    InsertResult,
    NewEvent,
    StoreUnavailable,
)

__all__ = ["SqliteStore"]

T = TypeVar("T")
_CLAIMABLE_SQL = ", ".join(f"'{s.value}'" for s in CLAIMABLE)


class SqliteStore:
    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        self.path = str(path)
        self._memory = self.path == ":memory:"
        self._uri = f"file:relay-{new_id('mem')}?mode=memory&cache=shared" if self._memory else None
        self._busy_timeout = busy_timeout
        self._writer = SqliteWriter(self._connect)
        self._readers: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._keepalive: sqlite3.Connection | None = None

    # lifecycle ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._uri is not None:
            conn = sqlite3.connect(
                self._uri, uri=True, isolation_level=None, check_same_thread=False
            )
        else:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=self._busy_timeout,
                check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    async def open(self) -> None:
        if self._memory:
            self._keepalive = self._connect()
        else:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = self._connect()
            try:
                migrate(conn)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open {self.path}: {exc}") from exc
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

    @property
    def group_commit_stats(self) -> tuple[int, int]:
        """(commits, writes) since open: writes/commits is the mean batch size."""
        return self._writer.batches, self._writer.writes

    # ingest ------------------------------------------------------------------------------

    async def insert_event(self, event: NewEvent) -> InsertResult:
        def op(conn: sqlite3.Connection) -> InsertResult:
            if event.dedupe_key is not None:
                row = conn.execute(
                    "SELECT id FROM events WHERE source = ? AND dedupe_key = ?",
                    (event.source, event.dedupe_key),
                ).fetchone()
                if row is not None:
                    conn.execute(
                        "UPDATE events SET duplicates = duplicates + 1 WHERE id = ?", (row[0],)
                    )
                    return InsertResult(event_id=row[0], duplicate=True)
            conn.execute(
                "INSERT INTO events (id, source, dedupe_key, provider_event_id, event_type, "
                "received_at, status, error, body, headers, query) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.id,
                    event.source,
                    event.dedupe_key,
                    event.provider_event_id,
                    event.event_type,
                    event.received_at,
                    event.status.value,
                    event.error,
                    event.body,
                    dump_json(dict(event.headers)),
                    dump_json(dict(event.query)),
                ),
            )
            for d in event.deliveries:
                due = event.received_at if d.status == DeliveryStatus.PENDING else None
                conn.execute(
                    "INSERT INTO deliveries (id, event_id, route, target, function_id, "
                    "variables, stream, status, max_attempts, retry_policy, idempotent, "
                    "next_attempt_at, created_at, updated_at, last_error) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        d.id,
                        event.id,
                        d.route,
                        d.target,
                        d.function_id,
                        None if d.variables is None else dump_json(dict(d.variables)),
                        int(d.stream),
                        d.status.value,
                        d.max_attempts,
                        dump_json(dict(d.retry_policy)),
                        int(d.idempotent),
                        due,
                        event.received_at,
                        event.received_at,
                        d.error,
                    ),
                )
            return InsertResult(event_id=event.id, duplicate=False)

        return await self._writer.submit(op)

    # delivery ----------------------------------------------------------------------------

    async def claim(
        self, target: str, limit: int, now: float, owner: str, lease_seconds: float
    ) -> list[ClaimedDelivery]:
        if limit <= 0:
            return []

        def op(conn: sqlite3.Connection) -> list[ClaimedDelivery]:
            rows = conn.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE target = ? "  # noqa: S608
                f"AND status IN ({_CLAIMABLE_SQL}) AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at LIMIT ?",
                (target, now, limit),
            ).fetchall()
            claimed: list[ClaimedDelivery] = []
            for row in rows:
                record = delivery_from_row(row)
                number = record.attempts + 1
                attempt_id = new_id("att", now)
                conn.execute(
                    "UPDATE deliveries SET status = ?, attempts = ?, lease_owner = ?, "
                    "lease_expires_at = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?",
                    (
                        DeliveryStatus.IN_FLIGHT.value,
                        number,
                        owner,
                        now + lease_seconds,
                        now,
                        record.id,
                    ),
                )
                conn.execute(
                    "INSERT INTO attempts (id, delivery_id, number, started_at) "
                    "VALUES (?, ?, ?, ?)",
                    (attempt_id, record.id, number, now),
                )
                updated = delivery_from_row(
                    conn.execute(
                        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?",  # noqa: S608
                        (record.id,),
                    ).fetchone()
                )
                claimed.append(ClaimedDelivery(updated, attempt_id, number))
            return claimed

        return await self._writer.submit(op)

    async def finish_attempt(self, claimed: ClaimedDelivery, result: AttemptResult) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE attempts SET finished_at = ?, duration_ms = ?, outcome = ?, "
                "status_code = ?, error = ?, function_run_id = ?, session_id = ?, "
                "run_status = ?, result = ?, logs = ? WHERE id = ?",
                (
                    result.finished_at,
                    result.duration_ms,
                    result.outcome,
                    result.status_code,
                    result.error,
                    result.function_run_id,
                    result.session_id,
                    result.run_status,
                    None if result.result is None else dump_json(result.result),
                    dump_json(list(result.logs)),
                    claimed.attempt_id,
                ),
            )
            conn.execute(
                "UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_owner = NULL, "
                "lease_expires_at = NULL, updated_at = ?, last_error = ?, "
                "function_run_id = coalesce(?, function_run_id), "
                "run_status = coalesce(?, run_status) WHERE id = ? AND status = ?",
                (
                    result.new_status.value,
                    result.next_attempt_at,
                    result.finished_at,
                    result.error,
                    result.function_run_id,
                    result.run_status,
                    claimed.delivery.id,
                    DeliveryStatus.IN_FLIGHT.value,
                ),
            )

        await self._writer.submit(op)

    async def recover_expired(self, now: float, owner: str | None = None) -> list[str]:
        def op(conn: sqlite3.Connection) -> list[str]:
            if owner is None:
                rows = conn.execute(
                    "SELECT id, idempotent FROM deliveries WHERE status = ? "
                    "AND lease_expires_at < ?",
                    (DeliveryStatus.IN_FLIGHT.value, now),
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT id, idempotent FROM deliveries WHERE status = ? "
                    "AND (lease_owner IS NULL OR lease_owner != ?)",
                    (DeliveryStatus.IN_FLIGHT.value, owner),
                ).fetchall()
            for delivery_id, idempotent in rows:
                error = "relay stopped before the attempt's outcome was known"
                conn.execute(
                    "UPDATE attempts SET finished_at = ?, outcome = 'ambiguous', error = ? "
                    "WHERE delivery_id = ? AND finished_at IS NULL",
                    (now, error, delivery_id),
                )
                status = DeliveryStatus.PENDING if idempotent else DeliveryStatus.NEEDS_REVIEW
                conn.execute(
                    "UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_owner = NULL, "
                    "lease_expires_at = NULL, updated_at = ?, last_error = ? WHERE id = ?",
                    (
                        status.value,
                        now if idempotent else None,
                        now,
                        error,
                        delivery_id,
                    ),
                )
            return [r[0] for r in rows]

        return await self._writer.submit(op)

    async def next_due_at(self, target: str) -> float | None:
        def op(conn: sqlite3.Connection) -> float | None:
            row = conn.execute(
                "SELECT min(next_attempt_at) FROM deliveries WHERE target = ? "  # noqa: S608
                f"AND status IN ({_CLAIMABLE_SQL})",
                (target,),
            ).fetchone()
            return None if row is None or row[0] is None else float(row[0])

        return await self._read(op)

    async def replay(self, delivery_id: str, now: float) -> DeliveryRecord:
        def op(conn: sqlite3.Connection) -> DeliveryRecord:
            row = conn.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?",  # noqa: S608
                (delivery_id,),
            ).fetchone()
            if row is None:
                raise KeyError(delivery_id)
            record = delivery_from_row(row)
            if record.status not in REPLAYABLE:
                raise ValueError(f"delivery {delivery_id} is {record.status.value}")
            budget = int(record.retry_policy.get("max_attempts", record.max_attempts))
            conn.execute(
                "UPDATE deliveries SET status = ?, next_attempt_at = ?, max_attempts = ?, "
                "updated_at = ?, last_error = NULL WHERE id = ?",
                (DeliveryStatus.PENDING.value, now, record.attempts + budget, now, delivery_id),
            )
            fresh = conn.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?",  # noqa: S608
                (delivery_id,),
            ).fetchone()
            return delivery_from_row(fresh)

        return await self._writer.submit(op)

    # reads -------------------------------------------------------------------------------

    async def get_event(self, event_id: str) -> EventRecord | None:
        def op(conn: sqlite3.Connection) -> EventRecord | None:
            row = conn.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ?",  # noqa: S608
                (event_id,),
            ).fetchone()
            return None if row is None else event_from_row(row)

        return await self._read(op)

    async def get_delivery(self, delivery_id: str) -> DeliveryRecord | None:
        def op(conn: sqlite3.Connection) -> DeliveryRecord | None:
            row = conn.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?",  # noqa: S608
                (delivery_id,),
            ).fetchone()
            return None if row is None else delivery_from_row(row)

        return await self._read(op)

    async def list_events(
        self, *, source: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[EventRecord]:
        where, params = _filters(source=source, status=status)
        sql = f"SELECT {EVENT_COLUMNS} FROM events{where} ORDER BY id DESC LIMIT ?"  # noqa: S608

        def op(conn: sqlite3.Connection) -> list[EventRecord]:
            return [event_from_row(r) for r in conn.execute(sql, (*params, limit)).fetchall()]

        return await self._read(op)

    async def list_deliveries(
        self,
        *,
        status: str | None = None,
        route: str | None = None,
        event_id: str | None = None,
        limit: int = 100,
    ) -> list[DeliveryRecord]:
        where, params = _filters(status=status, route=route, event_id=event_id)
        sql = (
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries{where} "  # noqa: S608
            "ORDER BY id DESC LIMIT ?"
        )

        def op(conn: sqlite3.Connection) -> list[DeliveryRecord]:
            return [delivery_from_row(r) for r in conn.execute(sql, (*params, limit)).fetchall()]

        return await self._read(op)

    async def list_attempts(self, delivery_id: str) -> list[AttemptRecord]:
        sql = (
            f"SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE delivery_id = ? "  # noqa: S608
            "ORDER BY number"
        )

        def op(conn: sqlite3.Connection) -> list[AttemptRecord]:
            return [attempt_from_row(r) for r in conn.execute(sql, (delivery_id,)).fetchall()]

        return await self._read(op)


def _filters(**values: Any) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause over fixed column names (the keyword names, never user input)."""
    clauses = [f"{name} = ?" for name, value in values.items() if value is not None]
    params = tuple(value for value in values.values() if value is not None)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
