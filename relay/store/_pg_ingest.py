"""Storing a batch of events with their deliveries in one PostgreSQL transaction.

- Events go in with one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING`` on the
  unique ``(source, dedupe_key)`` index: of several requests with one key, in this batch or
  on other instances at the same moment, exactly one row is stored (a concurrent insert of
  the same key waits for the other transaction, then does nothing). The rows go in sorted
  by key, so two batches never take the index's entries in opposite orders (no deadlock).
- Every event that was not stored is a re-delivery: its stored twin's id is the answer (the
  twin is committed, or stored by this very batch), and the twin counts it as a duplicate
  (same body) or a conflict (another body under the same provider event id).
- Deliveries without a route dedupe key go in with one ``unnest`` insert. Those with one are
  checked and inserted one by one under a transaction-level advisory lock per (route, key),
  taken in sorted order: two instances cannot both see "none in the window" and both insert.
- One transition row per delivery, and ``pg_notify(channel, target)`` for every target with
  new pending deliveries: sent when the transaction commits, never before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relay.store import _ingest_rows as shared
from relay.store._pg_schema import LOCK_DEDUPE
from relay.store._pg_sql import Conn, clean
from relay.store._sql import pg_text
from relay.store.base import DeliveryStatus, InsertResult, NewDelivery, NewEvent

__all__ = ["insert_batch"]

_INSERT_EVENTS = """
INSERT INTO events (id, source, dedupe_key, provider_event_id, event_type, received_at,
                    status, error, body, headers, query, client_ip, body_sha256)
SELECT u.id, u.source, u.dedupe_key, u.provider_event_id, u.event_type, u.received_at,
       u.status, u.error, u.body, u.headers, u.query, u.client_ip, u.digest
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[],
            $7::text[], $8::text[], $9::bytea[], $10::text[], $11::text[], $12::text[],
            $13::text[])
     WITH ORDINALITY AS u(id, source, dedupe_key, provider_event_id, event_type, received_at,
                          status, error, body, headers, query, client_ip, digest, n)
ORDER BY u.n
ON CONFLICT (source, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
RETURNING id
"""

_INSERT_DELIVERIES = """
INSERT INTO deliveries (id, event_id, route, target, function_id, variables, stream, status,
                        max_attempts, retry_policy, idempotent, next_attempt_at, created_at,
                        updated_at, last_error, dedupe_key, run_options, traceparent)
SELECT u.id, u.event_id, u.route, u.target, u.function_id, u.variables, u.stream, u.status,
       u.max_attempts, u.retry_policy, u.idempotent, u.due, u.at, u.at, u.error, u.dedupe_key,
       u.run_options, u.traceparent
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::bool[], $8::text[], $9::int[], $10::text[], $11::bool[], $12::float8[],
            $13::float8[], $14::text[], $15::text[], $16::text[], $17::text[])
     AS u(id, event_id, route, target, function_id, variables, stream, status, max_attempts,
          retry_policy, idempotent, due, at, error, dedupe_key, run_options, traceparent)
"""

_INSERT_TRANSITIONS = """
INSERT INTO transitions (delivery_id, at, from_status, to_status, reason, actor)
SELECT u.id, u.at, NULL, u.status, u.reason, 'receiver'
FROM unnest($1::text[], $2::float8[], $3::text[], $4::text[]) AS u(id, at, status, reason)
"""

_TWIN = pg_text(shared.TWIN_SQL)
_DEDUPED = pg_text(shared.DEDUPED_SQL)
_COUNT_REDELIVERIES = """
UPDATE events SET duplicates = duplicates + $2, conflicts = conflicts + $3 WHERE id = $1
"""


class VanishedTwin(RuntimeError):
    """A duplicate's stored twin was deleted meanwhile (retention): insert it again."""


def _columns(rows: Sequence[tuple[Any, ...]], width: int, text: Sequence[int]) -> list[list[Any]]:
    """``rows`` as ``unnest``'s columns, free text cleaned for PostgreSQL (``clean``)."""
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]
    for n in text:
        columns[n] = [clean(v) for v in columns[n]]
    return columns


def _event_columns(events: Sequence[NewEvent]) -> list[list[Any]]:
    return _columns(
        [shared.event_row(e, shared.body_sha256(e.body)) for e in events], 13, shared.EVENT_TEXT
    )


