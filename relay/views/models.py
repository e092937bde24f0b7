"""The shapes the delivery-log views return (events, deliveries, targets, stats): the JSON
API's bodies, ``--json`` output of the CLI, and (through ``relay.admin.openapi``) the OpenAPI
document. Times are Unix seconds. The API's other answers are ``relay.views.answers``; the
CLI's own ``--json`` lines ``relay.views.cli_shapes``.

They are plain frozen dataclasses built from trusted store records (``relay.views.build``),
so reading the log needs no validation library: the CLI prints them without loading
pydantic. ``plain`` turns one into JSON-ready values, the one way the API answers and
``--json`` prints. pydantic reads the same classes for the OpenAPI schemas (a field's
``description`` sits in its metadata, ``extra: forbid`` in ``__pydantic_config__``), and the
tests validate answers against them. Request bodies, which must be validated, are
``relay.views.requests``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from relay.views._shape import View, doc, fields_of, plain

__all__ = [
    "Attempt",
    "Delivery",
    "DeliveryDetail",
    "DeliveryPage",
    "EventDetail",
    "EventPage",
    "EventSummary",
    "RouteBrief",
    "RouteStats",
    "SourceStats",
    "Stats",
    "Target",
    "Transition",
    "fields_of",
    "plain",
]

EventStatusName = Literal["routed", "unrouted", "unprocessable", "rejected"]
DeliveryStatusName = Literal[
    "pending",
    "in_flight",
    "retry_scheduled",
    "succeeded",
    "failed",
    "dead",
    "needs_review",
    "mapping_failed",
    "cancelled",
    "paused",
    "running",
    "timed_out",
    "stopped",
]


#: a page's cursor (``EventPage``, ``DeliveryPage``: pydantic reads no type parameter of a
#: generic stdlib dataclass, so each page names its items)
_NEXT_CURSOR = doc("pass as ?cursor= for the next (older) page; null on the last page")


@dataclass(frozen=True, kw_only=True)
class RouteBrief(View):
    route: str
    delivery_id: str
    status: DeliveryStatusName


@dataclass(frozen=True, kw_only=True)
class EventSummary(View):
    """An accepted event, or rejected requests (``kind: rejection``, ``status: rejected``,
    the reason code in ``error``, how many in ``count``; nothing of a rejected request's body
    or headers is kept)."""

    id: str
    kind: Literal["event", "rejection"]
    source: str
    status: EventStatusName
    received_at: float
    event_type: str | None = None
    provider_event_id: str | None = None
    error: str | None = field(
        default=None,
        metadata=doc(
            "why the event is unprocessable; why no route matched (a summary line, "
            "then the closest routes, one a line, each with what differed); a rejection's reason"
        ),
    )
    duplicates: int = field(
        default=0, metadata=doc("re-deliveries of this event, answered but dropped")
    )
    client_ip: str | None = None
    routes: list[RouteBrief] = field(default_factory=list)
    count: int = field(
        default=1,
        metadata=doc(
            "requests this entry stands for: a rejection counts every request of its "
            "source, reason and client refused within one minute (client '*': clients beyond "
            "relay's per-minute cap)"
        ),
    )
    last_received_at: float | None = field(
        default=None, metadata=doc("a rejection: when the last of its requests came")
    )
    samples: list[str] = field(
        default_factory=list, metadata=doc("a rejection: up to 3 distinct detail messages")
    )


@dataclass(frozen=True, kw_only=True)
class EventPage(View):
    """A page of the events list."""

    items: list[EventSummary]
    next_cursor: str | None = field(metadata=_NEXT_CURSOR)


@dataclass(frozen=True, kw_only=True)
class Transition(View):
    at: float
    from_status: DeliveryStatusName | None
    to_status: DeliveryStatusName
    reason: str | None
    actor: str


@dataclass(frozen=True, kw_only=True)
class Attempt(View):
    id: str
    number: int
    started_at: float
    finished_at: float | None
    duration_ms: float | None
    outcome: str | None = field(metadata=doc("null while the attempt is in flight"))
    status_code: int | None
    error: str | None
    function_run_id: str | None
    session_id: str | None
    run_status: str | None
    result: Any = field(default=None, metadata=doc("the function's result, secrets masked"))
    logs: list[str] = field(default_factory=list, metadata=doc("the function's log lines"))


@dataclass(frozen=True, kw_only=True)
class Delivery(View):
    id: str
    event_id: str
    route: str
    target: str
    function_id: str
    status: DeliveryStatusName
    attempts: int
    budget_used: int = field(metadata=doc("attempts counted toward max_attempts (not 429s)"))
    max_attempts: int
    next_attempt_at: float | None
    created_at: float
    updated_at: float
    last_error: str | None
    function_run_id: str | None
    run_status: str | None
    run_started_at: float | None = field(
        default=None, metadata=doc("when the run being followed started (running deliveries)")
    )
    stop_requested_by: str | None = field(
        default=None, metadata=doc("who asked relay to stop the run, until it is stopped")
    )
    replayable: bool
    cancellable: bool
    stoppable: bool = field(
        default=False, metadata=doc("running (or streaming with a known run id): Stop applies")
    )
    retryable_now: bool = field(
        metadata=doc("waiting (retry_scheduled or paused): POST .../retry sends it now")
    )
    replay_needs_confirm: bool = field(
        metadata=doc("succeeded: a replay runs the function again, so it needs confirm: true")
    )


@dataclass(frozen=True, kw_only=True)
class DeliveryPage(View):
    """A page of deliveries."""

    items: list[Delivery]
    next_cursor: str | None = field(metadata=_NEXT_CURSOR)


@dataclass(frozen=True, kw_only=True)
class DeliveryDetail(Delivery):
    variables: Any = field(default=None, metadata=doc("the variables sent to the function, masked"))
    attempt_log: list[Attempt] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class EventDetail(EventSummary):
    headers: dict[str, str] = field(default_factory=dict, metadata=doc("credentials masked"))
    query: dict[str, Any] = field(default_factory=dict)
    payload: str = field(
        default="", metadata=doc("the body for people: pretty JSON, secrets masked")
    )
    body_bytes: int = 0
    deliveries: list[DeliveryDetail] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Target(View):
    name: str
    configured: bool = field(metadata=doc("in the config in force (else only in the store)"))
    paused: bool
    paused_by: str | None
    paused_at: float | None
    breaker: Literal["closed", "open", "half_open"]
    breaker_until: float | None
    throttled_until: float | None
    in_flight: int
    max_concurrency: int | None
    queued: int


@dataclass(frozen=True, kw_only=True)
class SourceStats(View):
    source: str
    received: int
    routed: int
    unrouted: int
    unprocessable: int
    duplicates: int
    rejected: int


@dataclass(frozen=True, kw_only=True)
class RouteStats(View):
    route: str
    target: str
    deliveries: int
    by_status: dict[str, int]
    succeeded: int
    failed: int = field(metadata=doc("failed, dead and mapping_failed"))
    in_progress: int = field(metadata=doc("not finished yet"))
    success_rate: float | None = field(metadata=doc("succeeded / finished; null when none"))
    attempts: int
    mean_attempt_ms: float | None


@dataclass(frozen=True, kw_only=True)
class Stats(View):
    since: float
    until: float | None
    sources: list[SourceStats]
    routes: list[RouteStats]
