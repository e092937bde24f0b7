"""The shapes the delivery-log views return: the JSON API's bodies, ``--json`` output of the
CLI, and (through ``relay.admin.openapi``) the OpenAPI document. Times are Unix seconds.

They are plain frozen dataclasses built from trusted store records (``relay.views.build``),
so reading the log needs no validation library: the CLI prints them without loading
pydantic. ``plain`` turns one into JSON-ready values, the one way the API answers and
``--json`` prints. pydantic reads the same classes for the OpenAPI schemas (a field's
``description`` sits in its metadata, ``extra: forbid`` in ``__pydantic_config__``), and the
tests validate answers against them. Request bodies, which must be validated, are
``relay.views.requests``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

__all__ = [
    "Attempt",
    "BulkReplayResult",
    "ConfigStatus",
    "Delivery",
    "DeliveryDetail",
    "DeliveryPage",
    "ErrorBody",
    "EventDetail",
    "EventPage",
    "EventSummary",
    "HandedSecrets",
    "ReloadResult",
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


def _doc(description: str) -> dict[str, str]:
    """A field's metadata: its description in the OpenAPI schema."""
    return {"description": description}


def plain(value: Any) -> Any:
    """A view (or a list or dict of them) as JSON-ready values: what the API answers and
    ``--json`` prints. Keys in field order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def fields_of(view: Any) -> dict[str, Any]:
    """A view's fields by name, values as they are (nested views stay views): to build a
    wider view from a narrower one, e.g. ``EventDetail(**fields_of(summary), ...)``."""
    return {f.name: getattr(view, f.name) for f in dataclasses.fields(view)}


@dataclass(frozen=True, kw_only=True)
class _View:
    #: read by pydantic (schemas, and the tests' validation): no keys beyond the fields
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}


@dataclass(frozen=True, kw_only=True)
class ErrorBody(_View):
    """Every error answer: a stable code and a sentence for people."""

    error: str = field(metadata=_doc("a stable code: bad_filter, bad_cursor, not_found, ..."))
    detail: str


@dataclass(frozen=True, kw_only=True)
class RouteBrief(_View):
    route: str
    delivery_id: str
    status: DeliveryStatusName


@dataclass(frozen=True, kw_only=True)
class EventSummary(_View):
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
        metadata=_doc(
            "why the event is unprocessable; why no route matched (a summary line, "
            "then the closest routes, one a line, each with what differed); a rejection's reason"
        ),
    )
    duplicates: int = field(
        default=0, metadata=_doc("re-deliveries of this event, answered but dropped")
    )
    client_ip: str | None = None
    routes: list[RouteBrief] = field(default_factory=list)
    count: int = field(
        default=1,
        metadata=_doc(
            "requests this entry stands for: a rejection counts every request of its "
            "source, reason and client refused within one minute (client '*': clients beyond "
            "relay's per-minute cap)"
        ),
    )
    last_received_at: float | None = field(
        default=None, metadata=_doc("a rejection: when the last of its requests came")
    )
    samples: list[str] = field(
        default_factory=list, metadata=_doc("a rejection: up to 3 distinct detail messages")
    )


@dataclass(frozen=True, kw_only=True)
class EventPage(_View):
    """A page of the events list."""

    items: list[EventSummary]
    next_cursor: str | None = field(
        metadata=_doc("pass as ?cursor= for the next (older) page; null on the last page")
    )


@dataclass(frozen=True, kw_only=True)
class Transition(_View):
    at: float
    from_status: DeliveryStatusName | None
    to_status: DeliveryStatusName
    reason: str | None
    actor: str


@dataclass(frozen=True, kw_only=True)
class Attempt(_View):
    id: str
    number: int
    started_at: float
    finished_at: float | None
    duration_ms: float | None
    outcome: str | None = field(metadata=_doc("null while the attempt is in flight"))
    status_code: int | None
    error: str | None
    function_run_id: str | None
    session_id: str | None
    run_status: str | None
    result: Any = field(default=None, metadata=_doc("the function's result, secrets masked"))
    logs: list[str] = field(default_factory=list, metadata=_doc("the function's log lines"))


@dataclass(frozen=True, kw_only=True)
class Delivery(_View):
    id: str
    event_id: str
    route: str
    target: str
    function_id: str
    status: DeliveryStatusName
    attempts: int
    budget_used: int = field(metadata=_doc("attempts counted toward max_attempts (not 429s)"))
    max_attempts: int
    next_attempt_at: float | None
    created_at: float
    updated_at: float
    last_error: str | None
    function_run_id: str | None
    run_status: str | None
    run_started_at: float | None = field(
        default=None, metadata=_doc("when the run being followed started (running deliveries)")
    )
    stop_requested_by: str | None = field(
        default=None, metadata=_doc("who asked relay to stop the run, until it is stopped")
    )
    replayable: bool
    cancellable: bool
    stoppable: bool = field(
        default=False, metadata=_doc("running (or streaming with a known run id): Stop applies")
    )
    retryable_now: bool = field(
        metadata=_doc("waiting (retry_scheduled or paused): POST .../retry sends it now")
    )
    replay_needs_confirm: bool = field(
        metadata=_doc("succeeded: a replay runs the function again, so it needs confirm: true")
    )


@dataclass(frozen=True, kw_only=True)
class DeliveryPage(_View):
    """A page of deliveries."""

    items: list[Delivery]
    next_cursor: str | None = field(
        metadata=_doc("pass as ?cursor= for the next (older) page; null on the last page")
    )


@dataclass(frozen=True, kw_only=True)
class DeliveryDetail(Delivery):
    variables: Any = field(
        default=None, metadata=_doc("the variables sent to the function, masked")
    )
    attempt_log: list[Attempt] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class EventDetail(EventSummary):
    headers: dict[str, str] = field(default_factory=dict, metadata=_doc("credentials masked"))
    query: dict[str, Any] = field(default_factory=dict)
    payload: str = field(
        default="", metadata=_doc("the body for people: pretty JSON, secrets masked")
    )
    body_bytes: int = 0
    deliveries: list[DeliveryDetail] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Target(_View):
    name: str
    configured: bool = field(metadata=_doc("in the config in force (else only in the store)"))
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
class ConfigStatus(_View):
    path: str
    sha256: str
    loaded_at: float
    last_error: str | None
    last_error_at: float | None
    sources: list[str]
    routes: int
    targets: list[str]


@dataclass(frozen=True, kw_only=True)
class SourceStats(_View):
    source: str
    received: int
    routed: int
    unrouted: int
    unprocessable: int
    duplicates: int
    rejected: int


@dataclass(frozen=True, kw_only=True)
class RouteStats(_View):
    route: str
    target: str
    deliveries: int
    by_status: dict[str, int]
    succeeded: int
    failed: int = field(metadata=_doc("failed, dead and mapping_failed"))
    in_progress: int = field(metadata=_doc("not finished yet"))
    success_rate: float | None = field(metadata=_doc("succeeded / finished; null when none"))
    attempts: int
    mean_attempt_ms: float | None


@dataclass(frozen=True, kw_only=True)
class Stats(_View):
    since: float
    until: float | None
    sources: list[SourceStats]
    routes: list[RouteStats]


@dataclass(frozen=True, kw_only=True)
class BulkReplayResult(_View):
    dry_run: bool
    count: int
    ids: list[str]
    actor: str


@dataclass(frozen=True, kw_only=True)
class ReloadResult(_View):
    ok: bool
    changed: bool
    trigger: str
    config_sha256: str
    loaded_at: float
    errors: list[str]
    duration_ms: float


@dataclass(frozen=True, kw_only=True)
class TailEvent(_View):
    """``relay tail``: an event came in."""

    kind: Literal["event"] = "event"
    at: float = field(metadata=_doc("when it was received"))
    id: str
    source: str
    event_type: str | None
    status: EventStatusName
    duplicates: int
    routes: list[str] = field(metadata=_doc("the routes it has deliveries for"))


@dataclass(frozen=True, kw_only=True)
class TailRejection(_View):
    """``relay tail``: requests refused (see ``EventSummary``'s rejections)."""

    kind: Literal["rejected"] = "rejected"
    at: float
    id: str
    source: str
    reason: str
    client_ip: str | None
    count: int


@dataclass(frozen=True, kw_only=True)
class TailAttempt(_View):
    """``relay tail``: an attempt started, or finished (with its outcome)."""

    kind: Literal["attempt"] = "attempt"
    at: float = field(metadata=_doc("when it started, or finished"))
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


@dataclass(frozen=True, kw_only=True)
class RouteCheck(_View):
    """``relay route``: one route of the source, on the event."""

    name: str
    matched: bool
    reason: str | None = field(
        metadata=_doc(
            "why not (the first failing condition and the value found), or why the "
            "delivery would fail (mapping_failed: ...); null when it would be sent"
        )
    )
    variables: Any = field(metadata=_doc("the variables it would send; null when it is not sent"))


@dataclass(frozen=True, kw_only=True)
class RouteDryRun(_View):
    """``relay route --json``: which routes an event takes, and why not."""

    source: str
    event_type: str | None
    event_id: str | None
    routes: list[RouteCheck]


@dataclass(frozen=True, kw_only=True)
class HandedSecrets(_View):
    """``relay secrets list --json``: a source's secrets handed over in a handshake, by
    fingerprint only."""

    source: str
    fingerprints: list[str] = field(metadata=_doc("sha256:<first 12 hex digits> of each"))
