"""SQL for a delivery's moves on PostgreSQL: claim, finish, recover, replay, cancel.

Each function runs inside the caller's transaction (``finish_attempt`` is one statement,
``claim`` manages its own) and stores a transition row for every status it changes, like
relay/store/_sqlite_lifecycle.py. Why ``claim`` never leaves more than ``max_in_flight``
deliveries of a target in flight across instances is told in relay/store/postgres.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import zlib
from collections.abc import Sequence
from typing import Any

from relay.ids import new_id
from relay.ratelimit import RateLimit
from relay.run_options import RunOptions
from relay.store import _pg_buckets as buckets
from relay.store._pg_schema import LOCK_CLAIM
from relay.store._pg_sql import CLAIMABLE_VALUES, Conn, clean, filter_sql
from relay.store._records import DELIVERY_COLUMNS, delivery_from_row, dump_json, load_json
from relay.store.base import (
    CANCELLABLE,
    REPLAYABLE,
    AttemptResult,
    ClaimedDelivery,
    DeliveryFilter,
    DeliveryRecord,
    DeliveryStatus,
)
from relay.store.lifecycle import RECOVER_ERROR, check_transition, recovered

__all__ = [
    "cancel",
    "claim",
    "find",
    "finish_attempt",
    "get",
    "record_audit",
    "recover_expired",
    "replay",
    "replay_matching",
]

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


async def record_transition(
    conn: Conn,
    delivery_id: str,
    at: float,
    from_status: DeliveryStatus | None,
    to_status: DeliveryStatus,
    reason: str | None,
    actor: str,
) -> None:
    check_transition(from_status, to_status)
    await conn.execute(
        "INSERT INTO transitions (delivery_id, at, from_status, to_status, reason, actor) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        delivery_id,
        at,
        None if from_status is None else from_status.value,
        to_status.value,
        clean(reason),
        actor,
    )


async def record_audit(
    conn: Conn, at: float, actor: str, action: str, detail: Any, count: int
) -> None:
    await conn.execute(
        "INSERT INTO audit (at, actor, action, detail, count) VALUES ($1, $2, $3, $4, $5)",
        at,
        actor,
        action,
        dump_json(detail),
        count,
    )


async def notify(conn: Conn, channel: str, targets: Sequence[str]) -> None:
    """Tell every instance (on commit) that ``targets`` have claimable work."""
    if targets:
        await conn.execute(
            "SELECT pg_notify($1, t) FROM unnest($2::text[]) AS t", channel, sorted(set(targets))
        )


async def get(conn: Conn, delivery_id: str, *, lock: bool = False) -> DeliveryRecord | None:
    sql = f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1"  # noqa: S608
    row = await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), delivery_id)
    return None if row is None else delivery_from_row(tuple(row))


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


def _dead_leases(now: float, owner: str | None, owners: Sequence[str] | None) -> tuple[str, Any]:
    """Which leases are dead, as a condition on ``deliveries`` (its parameter ``${n}``) and
    that parameter's value."""
    if owners is not None:  # their holders are gone (relay/store/_pg_liveness.py)
        return "lease_owner = ANY(${n}::text[])", list(owners)
    if owner is None:
        return "lease_expires_at < ${n}", now
    return "(lease_owner IS NULL OR lease_owner <> ${n})", owner


async def recover_expired(
    conn: Conn, now: float, owner: str | None, channel: str, owners: Sequence[str] | None = None
) -> list[str]:
    """Which leases: expired ones; with ``owner``, every one not held by ``owner``; with
    ``owners``, every one they hold (gone: relay/store/_pg_liveness.py). Then one outcome for
    all of them, whatever chose them."""
    select = (
        "SELECT id, idempotent, budget_used, max_attempts, target, function_run_id, run_status, "
        "run_options FROM deliveries WHERE status = 'in_flight' AND "
    )
    dead, held_by = _dead_leases(now, owner, owners)
    rows = await conn.fetch(select + dead.format(n=1) + " FOR UPDATE SKIP LOCKED", held_by)
    moves: list[tuple[str, str, float | None, int, str]] = []
    for delivery_id, idempotent, budget_used, max_attempts, _, run_id, run_status, opts in rows:
        budget = int(budget_used) + 1
        status, reason = recovered(
            function_run_id=run_id,
            run_status=run_status,
            idempotent=bool(idempotent),
            budget_used=budget,
            max_attempts=int(max_attempts),
            two_step=RunOptions.from_mapping(load_json(opts) or {}).two_step,
        )
        check_transition(S.IN_FLIGHT, status)
        due = now if status in (S.PENDING, S.RUNNING) else None
        moves.append((delivery_id, status.value, due, budget, reason))
    if moves:
        ids = [m[0] for m in moves]
        await conn.execute(
            "UPDATE attempts SET finished_at = $1, outcome = 'ambiguous', error = $2 "
            "WHERE delivery_id = ANY($3::text[]) AND finished_at IS NULL",
            now,
            RECOVER_ERROR,
            ids,
        )
        await conn.execute(
            "UPDATE deliveries d SET status = u.status, next_attempt_at = u.due, "
            "lease_owner = NULL, lease_expires_at = NULL, updated_at = $1, last_error = $2, "
            "budget_used = u.budget, run_started_at = CASE WHEN u.status = 'running' "
            "THEN coalesce(d.run_started_at, $1) END "
            "FROM unnest($3::text[], $4::text[], $5::float8[], $6::int[]) "
            "AS u(id, status, due, budget) WHERE d.id = u.id",
            now,
            RECOVER_ERROR,
            ids,
            [m[1] for m in moves],
            [m[2] for m in moves],
            [m[3] for m in moves],
        )
        await conn.execute(
            "INSERT INTO transitions (delivery_id, at, from_status, to_status, reason, actor) "
            "SELECT u.id, $1, 'in_flight', u.status, u.reason, 'sweep' "
            "FROM unnest($2::text[], $3::text[], $4::text[]) AS u(id, status, reason)",
            now,
            ids,
            [m[1] for m in moves],
            [m[4] for m in moves],
        )
    # A run's check whose worker died: the run is looked at again now.
    checks = await conn.fetch(
        "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL, "  # noqa: S608
        "next_attempt_at = coalesce(next_attempt_at, $1) WHERE status = 'running' "
        f"AND lease_owner IS NOT NULL AND {dead.format(n=2)} RETURNING target",
        now,
        held_by,
    )
    # Defensive: a claimable delivery without a due time would never be claimed.
    repaired = await conn.fetch(
        "UPDATE deliveries SET next_attempt_at = $1 WHERE next_attempt_at IS NULL "
        "AND lease_owner IS NULL AND (status = ANY($2::text[]) OR status = 'running') "
        "RETURNING target",
        now,
        CLAIMABLE_VALUES,
    )
    requeued = [r[4] for r, m in zip(rows, moves, strict=True) if m[2] is not None]
    await notify(conn, channel, [*requeued, *(r[0] for r in repaired), *(r[0] for r in checks)])
    return [m[0] for m in moves]


