"""The moves of runs followed to their end, written once for both dialects
(relay/store/_sql.py): a created run noted before its start, the checks of running runs
(leased like attempts, without an attempt row of their own), and an operator's stop request.
The decisions are relay/store/runs.py's."""

from __future__ import annotations

import dataclasses

from relay.store._moves import TRANSITION_SQL, get, record_audit, transition_row
from relay.store._records import DELIVERY_COLUMNS, delivery_from_row, dump_json
from relay.store._sql import ALL, COUNT, Dialect, Notify, Op, Q
from relay.store.base import CheckResult, ClaimedDelivery, DeliveryRecord, DeliveryStatus
from relay.store.lifecycle import RUN_CREATED
from relay.store.runs import check_fields, stop_refusal

__all__ = ["claim_checks", "finish_check", "note_run_created", "request_stop"]

S = DeliveryStatus

_FINISH_CHECK = (
    "UPDATE deliveries SET status = ?, lease_owner = NULL, lease_expires_at = NULL, "
    "next_attempt_at = CASE WHEN ? = 1 THEN NULL WHEN stop_requested_by IS NOT NULL "
    "THEN CAST(? AS DOUBLE PRECISION) ELSE CAST(? AS DOUBLE PRECISION) END, "
    "updated_at = CASE WHEN ? = 1 THEN CAST(? AS DOUBLE PRECISION) ELSE updated_at END, "
    "last_error = coalesce(?, last_error), run_status = coalesce(?, run_status) "
    "WHERE id = ? AND status = 'running' AND lease_owner = ?"
)
_CHECK_ATTEMPT = (
    "UPDATE attempts SET run_status = coalesce(?, run_status), "
    "session_id = coalesce(?, session_id), result = coalesce(?, result), "
    "logs = coalesce(?, logs), error = coalesce(?, error) "
    "WHERE id = (SELECT id FROM attempts WHERE delivery_id = ? AND function_run_id = ? "
    "ORDER BY number DESC LIMIT 1)"
)

# PostgreSQL: both rows in one statement, atomic by itself (no BEGIN and COMMIT round trips).
_NOTE_PG = """
WITH d AS (
    UPDATE deliveries SET function_run_id = ?, run_status = ?
    WHERE id = ? AND status = 'in_flight' AND attempts = ? RETURNING id
)
UPDATE attempts SET function_run_id = ?, run_status = ? WHERE id = ? AND EXISTS (SELECT 1 FROM d)
"""
_NOTE_DELIVERY = (
    "UPDATE deliveries SET function_run_id = ?, run_status = ? "
    "WHERE id = ? AND status = 'in_flight' AND attempts = ?"
)
_NOTE_ATTEMPT = "UPDATE attempts SET function_run_id = ?, run_status = ? WHERE id = ?"
_CLAIM_CHECKS = (
    "UPDATE deliveries SET lease_owner = ?, lease_expires_at = ?, next_attempt_at = NULL "  # noqa: S608
    "WHERE id IN (SELECT id FROM deliveries WHERE target = ? AND status = 'running' "
    "AND next_attempt_at <= ? AND lease_owner IS NULL ORDER BY next_attempt_at, id "
    "LIMIT ?{lock}) "
    f"RETURNING {DELIVERY_COLUMNS}"
)


def note_run_created(d: Dialect, claimed: ClaimedDelivery, run_id: str) -> Op[bool]:
    """False when the lease was lost meanwhile (then nothing is noted)."""
    delivery = (run_id, RUN_CREATED, claimed.delivery.id, claimed.attempt_number)
    attempt = (run_id, RUN_CREATED, claimed.attempt_id)
    if d is Dialect.POSTGRES:
        noted: int = yield Q(_NOTE_PG, (*delivery, *attempt), COUNT)
        return bool(noted)
    moved: int = yield Q(_NOTE_DELIVERY, delivery, COUNT)
    if moved:
        yield Q(_NOTE_ATTEMPT, attempt)
    return bool(moved)


def claim_checks(
    target: str, limit: int, now: float, owner: str, lease: float
) -> Op[list[DeliveryRecord]]:
    """Two instances never check one run at once (PostgreSQL skips the rows others lock)."""
    params = (owner, now + lease, target, now, limit)
    rows = yield Q(
        _CLAIM_CHECKS.format(lock=""),
        params,
        ALL,
        pg=_CLAIM_CHECKS.format(lock=" FOR UPDATE SKIP LOCKED"),
    )
    return [delivery_from_row(r) for r in rows]


def finish_check(delivery: DeliveryRecord, owner: str, check: CheckResult) -> Op[bool]:
    fields = check_fields(check)
    final = int(fields.final)
    moved = yield Q(
        _FINISH_CHECK,
        (
            check.new_status.value,
            final,
            check.at,
            check.next_check_at,
            final,
            check.at,
            check.error,
            check.run_status,
            delivery.id,
            owner,
        ),
        COUNT,
    )
    if not moved:
        return False
    if fields.final:
        row = transition_row(
            delivery.id, check.at, S.RUNNING, check.new_status, fields.reason, check.actor
        )
        yield Q(TRANSITION_SQL, row)
    if fields.writes_attempt and delivery.function_run_id is not None:
        yield Q(
            _CHECK_ATTEMPT,
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


def request_stop(delivery_id: str, now: float, actor: str) -> Op[DeliveryRecord]:
    record = yield from get(delivery_id)
    refusal = stop_refusal(record)
    if refusal is not None:
        raise ValueError(refusal)
    due = now if record.status is S.RUNNING and record.next_attempt_at is not None else None
    yield Q(
        "UPDATE deliveries SET stop_requested_by = ?, "
        "next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ?",
        (actor, due, delivery_id),
    )
    detail = {"delivery_id": delivery_id, "run": record.function_run_id}
    yield from record_audit(now, actor, "stop", detail, 1)
    yield Notify([record.target])
    return dataclasses.replace(
        record,
        stop_requested_by=actor,
        next_attempt_at=due if due is not None else record.next_attempt_at,
    )
