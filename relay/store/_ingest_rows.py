"""What both stores' ingest writes, written once: the rows of an event and of its deliveries,
the statements that find a re-delivery's stored twin and a route's recent duplicate, and
what a re-delivery is (a duplicate, or a conflict when its body differs).

How they are written differs for a reason: SQLite stores one event per job on its writer
thread (relay/store/_sqlite_ingest.py, precompiled, synchronous); PostgreSQL stores a batch
with ``unnest`` in one round trip per table (relay/store/_pg_ingest.py)."""

from __future__ import annotations

import hashlib
from typing import Any

from relay._utf8 import utf8_optional
from relay.store._records import dump_json
from relay.store.base import DeliveryStatus, InsertResult, NewDelivery, NewEvent

__all__ = [
    "DEDUPED_SQL",
    "DELIVERY_TEXT",
    "EVENT_TEXT",
    "TWIN_SQL",
    "body_sha256",
    "delivery_row",
    "event_row",
    "received_reason",
    "redelivery",
]

#: The route's dedupe: a delivery of this route with this key created since then.
DEDUPED_SQL = (
    "SELECT 1 FROM deliveries WHERE route = ? AND dedupe_key = ? AND created_at >= ? LIMIT 1"
)
#: The stored event a re-delivery (same source and dedupe key) is the twin of.
TWIN_SQL = "SELECT id, body_sha256 FROM events WHERE source = ? AND dedupe_key = ?"

#: Positions of free text (from a request) in ``event_row`` and ``delivery_row``.
EVENT_TEXT = (2, 3, 4, 7, 11)
DELIVERY_TEXT = (13, 14, 15)


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def event_row(e: NewEvent, digest: str) -> tuple[Any, ...]:
    """id, source, dedupe_key, provider_event_id, event_type, received_at, status, error,
    body, headers, query, client_ip, body_sha256."""
    return (
        e.id,
        e.source,
        utf8_optional(e.dedupe_key),
        utf8_optional(e.provider_event_id),
        utf8_optional(e.event_type),
        e.received_at,
        e.status.value,
        utf8_optional(e.error),
        e.body,
        dump_json(dict(e.headers)),
        dump_json(dict(e.query)),
        utf8_optional(e.client_ip),
        digest,
    )


def delivery_row(e: NewEvent, d: NewDelivery) -> tuple[Any, ...]:
    """id, event_id, route, target, function_id, variables, stream, status, max_attempts,
    retry_policy, idempotent, next_attempt_at, created_at (= updated_at), last_error,
    dedupe_key, run_options, traceparent."""
    return (
        d.id,
        e.id,
        d.route,
        d.target,
        d.function_id,
        None if d.variables is None else dump_json(dict(d.variables)),
        d.stream,
        d.status.value,
        d.max_attempts,
        dump_json(dict(d.retry_policy)),
        d.idempotent,
        e.received_at if d.status == DeliveryStatus.PENDING else None,
        e.received_at,
        utf8_optional(d.error),
        utf8_optional(d.dedupe_key),
        None if not d.run_options else dump_json(dict(d.run_options)),
        e.traceparent,
    )


def received_reason(d: NewDelivery) -> str:
    """The reason of a stored delivery's first transition."""
    return utf8_optional(d.error) or "received"


def redelivery(twin_id: str, stored_digest: str | None, digest: str) -> InsertResult:
    """A re-delivery of the stored event ``twin_id``: a conflict when its body differs from
    the stored one (the first body is kept), a duplicate otherwise."""
    conflict = stored_digest is not None and stored_digest != digest
    return InsertResult(event_id=twin_id, duplicate=True, conflict=conflict)
