"""SQL for the delivery-log views: pages of events, rejections, deliveries and attempts
(filters, an id cursor, a limit), activity counts, and the rejections table's writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from relay.store import _sqlite_admin as admin
from relay.store._records import (
    ATTEMPT_COLUMNS,
    DELIVERY_COLUMNS,
    EVENT_COLUMNS,
    REJECTION_COLUMNS,
    attempt_from_row,
    delivery_from_row,
    event_from_row,
    rejection_from_row,
    rejection_row,
)
from relay.store._sqlite_writer import SqliteWriter
from relay.store.base import AttemptRecord, DeliveryRecord, EventRecord
from relay.store.log_queries import (
    Activity,
    AttemptQuery,
    DeliveryQuery,
    EventQuery,
    RejectionRecord,
    RouteActivity,
    SourceActivity,
)

__all__ = [
    "SqliteLogQueries",
    "activity",
    "insert_rejections",
    "purge_expired",
    "purge_rejections",
    "query_attempts",
    "query_deliveries",
    "query_events",
    "query_rejections",
]

T = TypeVar("T")


class _Where:
    """A WHERE clause built from fixed SQL fragments; values only ever go to parameters."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def _page(
    where: _Where, column: str, before: str | None, after: str | None, limit: int
) -> tuple[str, list[Any]]:
    """The cursor bounds and the ORDER BY/LIMIT tail (see relay/store/log_queries.py)."""
    if before is not None:
        where.add(f"{column} < ?", before)
    if after is not None:
        where.add(f"{column} > ?", after)
    order = "ASC" if after is not None else "DESC"
    return f"{where.sql()} ORDER BY {column} {order} LIMIT ?", [*where.params, max(0, limit)]


def query_events(conn: sqlite3.Connection, query: EventQuery) -> list[EventRecord]:
    w = _Where()
    if query.source is not None:
        w.add("e.source = ?", query.source)
    if query.statuses:
        w.add(f"e.status IN ({_marks(query.statuses)})", *query.statuses)
    if query.duplicated:
        w.add("e.duplicates > 0")
    if query.route is not None:
        w.add(
            "EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.route = ?)",
            query.route,
        )
    if query.since is not None:
        w.add("e.received_at >= ?", query.since)
    if query.until is not None:
        w.add("e.received_at < ?", query.until)
    if query.text:
        pattern = _like(query.text)
        w.add(
            "(lower(e.id) LIKE ? ESCAPE '\\' OR lower(e.provider_event_id) LIKE ? ESCAPE '\\')",
            pattern,
            pattern,
        )
    if query.body:
        w.add("instr(lower(CAST(e.body AS TEXT)), ?) > 0", query.body.lower())
    tail, params = _page(w, "e.id", query.before, query.after, query.limit)
    columns = ", ".join(f"e.{c.strip()}" for c in EVENT_COLUMNS.split(","))
    rows = conn.execute(f"SELECT {columns} FROM events e{tail}", params).fetchall()  # noqa: S608
    return [event_from_row(r) for r in rows]


def query_rejections(conn: sqlite3.Connection, query: EventQuery) -> list[RejectionRecord]:
    if query.body:
        return []
    w = _Where()
    if query.source is not None:
        w.add("source = ?", query.source)
    if query.since is not None:
        w.add("received_at >= ?", query.since)
    if query.until is not None:
        w.add("received_at < ?", query.until)
    if query.text:
        pattern = _like(query.text)
        w.add(
            "(lower(id) LIKE ? ESCAPE '\\' OR lower(reason) LIKE ? ESCAPE '\\')", pattern, pattern
        )
    tail, params = _page(w, "id", query.before, query.after, query.limit)
    rows = conn.execute(f"SELECT {REJECTION_COLUMNS} FROM rejections{tail}", params).fetchall()  # noqa: S608
    return [rejection_from_row(r) for r in rows]


def query_deliveries(conn: sqlite3.Connection, query: DeliveryQuery) -> list[DeliveryRecord]:
    w = _Where()
    if query.statuses:
        w.add(f"status IN ({_marks(query.statuses)})", *(s.value for s in query.statuses))
    if query.route is not None:
        w.add("route = ?", query.route)
    if query.target is not None:
        w.add("target = ?", query.target)
    if query.event_ids:
        w.add(f"event_id IN ({_marks(query.event_ids)})", *query.event_ids)
    if query.since is not None:
        w.add("updated_at >= ?", query.since)
    if query.until is not None:
        w.add("updated_at < ?", query.until)
    if query.reason:
        w.add("lower(coalesce(last_error, '')) LIKE ? ESCAPE '\\'", _like(query.reason))
    tail, params = _page(w, "id", query.before, query.after, query.limit)
    rows = conn.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries{tail}", params).fetchall()  # noqa: S608
    return [delivery_from_row(r) for r in rows]


