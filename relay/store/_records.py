"""Row <-> record conversions shared by the SQL stores."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from relay._json import dumps
from relay._utf8 import utf8_text
from relay.store.base import (
    AttemptRecord,
    AuditRecord,
    DeliveryRecord,
    DeliveryStatus,
    EventRecord,
    EventStatus,
    TargetState,
    TransitionRecord,
)
from relay.store.log_queries import RejectionRecord

__all__ = [
    "ATTEMPT_COLUMNS",
    "AUDIT_COLUMNS",
    "DELIVERY_COLUMNS",
    "EVENT_COLUMNS",
    "REJECTION_COLUMNS",
    "TARGET_STATE_COLUMNS",
    "TRANSITION_COLUMNS",
    "attempt_from_row",
    "audit_from_row",
    "delivery_from_row",
    "dump_json",
    "event_from_row",
    "load_json",
    "rejection_from_row",
    "rejection_row",
    "target_state_from_row",
    "transition_from_row",
]

EVENT_COLUMNS = (
    "id, source, provider_event_id, event_type, received_at, status, error, body, headers, "
    "query, duplicates, client_ip"
)
DELIVERY_COLUMNS = (
    "id, event_id, route, target, function_id, variables, stream, status, attempts, "
    "max_attempts, retry_policy, idempotent, next_attempt_at, created_at, updated_at, "
    "last_error, function_run_id, run_status, budget_used, run_started_at, stop_requested_by, "
    "run_options, traceparent"
)
ATTEMPT_COLUMNS = (
    "id, delivery_id, number, started_at, finished_at, duration_ms, outcome, status_code, "
    "error, function_run_id, session_id, run_status, result, logs"
)
TRANSITION_COLUMNS = "delivery_id, at, from_status, to_status, reason, actor"
TARGET_STATE_COLUMNS = (
    "target, paused, paused_by, paused_at, breaker, breaker_until, throttled_until, "
    "max_concurrency, updated_at"
)
AUDIT_COLUMNS = "at, actor, action, detail, count"
REJECTION_COLUMNS = "id, source, received_at, reason, client_ip, count, last_at, samples"


def dump_json(value: Any) -> str:
    return dumps(value)


def load_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def event_from_row(row: Sequence[Any]) -> EventRecord:
    headers: Mapping[str, str] = load_json(row[8]) or {}
    query: Mapping[str, str] = load_json(row[9]) or {}
    return EventRecord(
        id=row[0],
        source=row[1],
        provider_event_id=row[2],
        event_type=row[3],
        received_at=float(row[4]),
        status=EventStatus(row[5]),
        error=row[6],
        body=bytes(row[7]),
        headers=headers,
        query=query,
        duplicates=int(row[10]),
        client_ip=row[11],
    )


def delivery_from_row(row: Sequence[Any]) -> DeliveryRecord:
    return DeliveryRecord(
        id=row[0],
        event_id=row[1],
        route=row[2],
        target=row[3],
        function_id=row[4],
        variables=load_json(row[5]),
        stream=bool(row[6]),
        status=DeliveryStatus(row[7]),
        attempts=int(row[8]),
        max_attempts=int(row[9]),
        retry_policy=load_json(row[10]) or {},
        idempotent=bool(row[11]),
        next_attempt_at=None if row[12] is None else float(row[12]),
        created_at=float(row[13]),
        updated_at=float(row[14]),
        last_error=row[15],
        function_run_id=row[16],
        run_status=row[17],
        budget_used=int(row[18]),
        run_started_at=_float(row[19]),
        stop_requested_by=row[20],
        run_options=load_json(row[21]) or {},
        traceparent=row[22],
    )


def attempt_from_row(row: Sequence[Any]) -> AttemptRecord:
    return AttemptRecord(
        id=row[0],
        delivery_id=row[1],
        number=int(row[2]),
        started_at=float(row[3]),
        finished_at=None if row[4] is None else float(row[4]),
        duration_ms=None if row[5] is None else float(row[5]),
        outcome=row[6],
        status_code=row[7],
        error=row[8],
        function_run_id=row[9],
        session_id=row[10],
        run_status=row[11],
        result=load_json(row[12]),
        logs=tuple(load_json(row[13]) or ()),
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def transition_from_row(row: Sequence[Any]) -> TransitionRecord:
    return TransitionRecord(
        delivery_id=row[0],
        at=float(row[1]),
        from_status=None if row[2] is None else DeliveryStatus(row[2]),
        to_status=DeliveryStatus(row[3]),
        reason=row[4],
        actor=row[5],
    )


def target_state_from_row(row: Sequence[Any]) -> TargetState:
    return TargetState(
        target=row[0],
        paused=bool(row[1]),
        paused_by=row[2],
        paused_at=_float(row[3]),
        breaker=row[4],
        breaker_until=_float(row[5]),
        throttled_until=_float(row[6]),
        max_concurrency=None if row[7] is None else int(row[7]),
        updated_at=_float(row[8]),
    )


def audit_from_row(row: Sequence[Any]) -> AuditRecord:
    detail: Mapping[str, Any] = load_json(row[3]) or {}
    return AuditRecord(
        at=float(row[0]), actor=row[1], action=row[2], detail=detail, count=int(row[4])
    )


def rejection_row(r: RejectionRecord) -> tuple[Any, ...]:
    """The values of ``REJECTION_COLUMNS`` for ``r`` (text as UTF-8 can carry it)."""
    samples = dump_json([utf8_text(x) for x in r.samples]) if r.samples else None
    return (
        r.id,
        r.source,
        r.received_at,
        utf8_text(r.reason),
        r.client_ip,
        r.count,
        r.last_at,
        samples,
    )


def rejection_from_row(row: Sequence[Any]) -> RejectionRecord:
    samples = load_json(row[7]) or ()
    return RejectionRecord(
        id=row[0],
        source=row[1],
        received_at=float(row[2]),
        reason=row[3],
        client_ip=row[4],
        count=int(row[5]),
        last_at=_float(row[6]),
        samples=tuple(str(x) for x in samples),
    )