def _delivery_columns(rows: Sequence[tuple[NewEvent, NewDelivery]]) -> list[list[Any]]:
    return _columns([shared.delivery_row(e, d) for e, d in rows], 17, shared.DELIVERY_TEXT)


async def _count_redeliveries(
    conn: Conn, redelivered: Sequence[NewEvent]
) -> dict[str, InsertResult]:
    """Count each re-delivery on its stored twin, keys in sorted order: a duplicate when the
    body is the same, a conflict when it differs (the first body is kept). Results by id."""
    by_key: dict[tuple[str, str], list[NewEvent]] = {}
    for e in redelivered:
        by_key.setdefault((e.source, clean(e.dedupe_key) or ""), []).append(e)
    results: dict[str, InsertResult] = {}
    for key in sorted(by_key):
        twin = await conn.fetchrow(_TWIN, *key)
        if twin is None:
            raise VanishedTwin(f"event {key} was deleted while a re-delivery arrived")
        twin_id, stored = str(twin[0]), twin[1]
        conflicts = 0
        for e in by_key[key]:
            seen = shared.redelivery(twin_id, stored, shared.body_sha256(e.body))
            conflicts += seen.conflict
            results[e.id] = seen
        duplicates = len(by_key[key]) - conflicts
        await conn.execute(_COUNT_REDELIVERIES, twin_id, duplicates, conflicts)
    return results


async def _insert_deliveries(
    conn: Conn, stored: Sequence[NewEvent]
) -> tuple[dict[str, list[str]], list[tuple[NewEvent, NewDelivery]]]:
    """Insert the deliveries of the stored events; (deduped routes by event id, inserted)."""
    plain: list[tuple[NewEvent, NewDelivery]] = []
    keyed: list[tuple[NewEvent, NewDelivery]] = []
    for e in stored:
        for d in e.deliveries:
            (plain if d.dedupe_key is None else keyed).append((e, d))
    deduped: dict[str, list[str]] = {}
    inserted = list(plain)
    if plain:
        await conn.execute(_INSERT_DELIVERIES, *_delivery_columns(plain))
    if keyed:
        schema = await conn.fetchval("SELECT current_schema()")
        locks = sorted({f"{schema}:{d.route}:{clean(d.dedupe_key)}" for _, d in keyed})
        for name in locks:
            await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", LOCK_DEDUPE, name)
        for e, d in keyed:
            since = e.received_at - d.dedupe_window
            if await conn.fetchval(_DEDUPED, d.route, clean(d.dedupe_key), since):
                deduped.setdefault(e.id, []).append(d.route)
                continue
            await conn.execute(_INSERT_DELIVERIES, *_delivery_columns([(e, d)]))
            inserted.append((e, d))
    return deduped, inserted


async def insert_batch(conn: Conn, events: Sequence[NewEvent], channel: str) -> list[InsertResult]:
    """Store ``events`` (inside the caller's transaction); one result per event, in order."""
    if len({e.id for e in events}) != len(events):
        raise ValueError("one event id twice in a batch")
    ordered = sorted(events, key=lambda e: (e.source, clean(e.dedupe_key) or ""))
    rows = await conn.fetch(_INSERT_EVENTS, *_event_columns(ordered))
    new_ids = {str(r[0]) for r in rows}
    stored = [e for e in events if e.id in new_ids]
    again = await _count_redeliveries(conn, [e for e in events if e.id not in new_ids])
    deduped, inserted = await _insert_deliveries(conn, stored)
    if inserted:
        await conn.execute(
            _INSERT_TRANSITIONS,
            [d.id for _, d in inserted],
            [e.received_at for e, _ in inserted],
            [d.status.value for _, d in inserted],
            [clean(shared.received_reason(d)) for _, d in inserted],
        )
        targets = sorted({d.target for _, d in inserted if d.status == DeliveryStatus.PENDING})
        if targets:
            await conn.execute(
                "SELECT pg_notify($1, t) FROM unnest($2::text[]) AS t", channel, targets
            )
    results: list[InsertResult] = []
    for e in events:
        if e.id in new_ids:
            routes = tuple(deduped.get(e.id, ()))
            results.append(InsertResult(event_id=e.id, duplicate=False, deduped_routes=routes))
        else:
            results.append(again[e.id])
    return results
