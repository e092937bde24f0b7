"""Storing one event with its deliveries in one writer transaction (SQLite's hot path,
synchronous and precompiled), or reporting a re-delivery: the same body is a duplicate, a
different body under the same provider event id is a conflict (counted on the stored event;
the first body is kept). The rows and decisions are relay/store/_ingest_rows.py's."""

from __future__ import annotations

import sqlite3

from relay._utf8 import utf8_optional
from relay.store._ingest_rows import (
    DEDUPED_SQL,
    TWIN_SQL,
    body_sha256,
    delivery_row,
    event_row,
    received_reason,
    redelivery,
)
from relay.store._moves import TRANSITION_SQL, transition_row
from relay.store.base import InsertResult, NewEvent

__all__ = ["insert_event"]

# One statement for the usual case: the insert itself tells whether the provider's event id
# was seen before (the partial unique index on source and dedupe key).
_INSERT_EVENT = (
    "INSERT INTO events (id, source, dedupe_key, provider_event_id, event_type, "
    "received_at, status, error, body, headers, query, client_ip, body_sha256) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (source, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING"
)
# ``?13`` twice: created_at and updated_at are both the event's received_at.
_INSERT_DELIVERY = (
    "INSERT INTO deliveries (id, event_id, route, target, function_id, variables, stream, "
    "status, max_attempts, retry_policy, idempotent, next_attempt_at, created_at, updated_at, "
    "last_error, dedupe_key, run_options, traceparent) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?13, ?13, ?, ?, ?, ?)"
)


def _redelivery(conn: sqlite3.Connection, event: NewEvent, digest: str) -> InsertResult | None:
    row = conn.execute(TWIN_SQL, (event.source, utf8_optional(event.dedupe_key))).fetchone()
    if row is None:
        return None
    seen = redelivery(row[0], row[1], digest)
    counter = "conflicts" if seen.conflict else "duplicates"
    conn.execute(f"UPDATE events SET {counter} = {counter} + 1 WHERE id = ?", (seen.event_id,))  # noqa: S608
    return seen


def insert_event(conn: sqlite3.Connection, event: NewEvent) -> InsertResult:
    digest = body_sha256(event.body)
    if conn.execute(_INSERT_EVENT, event_row(event, digest)).rowcount == 0:
        seen = _redelivery(conn, event, digest)
        if seen is not None:
            return seen
        raise sqlite3.IntegrityError("event not inserted and not found")  # pragma: no cover
    deduped: list[str] = []
    for d in event.deliveries:
        row = delivery_row(event, d)
        if d.dedupe_key is not None:
            since = event.received_at - d.dedupe_window
            if conn.execute(DEDUPED_SQL, (d.route, row[14], since)).fetchone():
                deduped.append(d.route)
                continue
        conn.execute(_INSERT_DELIVERY, row)
        why = received_reason(d)
        conn.execute(
            TRANSITION_SQL, transition_row(d.id, event.received_at, None, d.status, why, "receiver")
        )
    return InsertResult(event_id=event.id, duplicate=False, deduped_routes=tuple(deduped))
