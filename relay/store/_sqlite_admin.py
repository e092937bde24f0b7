"""SQL for operators and housekeeping: target state, audit, transitions, retention purge."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from typing import Any

from relay.store._records import (
    AUDIT_COLUMNS,
    DELIVERY_COLUMNS,
    TARGET_STATE_COLUMNS,
    TRANSITION_COLUMNS,
    audit_from_row,
    delivery_from_row,
    target_state_from_row,
    transition_from_row,
)
from relay.store._sqlite_lifecycle import record_audit, record_transition
from relay.store.base import (
    CLAIMABLE,
    FINAL,
    WAITING,
    AuditRecord,
    DeliveryRecord,
    DeliveryStatus,
    TargetOverview,
    TargetState,
    TransitionRecord,
)

__all__ = [
    "list_audit",
    "list_target_states",
    "list_transitions",
    "purge_expired",
    "retry_now",
    "save_target_health",
    "set_target_paused",
    "target_overview",
]

_FINAL_SQL = ", ".join(f"'{s.value}'" for s in FINAL)
_QUEUED_SQL = ", ".join(f"'{s.value}'" for s in CLAIMABLE)


def list_transitions(conn: sqlite3.Connection, delivery_id: str) -> list[TransitionRecord]:
    rows = conn.execute(
        f"SELECT {TRANSITION_COLUMNS} FROM transitions WHERE delivery_id = ? "  # noqa: S608
        "ORDER BY id",
        (delivery_id,),
    ).fetchall()
    return [transition_from_row(r) for r in rows]


def _state(conn: sqlite3.Connection, target: str) -> TargetState | None:
    row = conn.execute(
        f"SELECT {TARGET_STATE_COLUMNS} FROM target_state WHERE target = ?",  # noqa: S608
        (target,),
    ).fetchone()
    return None if row is None else target_state_from_row(row)


def set_target_paused(
    conn: sqlite3.Connection, target: str, paused: bool, now: float, actor: str
) -> TargetState:
    conn.execute(
        "INSERT INTO target_state (target, paused, paused_by, paused_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (target) DO UPDATE SET paused = excluded.paused, "
        "paused_by = excluded.paused_by, paused_at = excluded.paused_at, "
        "updated_at = excluded.updated_at",
        (target, int(paused), actor if paused else None, now if paused else None, now),
    )
    record_audit(conn, now, actor, "pause" if paused else "resume", {"target": target}, 1)
    state = _state(conn, target)
    assert state is not None
    return state


def save_target_health(conn: sqlite3.Connection, state: TargetState) -> None:
    conn.execute(
        "INSERT INTO target_state (target, breaker, breaker_until, throttled_until, "
        "max_concurrency, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (target) DO UPDATE SET breaker = excluded.breaker, "
        "breaker_until = excluded.breaker_until, throttled_until = excluded.throttled_until, "
        "max_concurrency = excluded.max_concurrency, updated_at = excluded.updated_at",
        (
            state.target,
            state.breaker,
            state.breaker_until,
            state.throttled_until,
            state.max_concurrency,
            state.updated_at,
        ),
    )


def list_target_states(conn: sqlite3.Connection) -> list[TargetState]:
    rows = conn.execute(
        f"SELECT {TARGET_STATE_COLUMNS} FROM target_state ORDER BY target"  # noqa: S608
    ).fetchall()
    return [target_state_from_row(r) for r in rows]


def target_overview(conn: sqlite3.Connection) -> list[TargetOverview]:
    counts: dict[str, tuple[int, int]] = {
        row[0]: (int(row[1]), int(row[2]))
        for row in conn.execute(
            "SELECT target, sum(status = ?), sum(status != ?) FROM deliveries "  # noqa: S608
            f"WHERE status IN (?, {_QUEUED_SQL}) GROUP BY target",
            (DeliveryStatus.IN_FLIGHT.value,) * 3,
        )
    }
    states = {s.target: s for s in list_target_states(conn)}
    return [
        TargetOverview(
            state=states.get(name, TargetState(target=name)),
            in_flight=counts.get(name, (0, 0))[0],
            queued=counts.get(name, (0, 0))[1],
        )
        for name in sorted({*counts, *states})
    ]


def list_audit(conn: sqlite3.Connection, limit: int) -> list[AuditRecord]:
    rows = conn.execute(
        f"SELECT {AUDIT_COLUMNS} FROM audit ORDER BY id DESC LIMIT ?",  # noqa: S608
        (limit,),
    ).fetchall()
    return [audit_from_row(r) for r in rows]


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def purge_expired(
    conn: sqlite3.Connection,
    before: float,
    source: str | None,
    exclude_sources: Sequence[str],
    limit: int,
) -> int:
    clauses = ["e.received_at < ?"]
    params: list[Any] = [before]
    if source is not None:
        clauses.append("e.source = ?")
        params.append(source)
    if exclude_sources:
        clauses.append(f"e.source NOT IN ({_marks(exclude_sources)})")
        params.extend(exclude_sources)
    alive = f"SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status NOT IN ({_FINAL_SQL})"  # noqa: S608
    clauses.append(f"NOT EXISTS ({alive})")
    ids = [
        r[0]
        for r in conn.execute(
            f"SELECT e.id FROM events e WHERE {' AND '.join(clauses)} LIMIT ?",  # noqa: S608
            (*params, limit),
        )
    ]
    if not ids:
        return 0
    events = f"({_marks(ids)})"
    deliveries = f"(SELECT id FROM deliveries WHERE event_id IN {events})"  # noqa: S608
    conn.execute(f"DELETE FROM transitions WHERE delivery_id IN {deliveries}", ids)  # noqa: S608
    conn.execute(f"DELETE FROM attempts WHERE delivery_id IN {deliveries}", ids)  # noqa: S608
    conn.execute(f"DELETE FROM deliveries WHERE event_id IN {events}", ids)  # noqa: S608
    conn.execute(f"DELETE FROM events WHERE id IN {events}", ids)  # noqa: S608
    return len(ids)


def add_source_secret(
    conn: sqlite3.Connection, *, source: str, secret: str, origin: str, now: float
) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO source_secrets (source, secret, origin, created_at) "
        "VALUES (?, ?, ?, ?)",
        (source, secret, origin, now),
    )


def list_source_secrets(conn: sqlite3.Connection) -> dict[str, list[str]]:
    secrets: dict[str, list[str]] = {}
    rows = conn.execute("SELECT source, secret FROM source_secrets ORDER BY created_at, rowid")
    for source, secret in rows.fetchall():
        secrets.setdefault(source, []).append(secret)
    return secrets


def delete_source_secrets(conn: sqlite3.Connection, *, source: str) -> int:
    return conn.execute("DELETE FROM source_secrets WHERE source = ?", (source,)).rowcount


def retry_now(conn: sqlite3.Connection, delivery_id: str, now: float, actor: str) -> DeliveryRecord:
    row = conn.execute(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?",  # noqa: S608
        (delivery_id,),
    ).fetchone()
    if row is None:
        raise KeyError(delivery_id)
    record = delivery_from_row(row)
    if record.status not in WAITING:
        raise ValueError(f"delivery {delivery_id} is {record.status.value}, not waiting")
    pending = DeliveryStatus.PENDING
    conn.execute(
        "UPDATE deliveries SET status = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?",
        (pending.value, now, now, delivery_id),
    )
    record_transition(conn, delivery_id, now, record.status, pending, "retry now", actor)
    record_audit(conn, now, actor, "retry_now", {"delivery_id": delivery_id}, 1)
    return dataclasses.replace(record, status=pending, next_attempt_at=now, updated_at=now)


def add_admin_session(
    conn: sqlite3.Connection, *, digest: str, expires_at: float, now: float
) -> None:
    conn.execute("DELETE FROM admin_sessions WHERE expires_at <= ?", (now,))
    conn.execute(
        "INSERT OR REPLACE INTO admin_sessions (digest, expires_at) VALUES (?, ?)",
        (digest, expires_at),
    )


def admin_session_active(conn: sqlite3.Connection, *, digest: str, now: float) -> bool:
    row = conn.execute(
        "SELECT 1 FROM admin_sessions WHERE digest = ? AND expires_at > ?", (digest, now)
    ).fetchone()
    return row is not None


def end_admin_sessions(conn: sqlite3.Connection, *, digest: str | None) -> int:
    if digest is None:
        return conn.execute("DELETE FROM admin_sessions").rowcount
    return conn.execute("DELETE FROM admin_sessions WHERE digest = ?", (digest,)).rowcount
