"""The shapes the delivery-log views return: the JSON API's bodies, ``--json`` output of the
CLI, and (through ``relay.admin.openapi``) the OpenAPI document. Times are Unix seconds."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Attempt",
    "BulkReplayRequest",
    "BulkReplayResult",
    "CancelRequest",
    "ConfigStatus",
    "Delivery",
    "DeliveryDetail",
    "DeliveryPage",
    "ErrorBody",
    "EventDetail",
    "EventPage",
    "EventSummary",
    "HandedSecrets",
    "Page",
    "ReloadResult",
    "ReplayRequest",
    "RouteBrief",
    "RouteCheck",
    "RouteDryRun",
    "RouteStats",
    "SourceStats",
    "Stats",
    "TailAttempt",
    "TailEvent",
    "TailLine",
    "TailRejection",
    "Target",
    "Transition",
]

T = TypeVar("T")

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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorBody(_Model):
    """Every error answer: a stable code and a sentence for people."""

    error: str = Field(description="a stable code: bad_filter, bad_cursor, not_found, ...")
    detail: str


class Page(_Model, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next (older) page; null on the last page"
    )


class RouteBrief(_Model):
    route: str
    delivery_id: str
    status: DeliveryStatusName


class EventSummary(_Model):
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
    error: str | None = Field(
        default=None,
        description="why the event is unprocessable; why no route matched (a summary line, "
        "then the closest routes, one a line, each with what differed); a rejection's reason",
    )
    duplicates: int = Field(
        default=0, description="re-deliveries of this event, answered but dropped"
    )
    client_ip: str | None = None
    routes: list[RouteBrief] = Field(default_factory=list)
    count: int = Field(
        default=1,
        description="requests this entry stands for: a rejection counts every request of its "
        "source, reason and client refused within one minute (client '*': clients beyond "
        "relay's per-minute cap)",
    )
    last_received_at: float | None = Field(
        default=None, description="a rejection: when the last of its requests came"
    )
    samples: list[str] = Field(
        default_factory=list, description="a rejection: up to 3 distinct detail messages"
    )


class EventPage(Page[EventSummary]):
    """A page of the events list."""


class Transition(_Model):
    at: float
    from_status: DeliveryStatusName | None
    to_status: DeliveryStatusName
    reason: str | None
    actor: str


class Attempt(_Model):
    id: str
    number: int
    started_at: float
    finished_at: float | None
    duration_ms: float | None
    outcome: str | None = Field(description="null while the attempt is in flight")
    status_code: int | None
    error: str | None
    function_run_id: str | None
    session_id: str | None
    run_status: str | None
    result: Any = Field(default=None, description="the function's result, secrets masked")
    logs: list[str] = Field(default_factory=list, description="the function's log lines")


class Delivery(_Model):
    id: str
    event_id: str
    route: str
    target: str
    function_id: str
    status: DeliveryStatusName
    attempts: int
    budget_used: int = Field(description="attempts counted toward max_attempts (not 429s)")
    max_attempts: int
    next_attempt_at: float | None
    created_at: float
    updated_at: float
    last_error: str | None
    function_run_id: str | None
    run_status: str | None
    run_started_at: float | None = Field(
        default=None, description="when the run being followed started (running deliveries)"
    )
    stop_requested_by: str | None = Field(
        default=None, description="who asked relay to stop the run, until it is stopped"
    )
    replayable: bool
    cancellable: bool
    stoppable: bool = Field(
        default=False, description="running (or streaming with a known run id): Stop applies"
    )
    retryable_now: bool = Field(
        description="waiting (retry_scheduled or paused): POST .../retry sends it now"
    )
    replay_needs_confirm: bool = Field(
        description="succeeded: a replay runs the function again, so it needs confirm: true"
    )


class DeliveryPage(Page[Delivery]):
    """A page of deliveries."""


class DeliveryDetail(Delivery):
    variables: Any = Field(default=None, description="the variables sent to the function, masked")
    attempt_log: list[Attempt] = Field(default_factory=list)
    transitions: list[Transition] = Field(default_factory=list)


class EventDetail(EventSummary):
    headers: dict[str, str] = Field(default_factory=dict, description="credentials masked")
    query: dict[str, Any] = Field(default_factory=dict)
    payload: str = Field(default="", description="the body for people: pretty JSON, secrets masked")
    body_bytes: int = 0
    deliveries: list[DeliveryDetail] = Field(default_factory=list)


class Target(_Model):
    name: str
    configured: bool = Field(description="in the config in force (else only in the store)")
    paused: bool
    paused_by: str | None
    paused_at: float | None
    breaker: Literal["closed", "open", "half_open"]
    breaker_until: float | None
    throttled_until: float | None
    in_flight: int
    max_concurrency: int | None
    queued: int


class ConfigStatus(_Model):
    path: str
    sha256: str
    loaded_at: float
    last_error: str | None
    last_error_at: float | None
    sources: list[str]
    routes: int
    targets: list[str]


class SourceStats(_Model):
    source: str
    received: int
    routed: int
    unrouted: int
    unprocessable: int
    duplicates: int
    rejected: int


class RouteStats(_Model):
    route: str
    target: str
    deliveries: int
    by_status: dict[str, int]
    succeeded: int
    failed: int = Field(description="failed, dead and mapping_failed")
    in_progress: int = Field(description="not finished yet")
    success_rate: float | None = Field(description="succeeded / finished; null when none")
    attempts: int
    mean_attempt_ms: float | None


class Stats(_Model):
    since: float
    until: float | None
    sources: list[SourceStats]
    routes: list[RouteStats]


DeadLetterStatus = Literal["dead", "failed", "needs_review"]


def _dead_only() -> list[DeadLetterStatus]:
    return ["dead"]


class BulkReplayRequest(_Model):
    """Which deliveries to re-queue: every filter given must hold; ``all: true`` is needed
    when none is given (a guard against replaying everything by mistake)."""

    status: list[DeadLetterStatus] = Field(default_factory=_dead_only)
    route: str | None = None
    target: str | None = None
    since: str | None = Field(default=None, description="updated within, e.g. 1h, or Unix seconds")
    reason: str | None = Field(default=None, description="a piece of the last error")
    all: bool = False
    dry_run: bool = False
    limit: int = Field(default=1000, ge=1, le=10000)


class BulkReplayResult(_Model):
    dry_run: bool
    count: int
    ids: list[str]
    actor: str


class ReplayRequest(_Model):
    """A succeeded delivery's replay runs its function again (side effects and all): it
    needs ``confirm: true`` (or ``?confirm=true``); other replays need nothing."""

    confirm: bool = False


class CancelRequest(_Model):
    reason: str | None = Field(default=None, max_length=500)


class ReloadResult(_Model):
    ok: bool
    changed: bool
    trigger: str
    config_sha256: str
    loaded_at: float
    errors: list[str]
    duration_ms: float


class TailEvent(_Model):
    """``relay tail``: an event came in."""

    kind: Literal["event"] = "event"
    at: float = Field(description="when it was received")
    id: str
    source: str
    event_type: str | None
    status: EventStatusName
    duplicates: int
    routes: list[str] = Field(description="the routes it has deliveries for")


class TailRejection(_Model):
    """``relay tail``: requests refused (see ``EventSummary``'s rejections)."""

    kind: Literal["rejected"] = "rejected"
    at: float
    id: str
    source: str
    reason: str
    client_ip: str | None
    count: int


class TailAttempt(_Model):
    """``relay tail``: an attempt started, or finished (with its outcome)."""

    kind: Literal["attempt"] = "attempt"
    at: float = Field(description="when it started, or finished")
    state: Literal["started", "finished"]
    delivery_id: str
    number: int
    route: str
    target: str
    outcome: str | None = None
    status_code: int | None = None
    duration_ms: float | None = None
    function_run_id: str | None = None
    run_status: str | None = None
    error: str | None = None


#: One line of ``relay tail --json``.
TailLine = TailEvent | TailRejection | TailAttempt


class RouteCheck(_Model):
    """``relay route``: one route of the source, on the event."""

    name: str
    matched: bool
    reason: str | None = Field(
        description="why not (the first failing condition and the value found), or why the "
        "delivery would fail (mapping_failed: ...); null when it would be sent"
    )
    variables: Any = Field(description="the variables it would send; null when it is not sent")


class RouteDryRun(_Model):
    """``relay route --json``: which routes an event takes, and why not."""

    source: str
    event_type: str | None
    event_id: str | None
    routes: list[RouteCheck]


class HandedSecrets(_Model):
    """``relay secrets list --json``: a source's secrets handed over in a handshake, by
    fingerprint only."""

    source: str
    fingerprints: list[str] = Field(description="sha256:<first 12 hex digits> of each")
