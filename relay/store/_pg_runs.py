"""SQL for runs followed to their end on PostgreSQL: the same moves as
relay/store/_sqlite_runs.py (the decisions are relay/store/runs.py's), with PostgreSQL's
placeholders and ``FOR UPDATE SKIP LOCKED`` so that two instances never check one run at
once."""

from __future__ import annotations

import dataclasses

from relay.store._pg_lifecycle import get, notify, record_audit, record_transition
from relay.store._pg_sql import Conn, clean
from relay.store._records import DELIVERY_COLUMNS, delivery_from_row, dump_json
from relay.store.base import CheckResult, ClaimedDelivery, DeliveryRecord, DeliveryStatus
from relay.store.lifecycle import RUN_CREATED
from relay.store.runs import check_fields, stop_refusal

__all__ = ["claim_checks", "finish_check", "note_run_created", "request_stop", "stop_requests"]

S = DeliveryStatus
_D_COLUMNS = ", ".join(f"d.{c.strip()}" for c in DELIVERY_COLUMNS.split(","))

_NOTE = """
WITH d AS (
    UPDATE deliveries SET function_run_id = $1, run_status = $2
    WHERE id = $3 AND status = 'in_flight' AND attempts = $4 RETURNING id
)
UPDATE attempts SET function_run_id = $1, run_status = $2 WHERE id = $5 AND EXISTS (SELECT 1 FROM d)
"""

_CLAIM_CHECKS = f"""
UPDATE deliveries d SET lease_owner = $4, lease_expires_at = $5, next_attempt_at = NULL
FROM (
    SELECT id FROM deliveries
    WHERE target = $1 AND status = 'running' AND next_attempt_at <= $2 AND lease_owner IS NULL
    ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED
) p WHERE d.id = p.id
RETURNING {_D_COLUMNS}
"""  # noqa: S608 (fixed column names)

_FINISH_CHECK = """
UPDATE deliveries SET status = $1, lease_owner = NULL, lease_expires_at = NULL,
    next_attempt_at = CASE WHEN $2::bool THEN NULL
        WHEN stop_requested_by IS NOT NULL THEN $3::float8 ELSE $4::float8 END,
    updated_at = CASE WHEN $2::bool THEN $3::float8 ELSE updated_at END,
    last_error = coalesce($5, last_error), run_status = coalesce($6, run_status)
WHERE id = $7 AND status = 'running' AND lease_owner = $8
"""

_CHECK_ATTEMPT = """
UPDATE attempts SET run_status = coalesce($1, run_status), session_id = coalesce($2, session_id),
    result = coalesce($3, result), logs = coalesce($4, logs), error = coalesce($5, error)
WHERE id = (SELECT id FROM attempts WHERE delivery_id = $6 AND function_run_id = $7
            ORDER BY number DESC LIMIT 1)
"""


async def note_run_created(conn: Conn, claimed: ClaimedDelivery, run_id: str) -> bool:
    status = await conn.execute(
        _NOTE,
        clean(run_id),
        RUN_CREATED,
        claimed.delivery.id,
        claimed.attempt_number,
        claimed.attempt_id,
    )
    return str(status).endswith(" 1")


async def claim_checks(
    conn: Conn, target: str, limit: int, now: float, owner: str, lease: float
) -> list[DeliveryRecord]:
    rows = await conn.fetch(_CLAIM_CHECKS, target, now, limit, owner, now + lease)
    return [delivery_from_row(tuple(r)) for r in rows]


async def finish_check(
    conn: Conn, delivery: DeliveryRecord, owner: str, check: CheckResult
) -> bool:
    """Runs inside the caller's transaction."""
    fields = check_fields(check)
    status = await conn.execute(
        _FINISH_CHECK,
        check.new_status.value,
        fields.final,
        check.at,
        check.next_check_at,
        clean(check.error),
        clean(check.run_status),
        delivery.id,
        owner,
    )
    if not str(status).endswith(" 1"):
        return False
    if fields.final:
        await record_transition(
            conn, delivery.id, check.at, S.RUNNING, check.new_status, fields.reason, check.actor
        )
    if fields.writes_attempt and delivery.function_run_id is not None:
        await conn.execute(
            _CHECK_ATTEMPT,
            clean(check.run_status),
            clean(check.session_id),
            None if check.result is None else dump_json(check.result),
            None if check.logs is None else dump_json(list(check.logs)),
            clean(check.error),
            delivery.id,
            delivery.function_run_id,
        )
    return True


async def request_stop(
    conn: Conn, delivery_id: str, now: float, actor: str, channel: str
) -> DeliveryRecord:
    """Runs inside the caller's transaction."""
    record = await get(conn, delivery_id, lock=True)
    if record is None:
        raise KeyError(delivery_id)
    refusal = stop_refusal(record)
    if refusal is not None:
        raise ValueError(refusal)
    due = now if record.status is S.RUNNING and record.next_attempt_at is not None else None
    await conn.execute(
        "UPDATE deliveries SET stop_requested_by = $1, "
        "next_attempt_at = coalesce($2, next_attempt_at) WHERE id = $3",
        actor,
        due,
        delivery_id,
    )
    await record_audit(
        conn, now, actor, "stop", {"delivery_id": delivery_id, "run": record.function_run_id}, 1
    )
    await notify(conn, channel, [record.target])
    return dataclasses.replace(
        record,
        stop_requested_by=actor,
        next_attempt_at=due if due is not None else record.next_attempt_at,
    )


async def stop_requests(conn: Conn, owner: str) -> list[DeliveryRecord]:
    rows = await conn.fetch(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE status = 'in_flight' "  # noqa: S608
        "AND lease_owner = $1 AND stop_requested_by IS NOT NULL",
        owner,
    )
    return [delivery_from_row(tuple(r)) for r in rows]
