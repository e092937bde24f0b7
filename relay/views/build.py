"""Records to view models, every shown value through a ``Redactor``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from relay.redact import Redactor
from relay.store.base import (
    CANCELLABLE,
    REPLAYABLE,
    WAITING,
    AttemptRecord,
    DeliveryRecord,
    DeliveryStatus,
    EventRecord,
    TargetOverview,
    TransitionRecord,
)
from relay.store.log_queries import Activity, RejectionRecord
from relay.store.runs import stop_refusal
from relay.views.models import (
    Attempt,
    Delivery,
    DeliveryDetail,
    EventDetail,
    EventSummary,
    RouteBrief,
    RouteStats,
    SourceStats,
    Stats,
    Target,
    Transition,
    fields_of,
)

__all__ = [
    "attempt",
    "delivery",
    "delivery_detail",
    "event_detail",
    "event_summary",
    "rejection_summary",
    "stats",
    "target",
]

_FAILED = ("failed", "dead", "mapping_failed")
_DONE = ("succeeded", *_FAILED, "cancelled")


def _opt(r: Redactor, value: str | None) -> str | None:
    return None if value is None else r.text(value)


def event_summary(
    r: Redactor, e: EventRecord, deliveries: Sequence[DeliveryRecord]
) -> EventSummary:
    return EventSummary(
        id=e.id,
        kind="event",
        source=e.source,
        status=e.status.value,
        received_at=e.received_at,
        event_type=_opt(r, e.event_type),
        provider_event_id=_opt(r, e.provider_event_id),
        error=_opt(r, e.error),
        duplicates=e.duplicates,
        client_ip=e.client_ip,
        routes=[
            RouteBrief(route=d.route, delivery_id=d.id, status=d.status.value) for d in deliveries
        ],
    )


def rejection_summary(rejection: RejectionRecord) -> EventSummary:
    return EventSummary(
        id=rejection.id,
        kind="rejection",
        source=rejection.source,
        status="rejected",
        received_at=rejection.received_at,
        error=rejection.reason,
        client_ip=rejection.client_ip,
        count=rejection.count,
        last_received_at=rejection.last_at,
        samples=list(rejection.samples),
    )


def _delivery_fields(r: Redactor, d: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": d.id,
        "event_id": d.event_id,
        "route": d.route,
        "target": d.target,
        "function_id": d.function_id,
        "status": d.status.value,
        "attempts": d.attempts,
        "budget_used": d.budget_used,
        "max_attempts": d.max_attempts,
        "next_attempt_at": d.next_attempt_at,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "last_error": _opt(r, d.last_error),
        "function_run_id": d.function_run_id,
        "run_status": d.run_status,
        "run_started_at": d.run_started_at,
        "stop_requested_by": None if d.stop_requested_by is None else r.text(d.stop_requested_by),
        "replayable": d.status in REPLAYABLE,
        "cancellable": d.status in CANCELLABLE,
        "stoppable": stop_refusal(d) is None and d.stop_requested_by is None,
        "retryable_now": d.status in WAITING,
        "replay_needs_confirm": d.status is DeliveryStatus.SUCCEEDED,
    }


def delivery(r: Redactor, d: DeliveryRecord) -> Delivery:
    return Delivery(**_delivery_fields(r, d))


def attempt(r: Redactor, a: AttemptRecord) -> Attempt:
    return Attempt(
        id=a.id,
        number=a.number,
        started_at=a.started_at,
        finished_at=a.finished_at,
        duration_ms=a.duration_ms,
        outcome=a.outcome,
        status_code=a.status_code,
        error=_opt(r, a.error),
        function_run_id=a.function_run_id,
        session_id=a.session_id,
        run_status=a.run_status,
        result=r.value(a.result),
        logs=[r.text(line) for line in a.logs],
    )


def delivery_detail(
    r: Redactor,
    d: DeliveryRecord,
    attempts: Sequence[AttemptRecord],
    transitions: Sequence[TransitionRecord],
) -> DeliveryDetail:
    return DeliveryDetail(
        **_delivery_fields(r, d),
        variables=r.value(None if d.variables is None else dict(d.variables)),
        attempt_log=[attempt(r, a) for a in attempts],
        transitions=[
            Transition(
                at=t.at,
                from_status=None if t.from_status is None else t.from_status.value,
                to_status=t.to_status.value,
                reason=_opt(r, t.reason),
                actor=r.text(t.actor),
            )
            for t in transitions
        ],
    )


def event_detail(r: Redactor, e: EventRecord, deliveries: Sequence[DeliveryDetail]) -> EventDetail:
    summary = event_summary(r, e, ())
    content_type = next((v for k, v in e.headers.items() if k.lower() == "content-type"), "")
    return EventDetail(
        **{
            **fields_of(summary),
            "routes": [
                RouteBrief(route=d.route, delivery_id=d.id, status=d.status) for d in deliveries
            ],
        },
        headers=r.headers(e.headers),
        query=r.value(dict(e.query)),
        payload=r.body(e.body, content_type),
        body_bytes=len(e.body),
        deliveries=list(deliveries),
    )


def target(t: TargetOverview, configured: Mapping[str, int]) -> Target:
    s = t.state
    breaker = s.breaker if s.breaker in ("closed", "open", "half_open") else "closed"
    return Target(
        name=s.target,
        configured=s.target in configured,
        paused=s.paused,
        paused_by=s.paused_by,
        paused_at=s.paused_at,
        breaker=breaker,  # type: ignore[arg-type]
        breaker_until=s.breaker_until,
        throttled_until=s.throttled_until,
        in_flight=t.in_flight,
        max_concurrency=configured.get(s.target, s.max_concurrency),
        queued=t.queued,
    )


def stats(activity: Activity) -> Stats:
    sources = [
        SourceStats(
            source=s.source,
            received=sum(s.events.values()),
            routed=s.events.get("routed", 0),
            unrouted=s.events.get("unrouted", 0),
            unprocessable=s.events.get("unprocessable", 0),
            duplicates=s.duplicates,
            rejected=s.rejected,
        )
        for s in activity.sources
    ]
    routes = []
    for a in activity.routes:
        succeeded = a.deliveries.get("succeeded", 0)
        failed = sum(a.deliveries.get(s, 0) for s in _FAILED)
        total = sum(a.deliveries.values())
        finished = succeeded + failed
        routes.append(
            RouteStats(
                route=a.route,
                target=a.target,
                deliveries=total,
                by_status=dict(a.deliveries),
                succeeded=succeeded,
                failed=failed,
                in_progress=total - sum(a.deliveries.get(s, 0) for s in _DONE),
                success_rate=None if finished == 0 else round(succeeded / finished, 4),
                attempts=a.attempts,
                mean_attempt_ms=None if a.attempts == 0 else round(a.attempt_ms / a.attempts, 1),
            )
        )
    return Stats(since=activity.since, until=activity.until, sources=sources, routes=routes)
