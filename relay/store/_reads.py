"""Reads, written once for both dialects (relay/store/_sql.py): one event or delivery, the
pages of events, rejections, deliveries and attempts the log views ask for (filters, an id
cursor, a limit: relay/store/log_queries.py), activity counts, and the rejections' writes."""

from __future__ import annotations

from collections.abc import Sequence

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
from relay.store._sql import ALL, MANY, ONE, Dialect, Op, Q, Where, locked, values_sql
from relay.store.base import CLAIMABLE, AttemptRecord, DeliveryRecord, EventRecord
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
    "activity",
    "delivery_where",
    "get_delivery",
    "get_event",
    "insert_rejections",
    "next_due_at",
    "query_attempts",
    "query_deliveries",
    "query_events",
    "query_rejections",
]

_EVENT = f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ?"  # noqa: S608
_DELIVERY = f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?"  # noqa: S608
_NEXT_DUE = (
    "SELECT min(next_attempt_at) FROM deliveries WHERE target = ? "  # noqa: S608
    f"AND status IN ({values_sql(CLAIMABLE)})"
)
_E_COLUMNS = ", ".join(f"e.{c.strip()}" for c in EVENT_COLUMNS.split(","))


def get_event(event_id: str) -> Op[EventRecord | None]:
    row = yield Q(_EVENT, (event_id,), ONE)
    return None if row is None else event_from_row(row)


def get_delivery(delivery_id: str) -> Op[DeliveryRecord | None]:
    row = yield Q(_DELIVERY, (delivery_id,), ONE)
    return None if row is None else delivery_from_row(row)


def next_due_at(target: str) -> Op[float | None]:
    row = yield Q(_NEXT_DUE, (target,), ONE)
    return None if row is None or row[0] is None else float(row[0])


def query_events(d: Dialect, query: EventQuery) -> Op[list[EventRecord]]:
    w = Where(d)
    if query.source is not None:
        w.add("e.source = ?", query.source)
    if query.statuses:
        w.any_of("e.status", list(query.statuses))
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
        w.like(("e.id", "e.provider_event_id"), query.text)
    if query.body:
        if d is Dialect.SQLITE:
            w.add("instr(lower(CAST(e.body AS TEXT)), ?) > 0", query.body.lower())
        elif query.body.isascii() and "\\" not in query.body:
            # 'escape' keeps printable ASCII as is (other bytes become \ooo): lower() is safe
            w.add("strpos(lower(encode(e.body, 'escape')), ?) > 0", query.body.lower())
        else:
            w.add("position(?::bytea in e.body) > 0", query.body.encode())
    tail, params = w.page("e.id", query.before, query.after, query.limit)
    rows = yield Q(f"SELECT {_E_COLUMNS} FROM events e{tail}", params, ALL)  # noqa: S608
    return [event_from_row(r) for r in rows]


def query_rejections(d: Dialect, query: EventQuery) -> Op[list[RejectionRecord]]:
    if query.body:
        return []
    w = Where(d)
    if query.source is not None:
        w.add("source = ?", query.source)
    if query.since is not None:
        w.add("received_at >= ?", query.since)
    if query.until is not None:
        w.add("received_at < ?", query.until)
    if query.text:
        w.like(("id", "reason"), query.text)
    tail, params = w.page("id", query.before, query.after, query.limit)
    rows = yield Q(f"SELECT {REJECTION_COLUMNS} FROM rejections{tail}", params, ALL)  # noqa: S608
    return [rejection_from_row(r) for r in rows]


def delivery_where(d: Dialect, query: DeliveryQuery) -> Where:
    """The one filter of deliveries: the log views' pages, ``relay tail``, the dead-letter
    lists, bulk replay and the worker's stops all read through it."""
    w = Where(d)
    if query.statuses:
        w.any_of("status", [s.value for s in query.statuses])
    if query.route is not None:
        w.add("route = ?", query.route)
    if query.target is not None:
        w.add("target = ?", query.target)
    if query.event_ids:
        w.any_of("event_id", list(query.event_ids))
    if query.since is not None:
        w.add("updated_at >= ?", query.since)
    if query.until is not None:
        w.add("updated_at < ?", query.until)
    if query.reason:
        w.like(("coalesce(last_error, '')",), query.reason)
    if query.lease_owner is not None:
        w.add("lease_owner = ?", query.lease_owner)
    if query.stop_requested:
        w.add("stop_requested_by IS NOT NULL")
    return w


