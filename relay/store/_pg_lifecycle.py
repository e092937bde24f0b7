"""PostgreSQL's hot paths, one round trip each: claim and finish (the other moves are written
once for both dialects: relay/store/_moves.py). ``finish_attempt`` is one statement, ``claim``
manages its own transaction; both store a transition row for every status they change.
Why ``claim`` never leaves more than ``max_in_flight``
deliveries of a target in flight across instances is told in relay/store/postgres.py.
"""

from __future__ import annotations

import contextlib
import zlib

from relay.ids import new_id
from relay.ratelimit import RateLimit
from relay.store import _pg_buckets as buckets
from relay.store._pg_schema import LOCK_CLAIM
from relay.store._pg_sql import CLAIMABLE_VALUES, Conn, clean
from relay.store._records import DELIVERY_COLUMNS, delivery_from_row, dump_json
from relay.store.base import (
    AttemptResult,
    ClaimedDelivery,
    DeliveryStatus,
)
from relay.store.lifecycle import check_transition

__all__ = ["claim", "claim_lock_key", "finish_attempt"]

S = DeliveryStatus
_D_COLUMNS = ", ".join(f"d.{c.strip()}" for c in DELIVERY_COLUMNS.split(","))

# One statement: count the target's leases, pick what is due (skipping rows other
# transactions hold), lease it, open its attempts and record the moves. Its snapshot is taken
# after the target's lock was granted (the statement before), so the count sees every claim
# committed before (relay/store/postgres.py). $7 NULL: no limit.
_CLAIM = f"""
WITH busy AS (
    SELECT count(*) AS n FROM deliveries
    WHERE target = $1 AND status IN ('in_flight', 'running')
), picked AS (
    SELECT id, status AS was, next_attempt_at AS due FROM deliveries
    WHERE target = $1 AND status = ANY($2::text[]) AND next_attempt_at <= $3
    ORDER BY next_attempt_at, id
    LIMIT greatest(0, least($4::int, coalesce($7::int - (SELECT n FROM busy), $4::int)))
    FOR UPDATE SKIP LOCKED
), numbered AS (
    SELECT picked.*, row_number() OVER (ORDER BY due, id) AS k FROM picked
), claimed AS (
    UPDATE deliveries d
    SET status = 'in_flight', attempts = d.attempts + 1, lease_owner = $5,
        lease_expires_at = $6, next_attempt_at = NULL, updated_at = $3,
        function_run_id = CASE WHEN d.run_status = 'created' THEN d.function_run_id END,
        run_status = CASE WHEN d.run_status = 'created' THEN d.run_status END,
        run_started_at = NULL, stop_requested_by = NULL
    FROM numbered p WHERE d.id = p.id
    RETURNING p.was, p.due, p.k, {_D_COLUMNS}
), opened AS (
    INSERT INTO attempts (id, delivery_id, number, started_at)
    SELECT ($8::text[])[c.k], c.id, c.attempts, $3 FROM claimed c
), moved AS (
    INSERT INTO transitions (delivery_id, at, from_status, to_status, reason, actor)
    SELECT c.id, $3, c.was, 'in_flight', 'attempt ' || c.attempts, $5 FROM claimed c
)
SELECT * FROM claimed ORDER BY due, id
"""  # noqa: S608 (fixed column names)

_FINISH = """
WITH a AS (
    UPDATE attempts SET finished_at = $1, duration_ms = $2, outcome = $3, status_code = $4,
        error = $5, function_run_id = $6, session_id = $7, run_status = $8, result = $9,
        logs = $10
    WHERE id = $11
), d AS (
    UPDATE deliveries x SET status = $14, next_attempt_at = $15, lease_owner = NULL,
        lease_expires_at = NULL, updated_at = $1, last_error = $5,
        budget_used = x.budget_used + $16,
        function_run_id = coalesce($6, x.function_run_id),
        run_status = coalesce($8, x.run_status),
        run_started_at = coalesce(x.run_started_at, $18)
    FROM deliveries old
    WHERE old.id = x.id AND x.id = $12 AND x.status = 'in_flight' AND x.attempts = $13
    RETURNING old.lease_owner AS owner
)
INSERT INTO transitions (delivery_id, at, from_status, to_status, reason, actor)
SELECT $12, $1, 'in_flight', $14, $17, coalesce($19::text, d.owner, 'worker') FROM d
"""


