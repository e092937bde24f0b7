"""A delivery's moves, written once for both dialects (relay/store/_sql.py): replay, cancel,
retry now, recovery of expired leases (the runs' moves: relay/store/_run_moves.py). Each
runs inside one transaction (the caller's) and stores a transition row for every status it
changes; what a move decides is relay/store/lifecycle.py's and relay/store/runs.py's.

Claim and finish, the hot paths, are each backend's own: relay/store/_sqlite_lifecycle.py
(precompiled, on the writer thread) and relay/store/_pg_lifecycle.py (one-statement CTEs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from relay.run_options import RunOptions
from relay.store._reads import query_deliveries
from relay.store._records import DELIVERY_COLUMNS, delivery_from_row, dump_json, load_json
from relay.store._sql import ALL, MANY, ONE, Dialect, Notify, Op, Q, Where, locked
from relay.store._sql import values_sql as _values
from relay.store.base import (
    CANCELLABLE,
    CLAIMABLE,
    REPLAYABLE,
    WAITING,
    DeliveryRecord,
    DeliveryStatus,
)
from relay.store.lifecycle import (
    RECOVER_ERROR,
    check_transition,
    filter_detail,
    recovered,
    replayed,
)
from relay.store.log_queries import DeliveryQuery

__all__ = [
    "TRANSITION_SQL",
    "cancel",
    "get",
    "record_audit",
    "recover_expired",
    "replay",
    "replay_matching",
    "retry_now",
]

S = DeliveryStatus
_GET = f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?"  # noqa: S608
TRANSITION_SQL = (
    "INSERT INTO transitions (delivery_id, at, from_status, to_status, reason, actor) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_AUDIT = "INSERT INTO audit (at, actor, action, detail, count) VALUES (?, ?, ?, ?, ?)"
_REPLAY = (
    "UPDATE deliveries SET status = ?, next_attempt_at = ?, max_attempts = ?, "
    "updated_at = ?, last_error = NULL, function_run_id = NULL, run_status = NULL, "
    "run_started_at = NULL, stop_requested_by = NULL WHERE id = ?"
)


def transition_row(
    delivery_id: str,
    at: float,
    from_status: DeliveryStatus | None,
    to_status: DeliveryStatus,
    reason: str | None,
    actor: str,
) -> tuple[str, float, str | None, str, str | None, str]:
    """``TRANSITION_SQL``'s values for a move; raises ``IllegalTransition`` for a move the
    state machine does not allow (relay/store/lifecycle.py)."""
    check_transition(from_status, to_status)
    from_value = None if from_status is None else from_status.value
    return (delivery_id, at, from_value, to_status.value, reason, actor)


def record_audit(at: float, actor: str, action: str, detail: Any, count: int) -> Op[None]:
    yield Q(_AUDIT, (at, actor, action, dump_json(detail), count))


def get(delivery_id: str) -> Op[DeliveryRecord]:
    """The delivery, locked for the transaction (PostgreSQL); ``KeyError`` when unknown."""
    row = yield locked(_GET, (delivery_id,), ONE)
    if row is None:
        raise KeyError(delivery_id)
    return delivery_from_row(row)


def _replay_one(record: DeliveryRecord, now: float, actor: str, reason: str) -> Op[DeliveryRecord]:
    if record.status not in REPLAYABLE:
        raise ValueError(f"delivery {record.id} is {record.status.value}")
    moved = replayed(record, now)
    yield Q(_REPLAY, (S.PENDING.value, now, moved.max_attempts, now, record.id))
    yield Q(TRANSITION_SQL, transition_row(record.id, now, record.status, S.PENDING, reason, actor))
    return moved


def replay(delivery_id: str, now: float, actor: str) -> Op[DeliveryRecord]:
    record = yield from get(delivery_id)
    moved = yield from _replay_one(record, now, actor, "replayed")
    yield from record_audit(now, actor, "replay", {"delivery_id": delivery_id}, 1)
    yield Notify([record.target])
    return moved


def replay_matching(d: Dialect, selection: DeliveryQuery, now: float, actor: str) -> Op[list[str]]:
    """Replay what ``selection`` finds among its statuses that may be replayed (a bulk move
    names what it moves: no status, nothing replayed)."""
    replayable = [s for s in selection.statuses if s in REPLAYABLE]
    records: list[DeliveryRecord] = []
    if replayable:
        chosen = dataclasses.replace(selection, statuses=replayable, recent_first=True)
        records = yield from query_deliveries(d, chosen, lock=True)
    for record in records:
        yield from _replay_one(record, now, actor, "bulk replay")
    yield from record_audit(now, actor, "dlq_replay", filter_detail(selection), len(records))
    yield Notify([r.target for r in records])
    return [r.id for r in records]


def cancel(delivery_id: str, now: float, actor: str, reason: str | None) -> Op[DeliveryRecord]:
    record = yield from get(delivery_id)
    if record.status not in CANCELLABLE:
        raise ValueError(f"delivery {delivery_id} is {record.status.value}")
    yield Q(
        "UPDATE deliveries SET status = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?",
        (S.CANCELLED.value, now, delivery_id),
    )
    why = reason or "cancelled"
    yield Q(
        TRANSITION_SQL, transition_row(delivery_id, now, record.status, S.CANCELLED, why, actor)
    )
    yield from record_audit(now, actor, "cancel", {"delivery_id": delivery_id, "reason": reason}, 1)
    return dataclasses.replace(record, status=S.CANCELLED, next_attempt_at=None, updated_at=now)


def retry_now(delivery_id: str, now: float, actor: str) -> Op[DeliveryRecord]:
    record = yield from get(delivery_id)
    if record.status not in WAITING:
        raise ValueError(f"delivery {delivery_id} is {record.status.value}, not waiting")
    pending = S.PENDING
    yield Q(
        "UPDATE deliveries SET status = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?",
        (pending.value, now, now, delivery_id),
    )
    why = "retry now"
    yield Q(TRANSITION_SQL, transition_row(delivery_id, now, record.status, pending, why, actor))
    yield from record_audit(now, actor, "retry_now", {"delivery_id": delivery_id}, 1)
    yield Notify([record.target])
    return dataclasses.replace(record, status=pending, next_attempt_at=now, updated_at=now)


def _dead_leases(
    d: Dialect, now: float, owner: str | None, owners: Sequence[str] | None
) -> tuple[str, list[Any]]:
    """Which leases are dead, as a condition on ``deliveries`` and its parameters."""
    if owners is not None:  # their holders are gone (relay/store/_pg_liveness.py)
        w = Where(d)
        w.any_of("lease_owner", list(owners))
        return w.clauses[0], w.params
    if owner is None:
        return "lease_expires_at < ?", [now]
    return "(lease_owner IS NULL OR lease_owner <> ?)", [owner]


def recover_expired(
    d: Dialect, now: float, owner: str | None, owners: Sequence[str] | None = None
) -> Op[list[str]]:
    """Which leases: expired ones; with ``owner``, every one not held by ``owner``; with
    ``owners``, every one they hold (gone: relay/store/_pg_liveness.py). Then one outcome for
    all of them (``lifecycle.recovered``), whatever chose them."""
    dead, held_by = _dead_leases(d, now, owner, owners)
    rows = yield locked(
        "SELECT id, idempotent, budget_used, max_attempts, target, function_run_id, "  # noqa: S608
        f"run_status, run_options FROM deliveries WHERE status = 'in_flight' AND {dead}",
        held_by,
        how="FOR UPDATE SKIP LOCKED",
    )
    moves: list[tuple[str, str, float | None, int, str, str]] = []
    for (
        delivery_id,
        idempotent,
        budget_used,
        max_attempts,
        target,
        run_id,
        run_status,
        opts,
    ) in rows:
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
        moves.append((delivery_id, status.value, due, budget, reason, target))
    if moves:
        yield Q(
            "UPDATE attempts SET finished_at = ?, outcome = 'ambiguous', error = ? "
            "WHERE delivery_id = ? AND finished_at IS NULL",
            [(now, RECOVER_ERROR, m[0]) for m in moves],
            MANY,
        )
        yield Q(
            "UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_owner = NULL, "
            "lease_expires_at = NULL, updated_at = ?, last_error = ?, budget_used = ?, "
            "run_started_at = CASE WHEN ? = 'running' THEN coalesce(run_started_at, ?) END "
            "WHERE id = ?",
            [(m[1], m[2], now, RECOVER_ERROR, m[3], m[1], now, m[0]) for m in moves],
            MANY,
        )
        yield Q(
            TRANSITION_SQL,
            [(m[0], now, S.IN_FLIGHT.value, m[1], m[4], "sweep") for m in moves],
            MANY,
        )
    # A run's check whose worker died: the run is looked at again now.
    checks = yield Q(
        "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL, "  # noqa: S608
        "next_attempt_at = coalesce(next_attempt_at, ?) WHERE status = 'running' "
        f"AND lease_owner IS NOT NULL AND {dead} RETURNING target",
        (now, *held_by),
        ALL,
    )
    # Defensive: a claimable delivery without a due time would never be claimed.
    repaired = yield Q(
        "UPDATE deliveries SET next_attempt_at = ? WHERE next_attempt_at IS NULL "  # noqa: S608
        f"AND lease_owner IS NULL AND status IN ({_values([*CLAIMABLE, S.RUNNING])}) "
        "RETURNING target",
        (now,),
        ALL,
    )
    requeued = [m[5] for m in moves if m[2] is not None]
    yield Notify([*requeued, *(r[0] for r in repaired), *(r[0] for r in checks)])
    return [m[0] for m in moves]
