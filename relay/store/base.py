"""The storage Protocol and the records it keeps.

One event per accepted request (deduplicated on ``(source, dedupe_key)``); one delivery per
matched route; one attempt per request sent to a target. Implementations: SQLite (embedded
default), in-memory (tests), PostgreSQL (multi-instance).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from relay.ratelimit import RateLimit
from relay.store.log_queries import DeliveryQuery, LogQueries

__all__ = [
    "AttemptRecord",
    "AttemptResult",
    "AuditRecord",
    "CheckResult",
    "ClaimedDelivery",
    "DeliveryRecord",
    "DeliveryStatus",
    "EventRecord",
    "EventStatus",
    "InsertResult",
    "NewDelivery",
    "NewEvent",
    "NotifiesNewWork",
    "Store",
    "StoreUnavailable",
    "TargetOverview",
    "TargetState",
    "TransitionRecord",
]


class StoreUnavailable(Exception):
    """The store cannot take writes right now; the caller must not acknowledge."""


class EventStatus(StrEnum):
    ROUTED = "routed"
    UNROUTED = "unrouted"
    UNPROCESSABLE = "unprocessable"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    RETRY_SCHEDULED = "retry_scheduled"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD = "dead"
    NEEDS_REVIEW = "needs_review"
    MAPPING_FAILED = "mapping_failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"  # waits on its target (429 pause), not on its own backoff
    RUNNING = "running"  # the Notte run started and is followed until it ends
    TIMED_OUT = "timed_out"  # the run ran past its run_timeout: relay stopped it
    STOPPED = "stopped"  # an operator stopped the run


#: Statuses a worker may claim when due.
CLAIMABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRY_SCHEDULED, DeliveryStatus.PAUSED)
#: Statuses an operator may cancel.
CANCELLABLE = (
    DeliveryStatus.PENDING,
    DeliveryStatus.RETRY_SCHEDULED,
    DeliveryStatus.PAUSED,
    DeliveryStatus.NEEDS_REVIEW,
)
#: Statuses nothing moves out of without an operator (retention may purge these).
FINAL = (
    DeliveryStatus.SUCCEEDED,
    DeliveryStatus.FAILED,
    DeliveryStatus.DEAD,
    DeliveryStatus.CANCELLED,
    DeliveryStatus.MAPPING_FAILED,
    DeliveryStatus.TIMED_OUT,
    DeliveryStatus.STOPPED,
)
#: Statuses that hold one of the target's run slots (``max_concurrency``): the run start's
#: HTTP exchange, or a run that started and is still going on the target.
OCCUPYING = (DeliveryStatus.IN_FLIGHT, DeliveryStatus.RUNNING)
#: Statuses an operator may replay.
#: Waiting on a backoff or a target's 429 pause: "retry now" sends these at once.
WAITING = (DeliveryStatus.RETRY_SCHEDULED, DeliveryStatus.PAUSED)
REPLAYABLE = (
    DeliveryStatus.DEAD,
    DeliveryStatus.FAILED,
    DeliveryStatus.NEEDS_REVIEW,
    DeliveryStatus.CANCELLED,
    DeliveryStatus.SUCCEEDED,
    DeliveryStatus.TIMED_OUT,
    DeliveryStatus.STOPPED,
)


@dataclass(frozen=True, slots=True)
class NewDelivery:
    id: str
    route: str
    target: str
    function_id: str
    variables: Mapping[str, Any] | None
    stream: bool
    max_attempts: int
    retry_policy: Mapping[str, Any]
    idempotent: bool = False
    status: DeliveryStatus = DeliveryStatus.PENDING
    error: str | None = None
    # The route's dedupe: no delivery is stored when one of the same route with this key was
    # created within ``dedupe_window`` seconds (the route is reported in ``deduped_routes``).
    dedupe_key: str | None = None
    dedupe_window: float = 0.0
    run_options: Mapping[str, Any] | None = None  # the route's, when not the defaults


@dataclass(frozen=True, slots=True)
class NewEvent:
    id: str
    source: str
    dedupe_key: str | None
    provider_event_id: str | None
    event_type: str | None
    received_at: float
    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str]
    status: EventStatus
    error: str | None = None
    deliveries: Sequence[NewDelivery] = field(default_factory=tuple)
    client_ip: str | None = None
    # the W3C traceparent of the request's relay.receive span (relay/tracing.py), stored with
    # each delivery so that its attempts continue that trace; None: tracing off
    traceparent: str | None = None


@dataclass(frozen=True, slots=True)
class InsertResult:
    event_id: str
    duplicate: bool
    deduped_routes: tuple[str, ...] = ()  # routes whose delivery the route's dedupe skipped
    # A re-delivery of a stored provider event id with a different body: the first body is
    # kept, the conflict counted, nothing forwarded (``duplicate`` is true too).
    conflict: bool = False


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: str
    source: str
    provider_event_id: str | None
    event_type: str | None
    received_at: float
    status: EventStatus
    error: str | None
    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str]
    duplicates: int
    client_ip: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: str
    event_id: str
    route: str
    target: str
    function_id: str
    variables: Mapping[str, Any] | None
    stream: bool
    status: DeliveryStatus
    attempts: int
    max_attempts: int
    retry_policy: Mapping[str, Any]
    idempotent: bool
    next_attempt_at: float | None
    created_at: float
    updated_at: float
    last_error: str | None
    function_run_id: str | None
    run_status: str | None
    budget_used: int = 0  # attempts counted toward max_attempts (429s are not)
    run_started_at: float | None = None  # when the run being followed was started
    stop_requested_by: str | None = None  # who asked to stop the run (not done yet)
    # how the run is started and followed (relay/delivery/run_options.py); {}: the defaults
    run_options: Mapping[str, Any] = field(default_factory=dict)
    traceparent: str | None = None  # the receive span's W3C context (NULL: not traced)


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery leased to a worker, with the attempt row already opened for it."""

    delivery: DeliveryRecord
    attempt_id: str
    attempt_number: int


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one attempt produced, and what the delivery becomes because of it."""

    finished_at: float
    duration_ms: float
    outcome: str
    new_status: DeliveryStatus
    next_attempt_at: float | None = None
    status_code: int | None = None
    error: str | None = None
    function_run_id: str | None = None
    session_id: str | None = None
    run_status: str | None = None
    result: Any = None
    logs: Sequence[str] = ()
    counts_toward_budget: bool = True  # False for a 429 or an attempt released unsent
    reason: str | None = None  # why the delivery moved, for its transition (default: error)
    run_started_at: float | None = None  # RUNNING: when the run was started (kept if set)
    actor: str | None = None  # who made the move (default: the lease owner)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one look at a running run found (``GET runs/{run_id}``, or a stop), and what the
    delivery becomes: still ``RUNNING`` (next look at ``next_check_at``) or a final status.
    The run's status, result and logs are written on the attempt that started the run."""

    at: float
    new_status: DeliveryStatus
    next_check_at: float | None = None
    run_status: str | None = None
    session_id: str | None = None
    result: Any = None
    logs: Sequence[str] | None = None  # None: keep the attempt's logs
    error: str | None = None
    reason: str | None = None
    actor: str = "worker"


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    id: str
    delivery_id: str
    number: int
    started_at: float
    finished_at: float | None
    duration_ms: float | None
    outcome: str | None
    status_code: int | None
    error: str | None
    function_run_id: str | None
    session_id: str | None
    run_status: str | None
    result: Any
    logs: Sequence[str]


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """One move of a delivery's status, with why and by whom."""

    delivery_id: str
    at: float
    from_status: DeliveryStatus | None
    to_status: DeliveryStatus
    reason: str | None
    actor: str


