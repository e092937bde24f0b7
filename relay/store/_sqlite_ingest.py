"""SQL for storing one event with its deliveries (one writer transaction), or reporting a
re-delivery: the same body is a duplicate, a different body under the same provider event id
is a conflict (counted on the stored event; the first body is kept)."""

from __future__ import annotations

import hashlib
import sqlite3

from relay._utf8 import utf8_optional
from relay.store._moves import TRANSITION_SQL, transition_row
from relay.store._records import dump_json
from relay.store.base import DeliveryStatus, InsertResult, NewEvent

__all__ = ["body_sha256", "insert_event"]


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _redelivery(conn: sqlite3.Connection, event: NewEvent, digest: str) -> InsertResult | None:
    row = conn.execute(
        "SELECT id, body_sha256 FROM events WHERE source = ? AND dedupe_key = ?",
        (event.source, utf8_optional(event.dedupe_key)),
    ).fetchone()
    if row is None:
        return None
    event_id, stored = row
    if stored is not None and stored != digest:
        conn.execute("UPDATE events SET conflicts = conflicts + 1 WHERE id = ?", (event_id,))
        return InsertResult(event_id=event_id, duplicate=True, conflict=True)
    conn.execute("UPDATE events SET duplicates = duplicates + 1 WHERE id = ?", (event_id,))
    return InsertResult(event_id=event_id, duplicate=True)


def insert_event(conn: sqlite3.Connection, event: NewEvent) -> InsertResult:
    digest = body_sha256(event.body)
    # One statement for the usual case: the insert itself tells whether the provider's event
    # id was seen before (the partial unique index on source and dedupe key).
    inserted = conn.execute(
        "INSERT INTO events (id, source, dedupe_key, provider_event_id, event_type, "
        "received_at, status, error, body, headers, query, client_ip, body_sha256) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (source, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING",
        (
            event.id,
            event.source,
            utf8_optional(event.dedupe_key),
            utf8_optional(event.provider_event_id),
            utf8_optional(event.event_type),
            event.received_at,
            event.status.value,
            utf8_optional(event.error),
            event.body,
            dump_json(dict(event.headers)),
            dump_json(dict(event.query)),
            event.client_ip,
            digest,
        ),
    ).rowcount
    if inserted == 0:
        seen = _redelivery(conn, event, digest)
        if seen is not None:
            return seen
        raise sqlite3.IntegrityError("event not inserted and not found")  # pragma: no cover
    deduped: list[str] = []
    for d in event.deliveries:
        if (
            d.dedupe_key is not None
            and conn.execute(
                "SELECT 1 FROM deliveries WHERE route = ? AND dedupe_key = ? "
                "AND created_at >= ? LIMIT 1",
                (d.route, utf8_optional(d.dedupe_key), event.received_at - d.dedupe_window),
            ).fetchone()
        ):
            deduped.append(d.route)
            continue
        due = event.received_at if d.status == DeliveryStatus.PENDING else None
        conn.execute(
            "INSERT INTO deliveries (id, event_id, route, target, function_id, "
            "variables, stream, status, max_attempts, retry_policy, idempotent, "
            "next_attempt_at, created_at, updated_at, last_error, dedupe_key, run_options) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                utf8_optional(d.error),
                utf8_optional(d.dedupe_key),
                None if not d.run_options else dump_json(dict(d.run_options)),
            ),
        )
        why = utf8_optional(d.error) or "received"
        row = transition_row(d.id, event.received_at, None, d.status, why, "receiver")
        conn.execute(TRANSITION_SQL, row)
    return InsertResult(event_id=event.id, duplicate=False, deduped_routes=tuple(deduped))