def claim_lock_key(schema: str, target: str) -> int:
    """The second key of a target's claim lock: the same number on every instance."""
    key = zlib.crc32(f"{schema}:{target}".encode())
    return key - (1 << 32) if key >= (1 << 31) else key


async def claim(
    conn: Conn,
    *,
    target: str,
    limit: int,
    now: float,
    owner: str,
    lease: float,
    max_in_flight: int | None,
    lock_key: int,
    rate: RateLimit | None = None,
) -> list[ClaimedDelivery]:
    """Manages its own transaction (call it outside one)."""
    lease_until = now + lease
    if max_in_flight is None and rate is None:  # nothing to keep: one statement
        return await _claim_rows(conn, target, limit, now, owner, lease_until, None)
    # BEGIN and the lock in one round trip (the key is an integer, never text): claims of
    # one target, from every instance, take their turns; the count in flight and the token
    # bucket are read and written under it.
    await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({LOCK_CLAIM}, {int(lock_key)})")
    try:
        bucket = None if rate is None else await buckets.load(conn, target, rate, now)
        if bucket is not None:
            limit = min(limit, bucket.available(now))
        claimed = []
        if limit > 0:
            claimed = await _claim_rows(conn, target, limit, now, owner, lease_until, max_in_flight)
        if bucket is not None:
            await buckets.save(conn, target, bucket.take(len(claimed), now))
        await conn.execute("COMMIT")
    except Exception:
        with contextlib.suppress(Exception):
            await conn.execute("ROLLBACK")
        raise
    return claimed


async def _claim_rows(
    conn: Conn,
    target: str,
    limit: int,
    now: float,
    owner: str,
    lease_until: float,
    max_in_flight: int | None,
) -> list[ClaimedDelivery]:
    """The claim statement (``_CLAIM``), with an attempt id ready for each row it may take."""
    attempt_ids = [new_id("att", now) for _ in range(limit)]
    rows = await conn.fetch(
        _CLAIM, target, CLAIMABLE_VALUES, now, limit, owner, lease_until, max_in_flight, attempt_ids
    )
    return [
        ClaimedDelivery(
            delivery_from_row(tuple(r)[3:]), attempt_ids[int(r["k"]) - 1], int(r["attempts"])
        )
        for r in rows
    ]


async def finish_attempt(conn: Conn, claimed: ClaimedDelivery, result: AttemptResult) -> bool:
    """Record the attempt and move its delivery; False when the lease was lost meanwhile
    (recovered by a sweep, maybe claimed again): the delivery is left as it is."""
    status, next_at = result.new_status, result.next_attempt_at
    check_transition(S.IN_FLIGHT, status)
    if status in (S.RETRY_SCHEDULED, S.PAUSED, S.PENDING, S.RUNNING):
        next_at = result.finished_at if next_at is None else next_at  # due needs a time
    else:
        next_at = None
    outcome = await conn.execute(
        _FINISH,
        result.finished_at,
        result.duration_ms,
        result.outcome,
        result.status_code,
        clean(result.error),
        clean(result.function_run_id),
        clean(result.session_id),
        clean(result.run_status),
        None if result.result is None else dump_json(result.result),
        dump_json(list(result.logs)),
        claimed.attempt_id,
        claimed.delivery.id,
        claimed.attempt_number,
        status.value,
        next_at,
        int(result.counts_toward_budget),
        clean(result.reason or result.error or result.outcome),
        result.run_started_at if status is S.RUNNING else None,
        result.actor,
    )
    return str(outcome).endswith(" 1")