async def _replay_one(
    conn: Conn, record: DeliveryRecord, now: float, actor: str, reason: str
) -> DeliveryRecord:
    if record.status not in REPLAYABLE:
        raise ValueError(f"delivery {record.id} is {record.status.value}")
    budget = int(record.retry_policy.get("max_attempts", record.max_attempts))
    max_attempts = record.budget_used + budget
    await conn.execute(
        "UPDATE deliveries SET status = $1, next_attempt_at = $2, max_attempts = $3, "
        "updated_at = $2, last_error = NULL, function_run_id = NULL, run_status = NULL, "
        "run_started_at = NULL, stop_requested_by = NULL WHERE id = $4",
        S.PENDING.value,
        now,
        max_attempts,
        record.id,
    )
    await record_transition(conn, record.id, now, record.status, S.PENDING, reason, actor)
    return dataclasses.replace(
        record,
        status=S.PENDING,
        next_attempt_at=now,
        max_attempts=max_attempts,
        updated_at=now,
        last_error=None,
        function_run_id=None,
        run_status=None,
        run_started_at=None,
        stop_requested_by=None,
    )


async def replay(
    conn: Conn, delivery_id: str, now: float, actor: str, channel: str
) -> DeliveryRecord:
    record = await get(conn, delivery_id, lock=True)
    if record is None:
        raise KeyError(delivery_id)
    replayed = await _replay_one(conn, record, now, actor, "replayed")
    await record_audit(conn, now, actor, "replay", {"delivery_id": delivery_id}, 1)
    await notify(conn, channel, [record.target])
    return replayed


async def find(
    conn: Conn, selection: DeliveryFilter, *, lock: bool = False
) -> list[DeliveryRecord]:
    where, params = filter_sql(selection)
    sql = (
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries{where} "  # noqa: S608
        f"ORDER BY updated_at DESC, id DESC LIMIT ${len(params) + 1}"
    )
    rows = await conn.fetch(sql + (" FOR UPDATE" if lock else ""), *params, selection.limit)
    return [delivery_from_row(tuple(r)) for r in rows]


async def replay_matching(
    conn: Conn, selection: DeliveryFilter, now: float, actor: str, channel: str
) -> list[str]:
    replayable = [s for s in selection.statuses if s in REPLAYABLE]
    records = await find(conn, dataclasses.replace(selection, statuses=replayable), lock=True)
    for record in records:
        await _replay_one(conn, record, now, actor, "bulk replay")
    detail = {
        "statuses": [s.value for s in selection.statuses],
        "route": selection.route,
        "target": selection.target,
        "since": selection.since,
        "reason": selection.reason,
        "limit": selection.limit,
    }
    await record_audit(conn, now, actor, "dlq_replay", detail, len(records))
    await notify(conn, channel, [r.target for r in records])
    return [r.id for r in records]


async def cancel(
    conn: Conn, delivery_id: str, now: float, actor: str, reason: str | None
) -> DeliveryRecord:
    record = await get(conn, delivery_id, lock=True)
    if record is None:
        raise KeyError(delivery_id)
    if record.status not in CANCELLABLE:
        raise ValueError(f"delivery {delivery_id} is {record.status.value}")
    await conn.execute(
        "UPDATE deliveries SET status = $1, next_attempt_at = NULL, updated_at = $2 WHERE id = $3",
        S.CANCELLED.value,
        now,
        delivery_id,
    )
    await record_transition(
        conn, delivery_id, now, record.status, S.CANCELLED, reason or "cancelled", actor
    )
    await record_audit(
        conn, now, actor, "cancel", {"delivery_id": delivery_id, "reason": reason}, 1
    )
    return dataclasses.replace(record, status=S.CANCELLED, next_attempt_at=None, updated_at=now)
