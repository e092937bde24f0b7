"""SQL for operators and housekeeping on PostgreSQL: target state, audit, transitions,
handed-over source secrets, retention purges (relay/store/_sqlite_admin.py's twin)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from relay.store._pg_lifecycle import get, notify, record_audit, record_transition
from relay.store._pg_sql import CLAIMABLE_VALUES, FINAL_VALUES, Conn, status_count
from relay.store._records import (
    AUDIT_COLUMNS,
    TARGET_STATE_COLUMNS,
    TRANSITION_COLUMNS,
    audit_from_row,
    target_state_from_row,
    transition_from_row,
)
from relay.store.base import (
    WAITING,
    AuditRecord,
    DeliveryRecord,
    DeliveryStatus,
    TargetOverview,
    TargetState,
    TransitionRecord,
)

__all__ = [
    "add_source_secret",
    "delete_source_secrets",
    "list_audit",
    "list_source_secrets",
    "list_target_states",
    "list_transitions",
    "purge_expired",
    "retry_now",
    "save_target_health",
    "set_target_paused",
    "target_overview",
]


async def list_transitions(conn: Conn, delivery_id: str) -> list[TransitionRecord]:
    rows = await conn.fetch(
        f"SELECT {TRANSITION_COLUMNS} FROM transitions WHERE delivery_id = $1 "  # noqa: S608
        "ORDER BY id",
        delivery_id,
    )
    return [transition_from_row(tuple(r)) for r in rows]


async def set_target_paused(
    conn: Conn, target: str, paused: bool, now: float, actor: str
) -> TargetState:
    row = await conn.fetchrow(
        "INSERT INTO target_state (target, paused, paused_by, paused_at, updated_at) "  # noqa: S608
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (target) DO UPDATE SET "
        "paused = excluded.paused, paused_by = excluded.paused_by, "
        "paused_at = excluded.paused_at, updated_at = excluded.updated_at "
        f"RETURNING {TARGET_STATE_COLUMNS}",
        target,
        paused,
        actor if paused else None,
        now if paused else None,
        now,
    )
    await record_audit(conn, now, actor, "pause" if paused else "resume", {"target": target}, 1)
    assert row is not None
    return target_state_from_row(tuple(row))


async def save_target_health(conn: Conn, state: TargetState) -> None:
    await conn.execute(
        "INSERT INTO target_state (target, breaker, breaker_until, throttled_until, "
        "max_concurrency, updated_at) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (target) DO UPDATE SET breaker = excluded.breaker, "
        "breaker_until = excluded.breaker_until, throttled_until = excluded.throttled_until, "
        "max_concurrency = excluded.max_concurrency, updated_at = excluded.updated_at",
        state.target,
        state.breaker,
        state.breaker_until,
        state.throttled_until,
        state.max_concurrency,
        state.updated_at,
    )


async def list_target_states(conn: Conn) -> list[TargetState]:
    rows = await conn.fetch(
        f"SELECT {TARGET_STATE_COLUMNS} FROM target_state ORDER BY target"  # noqa: S608
    )
    return [target_state_from_row(tuple(r)) for r in rows]


async def target_overview(conn: Conn) -> list[TargetOverview]:
    counts: dict[str, tuple[int, int]] = {
        row[0]: (int(row[1]), int(row[2]))
        for row in await conn.fetch(
            "SELECT target, count(*) FILTER (WHERE status = 'in_flight'), "
            "count(*) FILTER (WHERE status <> 'in_flight') FROM deliveries "
            "WHERE status = 'in_flight' OR status = ANY($1::text[]) GROUP BY target",
            CLAIMABLE_VALUES,
        )
    }
    states = {s.target: s for s in await list_target_states(conn)}
    return [
        TargetOverview(
            state=states.get(name, TargetState(target=name)),
            in_flight=counts.get(name, (0, 0))[0],
            queued=counts.get(name, (0, 0))[1],
        )
        for name in sorted({*counts, *states})
    ]


async def list_audit(conn: Conn, limit: int) -> list[AuditRecord]:
    rows = await conn.fetch(
        f"SELECT {AUDIT_COLUMNS} FROM audit ORDER BY id DESC LIMIT $1",  # noqa: S608
        limit,
    )
    return [audit_from_row(tuple(r)) for r in rows]


async def add_source_secret(conn: Conn, source: str, secret: str, origin: str, now: float) -> None:
    await conn.execute(
        "INSERT INTO source_secrets (source, secret, origin, created_at) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        source,
        secret,
        origin,
        now,
    )


async def list_source_secrets(conn: Conn) -> dict[str, list[str]]:
    secrets: dict[str, list[str]] = {}
    for source, secret in await conn.fetch(
        "SELECT source, secret FROM source_secrets ORDER BY created_at, id"
    ):
        secrets.setdefault(source, []).append(secret)
    return secrets


async def delete_source_secrets(conn: Conn, source: str) -> int:
    status = await conn.execute("DELETE FROM source_secrets WHERE source = $1", source)
    return status_count(status)


def _scope(
    column: str, before: float, source: str | None, exclude_sources: Sequence[str]
) -> tuple[str, list[Any]]:
    clauses: list[str] = [f"{column}received_at < $1"]
    params: list[Any] = [before]
    if source is not None:
        params.append(source)
        clauses.append(f"{column}source = ${len(params)}")
    if exclude_sources:
        params.append(list(exclude_sources))
        clauses.append(f"NOT ({column}source = ANY(${len(params)}::text[]))")
    return " AND ".join(clauses), params


async def purge_expired(
    conn: Conn,
    before: float,
    source: str | None,
    exclude_sources: Sequence[str],
    limit: int,
) -> int:
    """Up to ``limit`` expired events whose deliveries are all final, with their rows, and up
    to ``limit`` expired rejections of the same sources (inside the caller's transaction)."""
    where, params = _scope("e.", before, source, exclude_sources)
    alive = (
        "SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND NOT (d.status = ANY($%d::text[]))"
    )
    params.append(FINAL_VALUES)
    where += f" AND NOT EXISTS ({alive % len(params)})"
    params.append(limit)
    ids = [
        r[0]
        for r in await conn.fetch(
            f"SELECT e.id FROM events e WHERE {where} LIMIT ${len(params)} "  # noqa: S608
            "FOR UPDATE SKIP LOCKED",
            *params,
        )
    ]
    if ids:  # lock their deliveries, then look again: a replay may have committed meanwhile
        await conn.execute(
            "SELECT 1 FROM deliveries WHERE event_id = ANY($1::text[]) FOR UPDATE", ids
        )
        busy = await conn.fetch(
            "SELECT DISTINCT event_id FROM deliveries WHERE event_id = ANY($1::text[]) "
            "AND NOT (status = ANY($2::text[]))",
            ids,
            FINAL_VALUES,
        )
        ids = sorted(set(ids) - {r[0] for r in busy})
    if ids:
        deliveries = "(SELECT id FROM deliveries WHERE event_id = ANY($1::text[]))"
        await conn.execute(f"DELETE FROM transitions WHERE delivery_id IN {deliveries}", ids)  # noqa: S608
        await conn.execute(f"DELETE FROM attempts WHERE delivery_id IN {deliveries}", ids)  # noqa: S608
        await conn.execute("DELETE FROM deliveries WHERE event_id = ANY($1::text[])", ids)
        await conn.execute("DELETE FROM events WHERE id = ANY($1::text[])", ids)
    where, params = _scope("", before, source, exclude_sources)
    params.append(limit)
    status = await conn.execute(
        "DELETE FROM rejections WHERE id IN (SELECT id FROM rejections "  # noqa: S608
        f"WHERE {where} LIMIT ${len(params)} FOR UPDATE SKIP LOCKED)",
        *params,
    )
    return len(ids) + status_count(status)


async def retry_now(
    conn: Conn, delivery_id: str, now: float, actor: str, channel: str
) -> DeliveryRecord:
    record = await get(conn, delivery_id, lock=True)
    if record is None:
        raise KeyError(delivery_id)
    if record.status not in WAITING:
        raise ValueError(f"delivery {delivery_id} is {record.status.value}, not waiting")
    pending = DeliveryStatus.PENDING
    await conn.execute(
        "UPDATE deliveries SET status = $1, next_attempt_at = $2, updated_at = $2 WHERE id = $3",
        pending.value,
        now,
        delivery_id,
    )
    await record_transition(conn, delivery_id, now, record.status, pending, "retry now", actor)
    await record_audit(conn, now, actor, "retry_now", {"delivery_id": delivery_id}, 1)
    await notify(conn, channel, [record.target])
    return dataclasses.replace(record, status=pending, next_attempt_at=now, updated_at=now)


async def add_admin_session(conn: Conn, digest: str, expires_at: float, now: float) -> None:
    await conn.execute("DELETE FROM admin_sessions WHERE expires_at <= $1", now)
    await conn.execute(
        "INSERT INTO admin_sessions (digest, expires_at) VALUES ($1, $2) "
        "ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at",
        digest,
        expires_at,
    )


async def admin_session_active(conn: Conn, digest: str, now: float) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM admin_sessions WHERE digest = $1 AND expires_at > $2", digest, now
    )
    return found is not None


async def end_admin_sessions(conn: Conn, digest: str | None) -> int:
    if digest is None:
        status = await conn.execute("DELETE FROM admin_sessions")
    else:
        status = await conn.execute("DELETE FROM admin_sessions WHERE digest = $1", digest)
    return status_count(status)
