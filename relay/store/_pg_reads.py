"""Plain reads on PostgreSQL: one event, one delivery, lists, attempts, the next due time."""

from __future__ import annotations

from typing import Any

from relay.store._pg_sql import CLAIMABLE_VALUES, Conn
from relay.store._records import (
    ATTEMPT_COLUMNS,
    DELIVERY_COLUMNS,
    EVENT_COLUMNS,
    attempt_from_row,
    delivery_from_row,
    event_from_row,
)
from relay.store.base import AttemptRecord, DeliveryRecord, EventRecord

__all__ = [
    "get_delivery",
    "get_event",
    "list_attempts",
    "list_deliveries",
    "list_events",
    "next_due_at",
]


def _filters(**values: Any) -> tuple[str, list[Any]]:
    """A WHERE clause over fixed column names (the keyword names, never user input)."""
    given = [(name, value) for name, value in values.items() if value is not None]
    clauses = [f"{name} = ${n}" for n, (name, _) in enumerate(given, start=1)]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), [v for _, v in given]


async def get_event(conn: Conn, event_id: str) -> EventRecord | None:
    row = await conn.fetchrow(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE id = $1",  # noqa: S608
        event_id,
    )
    return None if row is None else event_from_row(tuple(row))


async def get_delivery(conn: Conn, delivery_id: str) -> DeliveryRecord | None:
    row = await conn.fetchrow(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1",  # noqa: S608
        delivery_id,
    )
    return None if row is None else delivery_from_row(tuple(row))


async def list_events(
    conn: Conn, source: str | None, status: str | None, limit: int
) -> list[EventRecord]:
    where, params = _filters(source=source, status=status)
    rows = await conn.fetch(
        f"SELECT {EVENT_COLUMNS} FROM events{where} "  # noqa: S608
        f"ORDER BY id DESC LIMIT ${len(params) + 1}",
        *params,
        limit,
    )
    return [event_from_row(tuple(r)) for r in rows]


async def list_deliveries(
    conn: Conn,
    status: str | None,
    route: str | None,
    event_id: str | None,
    limit: int,
) -> list[DeliveryRecord]:
    where, params = _filters(status=status, route=route, event_id=event_id)
    rows = await conn.fetch(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries{where} "  # noqa: S608
        f"ORDER BY id DESC LIMIT ${len(params) + 1}",
        *params,
        limit,
    )
    return [delivery_from_row(tuple(r)) for r in rows]


async def list_attempts(conn: Conn, delivery_id: str) -> list[AttemptRecord]:
    rows = await conn.fetch(
        f"SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE delivery_id = $1 "  # noqa: S608
        "ORDER BY number",
        delivery_id,
    )
    return [attempt_from_row(tuple(r)) for r in rows]


async def next_due_at(conn: Conn, target: str) -> float | None:
    value = await conn.fetchval(
        "SELECT min(next_attempt_at) FROM deliveries WHERE target = $1 "
        "AND status = ANY($2::text[])",
        target,
        CLAIMABLE_VALUES,
    )
    return None if value is None else float(value)
