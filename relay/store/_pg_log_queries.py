"""The delivery-log queries on PostgreSQL (relay/store/log_queries.py; SQLite's twin is
relay/store/_sqlite_reads.py): pages by id cursor, activity counts, rejections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from relay.store._pg_sql import Conn
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
    "PgLogQueries",
    "activity",
    "insert_rejections",
    "query_attempts",
    "query_deliveries",
    "query_events",
    "query_rejections",
]

T = TypeVar("T")


class _Where:
    """A WHERE clause built from fixed SQL fragments; ``{}`` in a fragment is the next
    parameter's ``$n``; values only ever go to parameters."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        marks = []
        for value in params:
            self.params.append(value)
            marks.append(f"${len(self.params)}")
        self.clauses.append(clause.format(*marks))

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _page(
    where: _Where, column: str, before: str | None, after: str | None, limit: int
) -> tuple[str, list[Any]]:
    """The cursor bounds and the ORDER BY/LIMIT tail (see relay/store/log_queries.py)."""
    if before is not None:
        where.add(f"{column} < {{}}", before)
    if after is not None:
        where.add(f"{column} > {{}}", after)
    order = "ASC" if after is not None else "DESC"
    params = [*where.params, max(0, limit)]
    return f"{where.sql()} ORDER BY {column} {order} LIMIT ${len(params)}", params


async def query_events(conn: Conn, query: EventQuery) -> list[EventRecord]:
    w = _Where()
    if query.source is not None:
        w.add("e.source = {}", query.source)
    if query.statuses:
        w.add("e.status = ANY({}::text[])", list(query.statuses))
    if query.duplicated:
        w.add("e.duplicates > 0")
    if query.route is not None:
        w.add(
            "EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.route = {})",
            query.route,
        )
    if query.since is not None:
        w.add("e.received_at >= {}", query.since)
    if query.until is not None:
        w.add("e.received_at < {}", query.until)
    if query.text:
        pattern = _like(query.text)
        w.add("(lower(e.id) LIKE {0} OR lower(e.provider_event_id) LIKE {0})", pattern)
    if query.body:
        if query.body.isascii() and "\\" not in query.body:
            # 'escape' keeps printable ASCII as is (other bytes become \ooo): lower() is safe
            w.add("strpos(lower(encode(e.body, 'escape')), {}) > 0", query.body.lower())
        else:
            w.add("position({}::bytea in e.body) > 0", query.body.encode())
    tail, params = _page(w, "e.id", query.before, query.after, query.limit)
    columns = ", ".join(f"e.{c.strip()}" for c in EVENT_COLUMNS.split(","))
    rows = await conn.fetch(f"SELECT {columns} FROM events e{tail}", *params)  # noqa: S608
    return [event_from_row(tuple(r)) for r in rows]


async def query_rejections(conn: Conn, query: EventQuery) -> list[RejectionRecord]:
    if query.body:
        return []
    w = _Where()
    if query.source is not None:
        w.add("source = {}", query.source)
    if query.since is not None:
        w.add("received_at >= {}", query.since)
    if query.until is not None:
        w.add("received_at < {}", query.until)
    if query.text:
        w.add("(lower(id) LIKE {0} OR lower(reason) LIKE {0})", _like(query.text))
    tail, params = _page(w, "id", query.before, query.after, query.limit)
    rows = await conn.fetch(f"SELECT {REJECTION_COLUMNS} FROM rejections{tail}", *params)  # noqa: S608
    return [rejection_from_row(tuple(r)) for r in rows]


async def query_deliveries(conn: Conn, query: DeliveryQuery) -> list[DeliveryRecord]:
    w = _Where()
    if query.statuses:
        w.add("status = ANY({}::text[])", [s.value for s in query.statuses])
    if query.route is not None:
        w.add("route = {}", query.route)
    if query.target is not None:
        w.add("target = {}", query.target)
    if query.event_ids:
        w.add("event_id = ANY({}::text[])", list(query.event_ids))
    if query.since is not None:
        w.add("updated_at >= {}", query.since)
    if query.until is not None:
        w.add("updated_at < {}", query.until)
    if query.reason:
        w.add("lower(coalesce(last_error, '')) LIKE {}", _like(query.reason))
    tail, params = _page(w, "id", query.before, query.after, query.limit)
    rows = await conn.fetch(f"SELECT {DELIVERY_COLUMNS} FROM deliveries{tail}", *params)  # noqa: S608
    return [delivery_from_row(tuple(r)) for r in rows]