def query_attempts(conn: sqlite3.Connection, query: AttemptQuery) -> list[AttemptRecord]:
    w = _Where()
    if query.delivery_id is not None:
        w.add("delivery_id = ?", query.delivery_id)
    if query.since is not None:
        w.add("started_at >= ?", query.since)
    tail, params = _page(w, "id", query.before, query.after, query.limit)
    rows = conn.execute(f"SELECT {ATTEMPT_COLUMNS} FROM attempts{tail}", params).fetchall()  # noqa: S608
    return [attempt_from_row(r) for r in rows]


def activity(conn: sqlite3.Connection, since: float, until: float | None) -> Activity:
    bound = "received_at >= ?" + ("" if until is None else " AND received_at < ?")
    window: tuple[float, ...] = (since,) if until is None else (since, until)
    events: dict[str, dict[str, int]] = {}
    duplicates: dict[str, int] = {}
    for source, status, count, dupes in conn.execute(
        f"SELECT source, status, count(*), sum(duplicates) FROM events WHERE {bound} "  # noqa: S608
        "GROUP BY source, status",
        window,
    ):
        events.setdefault(source, {})[status] = int(count)
        duplicates[source] = duplicates.get(source, 0) + int(dupes or 0)
    rejected = {
        source: int(count)
        for source, count in conn.execute(
            f"SELECT source, sum(count) FROM rejections WHERE {bound} GROUP BY source",  # noqa: S608
            window,
        )
    }
    sources = [
        SourceActivity(name, events.get(name, {}), duplicates.get(name, 0), rejected.get(name, 0))
        for name in sorted({*events, *rejected})
    ]
    in_window = f"d.event_id IN (SELECT id FROM events WHERE {bound})"  # noqa: S608
    routes: dict[tuple[str, str], dict[str, int]] = {}
    for route, target, status, count in conn.execute(
        f"SELECT d.route, d.target, d.status, count(*) FROM deliveries d WHERE {in_window} "  # noqa: S608
        "GROUP BY d.route, d.target, d.status",
        window,
    ):
        routes.setdefault((route, target), {})[status] = int(count)
    attempts = {
        (route, target): (int(count), float(total or 0.0))
        for route, target, count, total in conn.execute(
            "SELECT d.route, d.target, count(a.id), sum(a.duration_ms) FROM attempts a "  # noqa: S608
            f"JOIN deliveries d ON d.id = a.delivery_id WHERE {in_window} "
            "AND a.finished_at IS NOT NULL GROUP BY d.route, d.target",
            window,
        )
    }
    return Activity(
        since=since,
        until=until,
        sources=tuple(sources),
        routes=tuple(
            RouteActivity(route, target, counts, *attempts.get((route, target), (0, 0.0)))
            for (route, target), counts in sorted(routes.items())
        ),
    )


def insert_rejections(conn: sqlite3.Connection, rejections: Sequence[RejectionRecord]) -> None:
    conn.executemany(
        "INSERT INTO rejections (id, source, received_at, reason, client_ip, count, last_at, "
        "samples) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "count = excluded.count, last_at = excluded.last_at, samples = excluded.samples",
        [rejection_row(r) for r in rejections],
    )


def purge_rejections(
    conn: sqlite3.Connection,
    before: float,
    source: str | None,
    exclude_sources: Sequence[str],
    limit: int,
) -> int:
    w = _Where()
    w.add("received_at < ?", before)
    if source is not None:
        w.add("source = ?", source)
    if exclude_sources:
        w.add(f"source NOT IN ({_marks(exclude_sources)})", *exclude_sources)
    sql = f"DELETE FROM rejections WHERE id IN (SELECT id FROM rejections{w.sql()} LIMIT ?)"  # noqa: S608
    return conn.execute(sql, (*w.params, limit)).rowcount


def purge_expired(
    conn: sqlite3.Connection,
    before: float,
    source: str | None,
    exclude_sources: Sequence[str],
    limit: int,
) -> int:
    """Retention's batch: expired events (``_sqlite_admin.purge_expired``) and rejections."""
    events = admin.purge_expired(conn, before, source, exclude_sources, limit)
    return events + purge_rejections(conn, before, source, exclude_sources, limit)


class SqliteLogQueries:
    """``LogQueries`` for ``SqliteStore``: reads on the reader pool, writes on the writer."""

    _writer: SqliteWriter

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def record_rejections(self, rejections: Sequence[RejectionRecord]) -> None:
        await self._writer.submit(partial(insert_rejections, rejections=rejections))

    async def query_events(self, query: EventQuery) -> list[EventRecord]:
        return await self._read(partial(query_events, query=query))

    async def query_rejections(self, query: EventQuery) -> list[RejectionRecord]:
        return await self._read(partial(query_rejections, query=query))

    async def query_deliveries(self, query: DeliveryQuery) -> list[DeliveryRecord]:
        return await self._read(partial(query_deliveries, query=query))

    async def query_attempts(self, query: AttemptQuery) -> list[AttemptRecord]:
        return await self._read(partial(query_attempts, query=query))

    async def activity(self, since: float, until: float | None = None) -> Activity:
        return await self._read(partial(activity, since=since, until=until))