def query_deliveries(
    d: Dialect, query: DeliveryQuery, *, lock: bool = False
) -> Op[list[DeliveryRecord]]:
    """``lock``: PostgreSQL locks the rows for the transaction (a bulk move's selection)."""
    w = delivery_where(d, query)
    if query.recent_first:
        tail = f"{w.sql()} ORDER BY updated_at DESC, id DESC LIMIT ?"
        params = [*w.params, max(0, query.limit)]
    else:
        tail, params = w.page("id", query.before, query.after, query.limit)
    sql = f"SELECT {DELIVERY_COLUMNS} FROM deliveries{tail}"  # noqa: S608
    rows = yield (locked(sql, params) if lock else Q(sql, params, ALL))
    return [delivery_from_row(r) for r in rows]


def query_attempts(d: Dialect, query: AttemptQuery) -> Op[list[AttemptRecord]]:
    if query.whole_delivery and query.delivery_id is None:
        raise ValueError("whole_delivery needs a delivery_id")
    w = Where(d)
    if query.delivery_id is not None:
        w.add("delivery_id = ?", query.delivery_id)
    if query.since is not None:
        w.add("started_at >= ?", query.since)
    if query.whole_delivery:
        tail, params = f"{w.sql()} ORDER BY number", w.params
    else:
        tail, params = w.page("id", query.before, query.after, query.limit)
    rows = yield Q(f"SELECT {ATTEMPT_COLUMNS} FROM attempts{tail}", params, ALL)  # noqa: S608
    return [attempt_from_row(r) for r in rows]


def activity(since: float, until: float | None) -> Op[Activity]:
    bound = "received_at >= ?" + ("" if until is None else " AND received_at < ?")
    window: tuple[float, ...] = (since,) if until is None else (since, until)
    events: dict[str, dict[str, int]] = {}
    duplicates: dict[str, int] = {}
    for source, status, count, dupes in (
        yield Q(
            f"SELECT source, status, count(*), sum(duplicates) FROM events WHERE {bound} "  # noqa: S608
            "GROUP BY source, status",
            window,
            ALL,
        )
    ):
        events.setdefault(source, {})[status] = int(count)
        duplicates[source] = duplicates.get(source, 0) + int(dupes or 0)
    rejected = {
        source: int(count)
        for source, count in (
            yield Q(
                f"SELECT source, sum(count) FROM rejections WHERE {bound} GROUP BY source",  # noqa: S608
                window,
                ALL,
            )
        )
    }
    sources = [
        SourceActivity(name, events.get(name, {}), duplicates.get(name, 0), rejected.get(name, 0))
        for name in sorted({*events, *rejected})
    ]
    in_window = f"d.event_id IN (SELECT id FROM events WHERE {bound})"  # noqa: S608
    routes: dict[tuple[str, str], dict[str, int]] = {}
    for route, target, status, count in (
        yield Q(
            f"SELECT d.route, d.target, d.status, count(*) FROM deliveries d WHERE {in_window} "  # noqa: S608
            "GROUP BY d.route, d.target, d.status",
            window,
            ALL,
        )
    ):
        routes.setdefault((route, target), {})[status] = int(count)
    attempts = {
        (route, target): (int(count), float(total or 0.0))
        for route, target, count, total in (
            yield Q(
                "SELECT d.route, d.target, count(a.id), sum(a.duration_ms) FROM attempts a "  # noqa: S608
                f"JOIN deliveries d ON d.id = a.delivery_id WHERE {in_window} "
                "AND a.finished_at IS NOT NULL GROUP BY d.route, d.target",
                window,
                ALL,
            )
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


def insert_rejections(rejections: Sequence[RejectionRecord]) -> Op[None]:
    yield Q(
        "INSERT INTO rejections (id, source, received_at, reason, client_ip, count, last_at, "
        "samples) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "count = excluded.count, last_at = excluded.last_at, samples = excluded.samples",
        [rejection_row(r) for r in rejections],
        MANY,
    )
