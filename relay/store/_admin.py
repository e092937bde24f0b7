"""Operators and housekeeping, written once for both dialects (relay/store/_sql.py): target
state, audit, transitions, handed-over source secrets, admin sessions, retention purges."""

from __future__ import annotations

from collections.abc import Sequence

from relay.store._moves import record_audit
from relay.store._records import (
    AUDIT_COLUMNS,
    TARGET_STATE_COLUMNS,
    TRANSITION_COLUMNS,
    audit_from_row,
    target_state_from_row,
    transition_from_row,
)
from relay.store._sql import ALL, COUNT, ONE, Dialect, Op, Q, Where, locked, values_sql
from relay.store.base import (
    CLAIMABLE,
    FINAL,
    AuditRecord,
    TargetOverview,
    TargetState,
    TransitionRecord,
)

__all__ = [
    "add_admin_session",
    "add_source_secret",
    "admin_session_active",
    "delete_source_secrets",
    "end_admin_sessions",
    "list_audit",
    "list_source_secrets",
    "list_target_states",
    "list_transitions",
    "probe_write",
    "purge_expired",
    "save_target_health",
    "set_target_paused",
    "target_overview",
]

_TARGET_STATES = f"SELECT {TARGET_STATE_COLUMNS} FROM target_state"  # noqa: S608
_FINAL = values_sql(FINAL)


def probe_write(now: float) -> Op[None]:
    yield Q(
        "INSERT INTO write_probe (id, at) VALUES (1, ?) "
        "ON CONFLICT (id) DO UPDATE SET at = excluded.at",
        (now,),
    )


def list_transitions(delivery_id: str) -> Op[list[TransitionRecord]]:
    rows = yield Q(
        f"SELECT {TRANSITION_COLUMNS} FROM transitions WHERE delivery_id = ? ORDER BY id",  # noqa: S608
        (delivery_id,),
        ALL,
    )
    return [transition_from_row(r) for r in rows]


def set_target_paused(target: str, paused: bool, now: float, actor: str) -> Op[TargetState]:
    row = yield Q(
        "INSERT INTO target_state (target, paused, paused_by, paused_at, updated_at) "  # noqa: S608
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (target) DO UPDATE SET "
        "paused = excluded.paused, paused_by = excluded.paused_by, "
        "paused_at = excluded.paused_at, updated_at = excluded.updated_at "
        f"RETURNING {TARGET_STATE_COLUMNS}",
        (target, paused, actor if paused else None, now if paused else None, now),
        ONE,
    )
    yield from record_audit(now, actor, "pause" if paused else "resume", {"target": target}, 1)
    return target_state_from_row(row)


