"""SQL for a delivery's moves: claim, finish, recover, replay, cancel. Each function runs
inside one writer transaction and stores a transition row for every status it changes."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

from relay.ids import new_id
from relay.run_options import RunOptions
from relay.store._records import DELIVERY_COLUMNS, delivery_from_row, dump_json, load_json
from relay.store.base import (
    CANCELLABLE,
    CLAIMABLE,
    OCCUPYING,
    REPLAYABLE,
    AttemptResult,
    ClaimedDelivery,
    DeliveryFilter,
    DeliveryRecord,
    DeliveryStatus,
)
from relay.store.lifecycle import RECOVER_ERROR, RUN_CREATED, check_transition, recovered

__all__ = [
    "cancel",
    "claim",
    "filter_sql",
    "find",
    "finish_attempt",
    "record_audit",
    "record_transition",
    "recover_expired",
    "replay",
    "replay_matching",
]

S = DeliveryStatus
_CLAIMABLE_SQL = ", ".join(f"'{s.value}'" for s in CLAIMABLE)
_OCCUPYING_SQL = ", ".join(f"'{s.value}'" for s in OCCUPYING)


def record_transition(
    conn: sqlite3.Connection,
    delivery_id: str,
    at: float,
    from_status: DeliveryStatus | None,
    to_status: DeliveryStatus,
    reason: str | None,
    actor: str,
) -> None:
    check_transition(from_status, to_status)
    conn.execute(
        "INSERT INTO transitions (delivery_id, at, from_status, to_status, reason, actor) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            delivery_id,
            at,
            None if from_status is None else from_status.value,
            to_status.value,
            reason,
            actor,
        ),
    )


def record_audit(
    conn: sqlite3.Connection, at: float, actor: str, action: str, detail: Any, count: int
) -> None:
    conn.execute(
        "INSERT INTO audit (at, actor, action, detail, count) VALUES (?, ?, ?, ?, ?)",
        (at, actor, action, dump_json(detail), count),
    )


def _get(conn: sqlite3.Connection, delivery_id: str) -> DeliveryRecord | None:
    row = conn.execute(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?",  # noqa: S608
        (delivery_id,),
    ).fetchone()
    return None if row is None else delivery_from_row(row)


def claim(
    conn: sqlite3.Connection,
    target: str,
    limit: int,
    now: float,
    owner: str,
    lease: float,
    max_in_flight: int | None = None,
) -> list[ClaimedDelivery]:
    if max_in_flight is not None:  # the writer thread is the only writer: the count is exact
        (in_flight,) = conn.execute(
            f"SELECT count(*) FROM deliveries WHERE target = ? AND status IN ({_OCCUPYING_SQL})",  # noqa: S608
            (target,),
        ).fetchone()
        limit = min(limit, max_in_flight - int(in_flight))
        if limit <= 0:
            return []
    rows = conn.execute(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE target = ? "  # noqa: S608
        f"AND status IN ({_CLAIMABLE_SQL}) AND next_attempt_at <= ? "
        "ORDER BY next_attempt_at LIMIT ?",
        (target, now, limit),
    ).fetchall()
    claimed: list[ClaimedDelivery] = []
    for row in rows:
        record = delivery_from_row(row)
        number = record.attempts + 1
        attempt_id = new_id("att", now)
        # A new attempt starts a new run, unless a run it created is still to be started
        resumed = record.run_status == RUN_CREATED
        run_id = record.function_run_id if resumed else None
        run_status = record.run_status if resumed else None
        conn.execute(
            "UPDATE deliveries SET status = ?, attempts = ?, lease_owner = ?, "
            "lease_expires_at = ?, next_attempt_at = NULL, updated_at = ?, "
            "function_run_id = ?, run_status = ?, run_started_at = NULL, "
            "stop_requested_by = NULL WHERE id = ?",
            (S.IN_FLIGHT.value, number, owner, now + lease, now, run_id, run_status, record.id),
        )
        conn.execute(
            "INSERT INTO attempts (id, delivery_id, number, started_at) VALUES (?, ?, ?, ?)",
            (attempt_id, record.id, number, now),
        )
        record_transition(
            conn, record.id, now, record.status, S.IN_FLIGHT, f"attempt {number}", owner
        )
        updated = dataclasses.replace(
            record,
            status=S.IN_FLIGHT,
            attempts=number,
            next_attempt_at=None,
            updated_at=now,
            function_run_id=run_id,
            run_status=run_status,
            run_started_at=None,
            stop_requested_by=None,
        )
        claimed.append(ClaimedDelivery(updated, attempt_id, number))
    return claimed


def finish_attempt(
    conn: sqlite3.Connection, claimed: ClaimedDelivery, result: AttemptResult
) -> None:
    conn.execute(
        "UPDATE attempts SET finished_at = ?, duration_ms = ?, outcome = ?, "
        "status_code = ?, error = ?, function_run_id = ?, session_id = ?, "
        "run_status = ?, result = ?, logs = ? WHERE id = ?",
        (
            result.finished_at,
            result.duration_ms,
            result.outcome,
            result.status_code,
            result.error,
            result.function_run_id,
            result.session_id,
            result.run_status,
            None if result.result is None else dump_json(result.result),
            dump_json(list(result.logs)),
            claimed.attempt_id,
        ),
    )
    status, next_at = result.new_status, result.next_attempt_at
    check_transition(S.IN_FLIGHT, status)
    # The transition first, while the lease owner (its actor) is still on the row; none when
    # the lease was lost: recovered by the sweep (and maybe claimed again) meanwhile.
    moved = conn.execute(
        "INSERT INTO transitions (delivery_id, at, from_status, to_status, reason, actor) "
        "SELECT id, ?, ?, ?, ?, coalesce(?, lease_owner, 'worker') FROM deliveries "
        "WHERE id = ? AND status = ? AND attempts = ?",
        (
            result.finished_at,
            S.IN_FLIGHT.value,
            status.value,
            result.reason or result.error or result.outcome,
            result.actor,
            claimed.delivery.id,
            S.IN_FLIGHT.value,
            claimed.attempt_number,
        ),
    ).rowcount
    if not moved:
        return
    if status in (S.RETRY_SCHEDULED, S.PAUSED, S.PENDING, S.RUNNING):
        next_at = result.finished_at if next_at is None else next_at  # due needs a time
    else:
        next_at = None
    conn.execute(
        "UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_owner = NULL, "
        "lease_expires_at = NULL, updated_at = ?, last_error = ?, "
        "budget_used = budget_used + ?, "
        "function_run_id = coalesce(?, function_run_id), "
        "run_status = coalesce(?, run_status), "
        "run_started_at = coalesce(run_started_at, ?) WHERE id = ?",
        (
            status.value,
            next_at,
            result.finished_at,
            result.error,
            int(result.counts_toward_budget),
            result.function_run_id,
            result.run_status,
            result.run_started_at if status is S.RUNNING else None,
            claimed.delivery.id,
        ),
    )


def recover_expired(conn: sqlite3.Connection, now: float, owner: str | None) -> list[str]:
    select = (
        "SELECT id, idempotent, budget_used, max_attempts, function_run_id, run_status, "
        "run_options FROM deliveries WHERE status = ? "
    )
    if owner is None:
        rows = conn.execute(
            select + "AND lease_expires_at < ?", (S.IN_FLIGHT.value, now)
        ).fetchall()
    else:
        rows = conn.execute(
            select + "AND (lease_owner IS NULL OR lease_owner != ?)", (S.IN_FLIGHT.value, owner)
        ).fetchall()
    for delivery_id, idempotent, budget_used, max_attempts, run_id, run_status, opts in rows:
        conn.execute(
            "UPDATE attempts SET finished_at = ?, outcome = 'ambiguous', error = ? "
            "WHERE delivery_id = ? AND finished_at IS NULL",
            (now, RECOVER_ERROR, delivery_id),
        )
        budget = int(budget_used) + 1
        status, reason = recovered(
            function_run_id=run_id,
            run_status=run_status,
            idempotent=bool(idempotent),
            budget_used=budget,
            max_attempts=int(max_attempts),
            two_step=RunOptions.from_mapping(load_json(opts) or {}).two_step,
        )
        conn.execute(
            "UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_owner = NULL, "
            "lease_expires_at = NULL, updated_at = ?, last_error = ?, budget_used = ?, "
            "run_started_at = CASE WHEN ? THEN coalesce(run_started_at, ?) END "
            "WHERE id = ?",
            (
                status.value,
                now if status in (S.PENDING, S.RUNNING) else None,
                now,
                RECOVER_ERROR,
                budget,
                status is S.RUNNING,
                now,
                delivery_id,
            ),
        )
        record_transition(conn, delivery_id, now, S.IN_FLIGHT, status, reason, "sweep")
    # A run's check whose worker died: the run is looked at again now.
    running = "status = ? AND lease_owner IS NOT NULL AND "
    running += "lease_expires_at < ?" if owner is None else "lease_owner != ?"
    conn.execute(
        "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL, "  # noqa: S608
        f"next_attempt_at = coalesce(next_attempt_at, ?) WHERE {running}",
        (now, S.RUNNING.value, now if owner is None else owner),
    )
    # Defensive: a claimable delivery without a due time would never be claimed.
    conn.execute(
        f"UPDATE deliveries SET next_attempt_at = ? WHERE status IN ({_CLAIMABLE_SQL}, ?) "  # noqa: S608
        "AND next_attempt_at IS NULL AND lease_owner IS NULL",
        (now, S.RUNNING.value),
    )
    return [r[0] for r in rows]


def _replay_one(
    conn: sqlite3.Connection, record: DeliveryRecord, now: float, actor: str, reason: str
) -> DeliveryRecord:
    if record.status not in REPLAYABLE:
        raise ValueError(f"delivery {record.id} is {record.status.value}")
    budget = int(record.retry_policy.get("max_attempts", record.max_attempts))
    max_attempts = record.budget_used + budget
    conn.execute(
        "UPDATE deliveries SET status = ?, next_attempt_at = ?, max_attempts = ?, "
        "updated_at = ?, last_error = NULL, function_run_id = NULL, run_status = NULL, "
        "run_started_at = NULL, stop_requested_by = NULL WHERE id = ?",
        (S.PENDING.value, now, max_attempts, now, record.id),
    )
    record_transition(conn, record.id, now, record.status, S.PENDING, reason, actor)
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


def replay(conn: sqlite3.Connection, delivery_id: str, now: float, actor: str) -> DeliveryRecord:
    record = _get(conn, delivery_id)
    if record is None:
        raise KeyError(delivery_id)
    replayed = _replay_one(conn, record, now, actor, "replayed")
    record_audit(conn, now, actor, "replay", {"delivery_id": delivery_id}, 1)
    return replayed


def filter_sql(selection: DeliveryFilter) -> tuple[str, tuple[Any, ...]]:
    """WHERE clause and parameters for a ``DeliveryFilter`` (values always bound)."""
    statuses = [s.value for s in selection.statuses] or ["-"]
    clauses = [f"status IN ({', '.join('?' for _ in statuses)})"]
    params: list[Any] = list(statuses)
    if selection.route is not None:
        clauses.append("route = ?")
        params.append(selection.route)
    if selection.target is not None:
        clauses.append("target = ?")
        params.append(selection.target)
    if selection.since is not None:
        clauses.append("updated_at >= ?")
        params.append(selection.since)
    if selection.reason is not None:
        clauses.append("instr(lower(coalesce(last_error, '')), lower(?)) > 0")
        params.append(selection.reason)
    return " WHERE " + " AND ".join(clauses), tuple(params)


def find(conn: sqlite3.Connection, selection: DeliveryFilter) -> list[DeliveryRecord]:
    where, params = filter_sql(selection)
    sql = (
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries{where} "  # noqa: S608
        "ORDER BY updated_at DESC, id DESC LIMIT ?"
    )
    return [delivery_from_row(r) for r in conn.execute(sql, (*params, selection.limit))]


def replay_matching(
    conn: sqlite3.Connection, selection: DeliveryFilter, now: float, actor: str
) -> list[str]:
    replayable = [s for s in selection.statuses if s in REPLAYABLE]
    records = find(conn, dataclasses.replace(selection, statuses=replayable))
    for record in records:
        _replay_one(conn, record, now, actor, "bulk replay")
    detail = _filter_detail(selection)
    record_audit(conn, now, actor, "dlq_replay", detail, len(records))
    return [r.id for r in records]


def _filter_detail(selection: DeliveryFilter) -> dict[str, Any]:
    return {
        "statuses": [s.value for s in selection.statuses],
        "route": selection.route,
        "target": selection.target,
        "since": selection.since,
        "reason": selection.reason,
        "limit": selection.limit,
    }


def cancel(
    conn: sqlite3.Connection, delivery_id: str, now: float, actor: str, reason: str | None
) -> DeliveryRecord:
    record = _get(conn, delivery_id)
    if record is None:
        raise KeyError(delivery_id)
    if record.status not in CANCELLABLE:
        raise ValueError(f"delivery {delivery_id} is {record.status.value}")
    conn.execute(
        "UPDATE deliveries SET status = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?",
        (S.CANCELLED.value, now, delivery_id),
    )
    record_transition(
        conn, delivery_id, now, record.status, S.CANCELLED, reason or "cancelled", actor
    )
    record_audit(conn, now, actor, "cancel", {"delivery_id": delivery_id, "reason": reason}, 1)
    return dataclasses.replace(record, status=S.CANCELLED, next_attempt_at=None, updated_at=now)
