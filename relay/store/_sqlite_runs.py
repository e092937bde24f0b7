"""SQL for runs followed to their end on SQLite: a created run noted before its start, the
checks of running runs (leased like attempts, without an attempt row of their own), and an
operator's stop request. Each function runs inside one writer transaction."""

from __future__ import annotations

import dataclasses
import sqlite3

from relay.store._records import DELIVERY_COLUMNS, delivery_from_row, dump_json
from relay.store._sqlite_lifecycle import record_audit, record_transition
from relay.store.base import CheckResult, ClaimedDelivery, DeliveryRecord, DeliveryStatus
from relay.store.lifecycle import RUN_CREATED
from relay.store.runs import check_fields, stop_refusal

__all__ = ["claim_checks", "finish_check", "note_run_created", "request_stop", "stop_requests"]

S = DeliveryStatus


def note_run_created(
    conn: sqlite3.Connection, claimed: ClaimedDelivery, run_id: str, now: float
) -> bool:
    moved = conn.execute(
        "UPDATE deliveries SET function_run_id = ?, run_status = ? "
        "WHERE id = ? AND status = ? AND attempts = ?",
        (run_id, RUN_CREATED, claimed.delivery.id, S.IN_FLIGHT.value, claimed.attempt_number),
    ).rowcount
    if moved:
        conn.execute(
            "UPDATE attempts SET function_run_id = ?, run_status = ? WHERE id = ?",
            (run_id, RUN_CREATED, claimed.attempt_id),
        )
    return bool(moved)


def claim_checks(
    conn: sqlite3.Connection, target: str, limit: int, now: float, owner: str, lease: float
) -> list[DeliveryRecord]:
    rows = conn.execute(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE target = ? AND status = ? "  # noqa: S608
        "AND next_attempt_at <= ? AND lease_owner IS NULL ORDER BY next_attempt_at LIMIT ?",
        (target, S.RUNNING.value, now, limit),
    ).fetchall()
    records = [delivery_from_row(r) for r in rows]
    conn.executemany(
        "UPDATE deliveries SET lease_owner = ?, lease_expires_at = ?, next_attempt_at = NULL "
        "WHERE id = ?",
        [(owner, now + lease, r.id) for r in records],
    )
    return [dataclasses.replace(r, next_attempt_at=None) for r in records]


def finish_check(
    conn: sqlite3.Connection, delivery: DeliveryRecord, owner: str, check: CheckResult
) -> bool:
    fields = check_fields(check)
    moved = conn.execute(
        "UPDATE deliveries SET status = ?, lease_owner = NULL, lease_expires_at = NULL, "
        "next_attempt_at = CASE WHEN ? THEN NULL WHEN stop_requested_by IS NOT NULL THEN ? "
        "ELSE ? END, "
        "updated_at = CASE WHEN ? THEN ? ELSE updated_at END, "
        "last_error = coalesce(?, last_error), run_status = coalesce(?, run_status) "
        "WHERE id = ? AND status = ? AND lease_owner = ?",
        (
            check.new_status.value,
            fields.final,
            check.at,
            check.next_check_at,
            fields.final,
            check.at,
            check.error,
            check.run_status,
            delivery.id,
            S.RUNNING.value,
            owner,
        ),
    ).rowcount
    if not moved:
        return False
    if fields.final:
        record_transition(
            conn, delivery.id, check.at, S.RUNNING, check.new_status, fields.reason, check.actor
        )
    if fields.writes_attempt and delivery.function_run_id is not None:
        conn.execute(
            "UPDATE attempts SET run_status = coalesce(?, run_status), "
            "session_id = coalesce(?, session_id), result = coalesce(?, result), "
            "logs = coalesce(?, logs), error = coalesce(?, error) "
            "WHERE id = (SELECT id FROM attempts WHERE delivery_id = ? AND function_run_id = ? "
            "ORDER BY number DESC LIMIT 1)",
            (
                check.run_status,
                check.session_id,
                None if check.result is None else dump_json(check.result),
                None if check.logs is None else dump_json(list(check.logs)),
                check.error,
                delivery.id,
                delivery.function_run_id,
            ),
        )
    return True


def request_stop(
    conn: sqlite3.Connection, delivery_id: str, now: float, actor: str
) -> DeliveryRecord:
    row = conn.execute(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?",  # noqa: S608
        (delivery_id,),
    ).fetchone()
    if row is None:
        raise KeyError(delivery_id)
    record = delivery_from_row(row)
    refusal = stop_refusal(record)
    if refusal is not None:
        raise ValueError(refusal)
    due = now if record.status is S.RUNNING and record.next_attempt_at is not None else None
    conn.execute(
        "UPDATE deliveries SET stop_requested_by = ?, "
        "next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ?",
        (actor, due, delivery_id),
    )
    record_audit(
        conn, now, actor, "stop", {"delivery_id": delivery_id, "run": record.function_run_id}, 1
    )
    return dataclasses.replace(
        record,
        stop_requested_by=actor,
        next_attempt_at=due if due is not None else record.next_attempt_at,
    )


def stop_requests(conn: sqlite3.Connection, owner: str) -> list[DeliveryRecord]:
    rows = conn.execute(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE status = ? "  # noqa: S608
        "AND lease_owner = ? AND stop_requested_by IS NOT NULL",
        (S.IN_FLIGHT.value, owner),
    ).fetchall()
    return [delivery_from_row(r) for r in rows]