def save_target_health(state: TargetState) -> Op[None]:
    """The worker's view of a target; keeps the operator's pause."""
    yield Q(
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


def list_target_states() -> Op[list[TargetState]]:
    rows = yield Q(f"{_TARGET_STATES} ORDER BY target", (), ALL)
    return [target_state_from_row(r) for r in rows]


def target_overview() -> Op[list[TargetOverview]]:
    counts: dict[str, tuple[int, int]] = {
        row[0]: (int(row[1]), int(row[2]))
        for row in (
            yield Q(
                "SELECT target, count(*) FILTER (WHERE status = 'in_flight'), "  # noqa: S608
                "count(*) FILTER (WHERE status <> 'in_flight') FROM deliveries "
                f"WHERE status IN ('in_flight', {values_sql(CLAIMABLE)}) GROUP BY target",
                (),
                ALL,
            )
        )
    }
    states = {s.target: s for s in (yield from list_target_states())}
    return [
        TargetOverview(
            state=states.get(name, TargetState(target=name)),
            in_flight=counts.get(name, (0, 0))[0],
            queued=counts.get(name, (0, 0))[1],
        )
        for name in sorted({*counts, *states})
    ]


def list_audit(limit: int) -> Op[list[AuditRecord]]:
    rows = yield Q(f"SELECT {AUDIT_COLUMNS} FROM audit ORDER BY id DESC LIMIT ?", (limit,), ALL)  # noqa: S608
    return [audit_from_row(r) for r in rows]


def add_source_secret(source: str, secret: str, origin: str, now: float) -> Op[None]:
    """Idempotent: a secret already kept is left as it is (a missing value still raises)."""
    yield Q(
        "INSERT INTO source_secrets (source, secret, origin, created_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (source, secret, origin, now),
    )


def list_source_secrets() -> Op[dict[str, list[str]]]:
    secrets: dict[str, list[str]] = {}
    sql = "SELECT source, secret FROM source_secrets ORDER BY created_at, "
    for source, secret in (yield Q(sql + "rowid", (), ALL, pg=sql + "id")):
        secrets.setdefault(source, []).append(secret)
    return secrets


def delete_source_secrets(source: str) -> Op[int]:
    count: int = yield Q("DELETE FROM source_secrets WHERE source = ?", (source,), COUNT)
    return count


def add_admin_session(digest: str, expires_at: float, now: float) -> Op[None]:
    yield Q("DELETE FROM admin_sessions WHERE expires_at <= ?", (now,))
    yield Q(
        "INSERT INTO admin_sessions (digest, expires_at) VALUES (?, ?) "
        "ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at",
        (digest, expires_at),
    )


def admin_session_active(digest: str, now: float) -> Op[bool]:
    row = yield Q(
        "SELECT 1 FROM admin_sessions WHERE digest = ? AND expires_at > ?", (digest, now), ONE
    )
    return row is not None


def end_admin_sessions(digest: str | None) -> Op[int]:
    if digest is None:
        count: int = yield Q("DELETE FROM admin_sessions", (), COUNT)
    else:
        count = yield Q("DELETE FROM admin_sessions WHERE digest = ?", (digest,), COUNT)
    return count


def _scope(
    d: Dialect, column: str, before: float, source: str | None, exclude_sources: Sequence[str]
) -> Where:
    w = Where(d)
    w.add(f"{column}received_at < ?", before)
    if source is not None:
        w.add(f"{column}source = ?", source)
    if exclude_sources:
        w.any_of(f"{column}source", list(exclude_sources), negate=True)
    return w


def purge_expired(
    d: Dialect, before: float, source: str | None, exclude_sources: Sequence[str], limit: int
) -> Op[int]:
    """Up to ``limit`` expired events whose deliveries are all final, with their rows, and up
    to ``limit`` expired rejections of the same sources (inside the caller's transaction)."""
    w = _scope(d, "e.", before, source, exclude_sources)
    w.add(
        "NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id "  # noqa: S608
        f"AND d.status NOT IN ({_FINAL}))"
    )
    rows = yield locked(
        f"SELECT e.id FROM events e{w.sql()} LIMIT ?",  # noqa: S608
        (*w.params, limit),
        how="FOR UPDATE SKIP LOCKED",
    )
    ids = [r[0] for r in rows]
    if ids:  # lock their deliveries, then look again: a replay may have committed meanwhile
        events = Where(d)
        events.any_of("event_id", ids)
        yield locked(f"SELECT 1 FROM deliveries{events.sql()}", events.params)  # noqa: S608
        busy = yield Q(
            f"SELECT DISTINCT event_id FROM deliveries{events.sql()} "  # noqa: S608
            f"AND status NOT IN ({_FINAL})",
            events.params,
            ALL,
        )
        ids = sorted(set(ids) - {r[0] for r in busy})
    if ids:
        events = Where(d)
        events.any_of("event_id", ids)
        deliveries = f"(SELECT id FROM deliveries{events.sql()})"  # noqa: S608
        yield Q(f"DELETE FROM transitions WHERE delivery_id IN {deliveries}", events.params)  # noqa: S608
        yield Q(f"DELETE FROM attempts WHERE delivery_id IN {deliveries}", events.params)  # noqa: S608
        yield Q(f"DELETE FROM deliveries{events.sql()}", events.params)  # noqa: S608
        stored = Where(d)
        stored.any_of("id", ids)
        yield Q(f"DELETE FROM events{stored.sql()}", stored.params)  # noqa: S608
    w = _scope(d, "", before, source, exclude_sources)
    pick = f"SELECT id FROM rejections{w.sql()} LIMIT ?"  # noqa: S608
    purged: int = yield Q(
        f"DELETE FROM rejections WHERE id IN ({pick})",  # noqa: S608
        (*w.params, limit),
        COUNT,
        pg=f"DELETE FROM rejections WHERE id IN ({pick} FOR UPDATE SKIP LOCKED)",  # noqa: S608
    )
    return len(ids) + purged