async def query_attempts(conn: Conn, query: AttemptQuery) -> list[AttemptRecord]:
    w = _Where()
    if query.delivery_id is not None:
        w.add("delivery_id = {}", query.delivery_id)
    if query.since is not None:
        w.add("started_at >= {}", query.since)
    tail, params = _page(w, "id", query.before, query.after, query.limit)
    rows = await conn.fetch(f"SELECT {ATTEMPT_COLUMNS} FROM attempts{tail}", *params)  # noqa: S608
    return [attempt_from_row(tuple(r)) for r in rows]


async def activity(conn: Conn, since: float, until: float | None) -> Activity:
    bound = "received_at >= $1" + ("" if until is None else " AND received_at < $2")
    window: tuple[float, ...] = (since,) if until is None else (since, until)
    events: dict[str, dict[str, int]] = {}
    duplicates: dict[str, int] = {}
    for source, status, count, dupes in await conn.fetch(
        f"SELECT source, status, count(*), sum(duplicates) FROM events WHERE {bound} "  # noqa: S608
        "GROUP BY source, status",
        *window,
    ):
        events.setdefault(source, {})[status] = int(count)
        duplicates[source] = duplicates.get(source, 0) + int(dupes or 0)
    rejected = {
        source: int(count)
        for source, count in await conn.fetch(
            f"SELECT source, sum(count) FROM rejections WHERE {bound} GROUP BY source",  # noqa: S608
            *window,
        )
    }
    sources = [
        SourceActivity(name, events.get(name, {}), duplicates.get(name, 0), rejected.get(name, 0))
        for name in sorted({*events, *rejected})
    ]
    in_window = f"d.event_id IN (SELECT id FROM events WHERE {bound})"  # noqa: S608
    routes: dict[tuple[str, str], dict[str, int]] = {}
    for route, target, status, count in await conn.fetch(
        f"SELECT d.route, d.target, d.status, count(*) FROM deliveries d WHERE {in_window} "  # noqa: S608
        "GROUP BY d.route, d.target, d.status",
        *window,
    ):
        routes.setdefault((route, target), {})[status] = int(count)
    attempts = {
        (route, target): (int(count), float(total or 0.0))
        for route, target, count, total in await conn.fetch(
            "SELECT d.route, d.target, count(a.id), sum(a.duration_ms) FROM attempts a "  # noqa: S608
            f"JOIN deliveries d ON d.id = a.delivery_id WHERE {in_window} "
            "AND a.finished_at IS NOT NULL GROUP BY d.route, d.target",
            *window,
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


async def insert_rejections(conn: Conn, rejections: Sequence[RejectionRecord]) -> None:
    await conn.executemany(
        "INSERT INTO rejections (id, source, received_at, reason, client_ip, count, last_at, "
        "samples) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET "
        "count = excluded.count, last_at = excluded.last_at, samples = excluded.samples",
        [rejection_row(r) for r in rejections],
    )


class PgLogQueries:
    """``LogQueries`` for ``PostgresStore``: every query on a pooled connection."""

    async def _run(self, fn: Callable[[Conn], Awaitable[T]], *, transaction: bool = True) -> T:
        raise NotImplementedError

    async def record_rejections(self, rejections: Sequence[RejectionRecord]) -> None:
        await self._run(partial(insert_rejections, rejections=rejections))

    async def query_events(self, query: EventQuery) -> list[EventRecord]:
        return await self._run(partial(query_events, query=query), transaction=False)

    async def query_rejections(self, query: EventQuery) -> list[RejectionRecord]:
        return await self._run(partial(query_rejections, query=query), transaction=False)

    async def query_deliveries(self, query: DeliveryQuery) -> list[DeliveryRecord]:
        return await self._run(partial(query_deliveries, query=query), transaction=False)

    async def query_attempts(self, query: AttemptQuery) -> list[AttemptRecord]:
        return await self._run(partial(query_attempts, query=query), transaction=False)

    async def activity(self, since: float, until: float | None = None) -> Activity:
        return await self._run(partial(activity, since=since, until=until), transaction=False)
