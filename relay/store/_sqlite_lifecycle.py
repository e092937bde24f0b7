"""SQLite's hot paths, synchronous and precompiled on the writer thread: claim and finish
(the other moves are written once for both dialects: relay/store/_moves.py). Each function
runs inside one writer transaction and stores a transition row for every status it changes."""

from __future__ import annotations

import dataclasses
import sqlite3

from relay.ids import new_id
from relay.store._moves import TRANSITION_SQL, transition_row
from relay.store._records import DELIVERY_COLUMNS, delivery_from_row, dump_json
from relay.store._sql import values_sql
from relay.store.base import (
    CLAIMABLE,
    OCCUPYING,
    AttemptResult,
    ClaimedDelivery,
    DeliveryStatus,
)
from relay.store.lifecycle import RUN_CREATED, check_transition

__all__ = ["claim", "finish_attempt"]

S = DeliveryStatus
_CLAIMABLE_SQL = values_sql(CLAIMABLE)
_OCCUPYING_SQL = values_sql(OCCUPYING)


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
        why = f"attempt {number}"
        conn.execute(
            TRANSITION_SQL, transition_row(record.id, now, record.status, S.IN_FLIGHT, why, owner)
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
