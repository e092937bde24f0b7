"""The storage Protocol and the records it keeps.

One event per accepted request (deduplicated on ``(source, dedupe_key)``); one delivery per
matched route; one attempt per request sent to a target. Implementations: SQLite (embedded
default), in-memory (tests), PostgreSQL (multi-instance).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

__all__ = [
    "AttemptRecord",
    "AttemptResult",
    "ClaimedDelivery",
    "DeliveryRecord",
    "DeliveryStatus",
    "EventRecord",
    "EventStatus",
    "InsertResult",
    "NewDelivery",
    "NewEvent",
    "Store",
    "StoreUnavailable",
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


#: Statuses a worker may claim when due.
CLAIMABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRY_SCHEDULED)
#: Statuses an operator may replay.
REPLAYABLE = (
    DeliveryStatus.DEAD,
    DeliveryStatus.FAILED,
    DeliveryStatus.NEEDS_REVIEW,
    DeliveryStatus.CANCELLED,
    DeliveryStatus.SUCCEEDED,
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


@dataclass(frozen=True, slots=True)
class InsertResult:
    event_id: str
    duplicate: bool


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


class Store(Protocol):
    async def open(self) -> None:
        """Create or migrate the schema and start background writers."""
        ...

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the store can answer a trivial query."""
        ...

    async def insert_event(self, event: NewEvent) -> InsertResult:
        """Store an event with its deliveries atomically, or report a duplicate.

        When ``event.dedupe_key`` is set and an event with the same ``(source, dedupe_key)``
        exists, nothing is inserted and the stored event's id is returned with
        ``duplicate=True``. Returns only after the write is durable. Raises
        ``StoreUnavailable`` when it cannot write.
        """
        ...

    async def claim(
        self, target: str, limit: int, now: float, owner: str, lease_seconds: float
    ) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due deliveries of ``target`` and open an attempt for each."""
        ...

    async def finish_attempt(self, claimed: ClaimedDelivery, result: AttemptResult) -> None:
        """Record an attempt's result and move its delivery to ``result.new_status``."""
        ...

    async def recover_expired(self, now: float, owner: str | None = None) -> list[str]:
        """Handle in-flight deliveries whose lease expired (or, with ``owner``, every lease
        not held by ``owner``): the open attempt is closed as ambiguous and the delivery goes
        to ``needs_review``, or back to ``pending`` when the route is idempotent. Returns the
        delivery ids handled."""
        ...

    async def next_due_at(self, target: str) -> float | None:
        """Earliest ``next_attempt_at`` among claimable deliveries of ``target``."""
        ...

    async def replay(self, delivery_id: str, now: float) -> DeliveryRecord:
        """Re-queue a finished delivery with a fresh attempt budget. Raises ``KeyError`` when
        unknown, ``ValueError`` when its status cannot be replayed."""
        ...

    async def get_event(self, event_id: str) -> EventRecord | None: ...

    async def get_delivery(self, delivery_id: str) -> DeliveryRecord | None: ...

    async def list_events(
        self, *, source: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[EventRecord]: ...

    async def list_deliveries(
        self,
        *,
        status: str | None = None,
        route: str | None = None,
        event_id: str | None = None,
        limit: int = 100,
    ) -> list[DeliveryRecord]: ...

    async def list_attempts(self, delivery_id: str) -> list[AttemptRecord]: ...