@dataclass(frozen=True, slots=True)
class TargetState:
    """What the store knows about a target: the operator's pause and the worker's view."""

    target: str
    paused: bool = False
    paused_by: str | None = None
    paused_at: float | None = None
    breaker: str = "closed"
    breaker_until: float | None = None
    throttled_until: float | None = None
    max_concurrency: int | None = None
    updated_at: float | None = None


@dataclass(frozen=True, slots=True)
class TargetOverview:
    state: TargetState
    in_flight: int
    queued: int  # pending, retry_scheduled or paused


@dataclass(frozen=True, slots=True)
class AuditRecord:
    at: float
    actor: str
    action: str
    detail: Mapping[str, Any]
    count: int


@runtime_checkable
class NotifiesNewWork(Protocol):
    """A store shared by several instances tells each of them when any stored new work."""

    def on_new_work(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(target)`` (on the event loop) whenever an instance stored or
        re-queued deliveries of ``target``; set before ``open``."""
        ...


class Store(LogQueries, Protocol):
    """Also the delivery-log queries: see ``LogQueries`` (relay/store/log_queries.py)."""

    async def open(self) -> None:
        """Create or migrate the schema and start background writers."""
        ...

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the store can answer a trivial query."""
        ...

    async def probe_write(self, now: float) -> None:
        """Commit a one-row write (``/readyz`` asks while writes fail, to tell when they work
        again). Raises ``StoreUnavailable`` (or the database's error) when it cannot."""
        ...

    async def insert_event(self, event: NewEvent) -> InsertResult:
        """Store an event with its deliveries atomically, or report a duplicate.

        When ``event.dedupe_key`` is set and an event with the same ``(source, dedupe_key)``
        exists, nothing is inserted and the stored event's id is returned with
        ``duplicate=True``. A delivery with a ``dedupe_key`` is skipped when one of the same
        route with that key was created within its ``dedupe_window`` (checked in the same
        transaction); its route is listed in ``deduped_routes``. Returns only after the write
        is durable. Raises ``StoreUnavailable`` when it cannot write.
        """
        ...

    async def claim(
        self,
        target: str,
        limit: int,
        now: float,
        owner: str,
        lease_seconds: float,
        *,
        max_in_flight: int | None = None,
        rate: RateLimit | None = None,
    ) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due deliveries of ``target`` and open an attempt for each.

        With ``max_in_flight``, never leave more than that many deliveries of ``target`` in
        flight in the whole store, whoever holds them (the limit across instances). With
        ``rate``, a store shared by several instances keeps one token bucket per target for
        all of them (a store only one instance uses may leave it to that instance's worker)."""
        ...

    async def finish_attempt(self, claimed: ClaimedDelivery, result: AttemptResult) -> None:
        """Record an attempt's result and move its delivery to ``result.new_status``."""
        ...

    async def note_run_created(self, claimed: ClaimedDelivery, run_id: str, now: float) -> bool:
        """A two-step start created run ``run_id`` for ``claimed``: store it on the delivery
        (``run_status`` "created") and its attempt, durably, before the start is sent. False
        when the lease was lost meanwhile (then nothing is started)."""
        ...

    async def claim_checks(
        self, target: str, limit: int, now: float, owner: str, lease_seconds: float
    ) -> list[DeliveryRecord]:
        """Lease up to ``limit`` ``running`` deliveries of ``target`` whose next look at the
        run is due (no attempt row; the status stays ``running``)."""
        ...

    async def finish_check(self, delivery: DeliveryRecord, owner: str, check: CheckResult) -> bool:
        """Record a look at a running run: still running (next look at
        ``check.next_check_at``, sooner when a stop was asked for) or a final status with its
        transition; the run's status, result and logs go on the attempt that started it.
        False when ``owner`` no longer holds the check's lease."""
        ...

    async def request_stop(self, delivery_id: str, now: float, *, actor: str) -> DeliveryRecord:
        """Ask for the run of a ``running`` delivery (or of an ``in_flight`` one whose run id
        is known) to be stopped through the API, audited; the worker does it. Raises
        ``KeyError`` when unknown, ``ValueError`` (with the reason) when it cannot be."""
        ...

    async def recover_expired(self, now: float, owner: str | None = None) -> list[str]:
        """Handle in-flight deliveries whose lease expired (or, with ``owner``, every lease
        not held by ``owner``): the open attempt is closed as ambiguous and the delivery
        becomes what ``relay.store.lifecycle.recovered`` says (``running`` when its run id is
        known, ``needs_review`` or ``pending`` otherwise). Checks of running runs whose lease
        expired are due again. Returns the in-flight delivery ids handled."""
        ...

    async def recover_dead(self, now: float, owner: str) -> list[str]:
        """Handle, like expired leases, the in-flight deliveries of lease owners known to be
        gone before their leases expire: on a store several instances share, an owner whose
        liveness token was released (its session to the database ended). ``owner`` (the
        caller) is never judged gone. A store only one instance uses has no other owner to
        judge (SQLite): nothing. Returns the delivery ids handled."""
        ...

    async def next_due_at(self, target: str) -> float | None:
        """Earliest ``next_attempt_at`` among claimable deliveries of ``target``."""
        ...

    async def replay(
        self, delivery_id: str, now: float, *, actor: str = "operator"
    ) -> DeliveryRecord:
        """Re-queue a finished delivery with a fresh attempt budget. Raises ``KeyError`` when
        unknown, ``ValueError`` when its status cannot be replayed."""
        ...

    async def replay_matching(
        self, selection: DeliveryQuery, now: float, *, actor: str
    ) -> list[str]:
        """Replay every replayable delivery ``selection`` finds (most recently updated first,
        among the statuses it names: none named, none replayed), in one transaction, with an
        audit entry; returns their ids."""
        ...

    async def retry_now(self, delivery_id: str, now: float, *, actor: str) -> DeliveryRecord:
        """Make a waiting delivery (``WAITING``) due now, keeping its attempt budget: it
        goes back to ``pending``, with a transition and an audit entry naming ``actor``.
        Raises ``KeyError`` when unknown, ``ValueError`` when it is not waiting."""
        ...

    async def cancel(
        self, delivery_id: str, now: float, *, actor: str, reason: str | None = None
    ) -> DeliveryRecord:
        """Cancel a delivery that has not run to an end. Raises ``KeyError`` when unknown,
        ``ValueError`` when its status cannot be cancelled."""
        ...

    async def list_transitions(self, delivery_id: str) -> list[TransitionRecord]: ...

    async def set_target_paused(
        self, target: str, paused: bool, now: float, *, actor: str
    ) -> TargetState:
        """The operator's pause (or resume) of a target, audited."""
        ...

    async def save_target_health(self, state: TargetState) -> None:
        """The worker's view of a target (breaker, 429 pause, limit); keeps the pause."""
        ...

    async def list_target_states(self) -> list[TargetState]: ...

    async def target_overview(self) -> list[TargetOverview]:
        """Every known target (a state row or a delivery) with in-flight and queued counts."""
        ...

    async def list_audit(self, limit: int = 100) -> list[AuditRecord]: ...

    async def add_source_secret(self, source: str, secret: str, origin: str, now: float) -> None:
        """Keep a secret a provider handed over in its handshake (idempotent)."""
        ...

    async def list_source_secrets(self) -> dict[str, list[str]]:
        """Handed-over secrets by source, oldest first."""
        ...

    async def add_admin_session(self, digest: str, expires_at: float, now: float) -> None:
        """Keep a logged-in admin session (the SHA-256 of its id) until ``expires_at``;
        sessions already expired at ``now`` are dropped."""
        ...

    async def admin_session_active(self, digest: str, now: float) -> bool:
        """Whether that session was started, has not ended and has not expired."""
        ...

    async def end_admin_sessions(self, digest: str | None = None) -> int:
        """End one session (logout), or every session with None (log out everywhere)."""
        ...

    async def delete_source_secrets(self, source: str) -> int:
        """Forget a source's handed-over secrets (to accept a new handshake); the count."""
        ...

    async def purge_expired(
        self,
        before: float,
        *,
        source: str | None = None,
        exclude_sources: Sequence[str] = (),
        limit: int = 500,
    ) -> int:
        """Delete up to ``limit`` events received before ``before`` (of ``source``, or of any
        source not in ``exclude_sources``) whose deliveries are all final, with their
        deliveries, attempts and transitions, in one transaction, and up to ``limit``
        rejections received before ``before`` of the same sources; returns the events and
        rejections deleted."""
        ...

    async def get_event(self, event_id: str) -> EventRecord | None: ...

    async def get_delivery(self, delivery_id: str) -> DeliveryRecord | None: ...
