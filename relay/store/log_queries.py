"""What the delivery-log views ask of a store: rejected requests, and pages of events,
rejections, deliveries and attempts selected by filters, a cursor and a limit, and activity
counts over a time window. ``Store`` (relay/store/base.py) includes ``LogQueries``.

Pagination is by id: ids sort by creation time (``relay.ids.new_id``: a prefix, a hex
millisecond timestamp, random hex), compared as plain bytes (``COLLATE "C"`` in PostgreSQL).
Without ``after`` a query answers newest first, only ids below ``before`` when given (the
next page's cursor is the last id of a full page). With ``after`` it answers oldest first,
only ids above ``after`` (and below ``before`` when given): that is how ``relay tail`` follows
new rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from relay.store.base import AttemptRecord, DeliveryRecord, DeliveryStatus, EventRecord

__all__ = [
    "Activity",
    "AttemptQuery",
    "DeliveryQuery",
    "EventQuery",
    "LogQueries",
    "RejectionRecord",
    "RouteActivity",
    "SourceActivity",
]


@dataclass(frozen=True, slots=True)
class RejectionRecord:
    """Requests to ``/hooks/{source}`` refused with a 401 (signature or credential): who sent
    them and why they were refused. Never a body, nor the value of any header.

    One record stands for every request of one source, reason and client refused within one
    window (a minute, ``relay.http.hook_log``): ``count`` of them, the first at
    ``received_at``, the last at ``last_at``, with up to a few distinct ``samples`` of relay's
    own detail message (which header was missing, what did not match)."""

    id: str  # "rej_...", a relay.ids.new_id
    source: str
    received_at: float
    reason: str  # the verification reason code: missing_signature, signature_mismatch, ...
    client_ip: str | None = None  # "*": the window's clients beyond the per-minute cap
    count: int = 1
    last_at: float | None = None  # None: received_at
    samples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Selects events (``query_events``) or rejections (``query_rejections``); every field
    given must hold. Cursor fields and order: see the module docstring."""

    source: str | None = None
    statuses: Sequence[str] = ()  # EventStatus values; empty: any (events only)
    duplicated: bool = False  # only events re-delivered at least once (events only)
    route: str | None = None  # only events with a delivery for this route (events only)
    since: float | None = None  # received at or after
    until: float | None = None  # received before
    # Case-insensitive substring: of the id or the provider's event id (events), of the id or
    # the reason (rejections).
    text: str | None = None
    # Events only: a piece of the stored body (ASCII letters in any case; other characters
    # as sent). Rejections keep no body: a query with ``body`` finds none.
    body: str | None = None
    before: str | None = None
    after: str | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class DeliveryQuery:
    """Selects deliveries: the log views' pages, the dead-letter lists, bulk replay and the
    worker's stops to carry out (the store's one filter of deliveries); every field given
    must hold."""

    statuses: Sequence[DeliveryStatus] = ()  # empty: any (bulk replay: none)
    route: str | None = None
    target: str | None = None
    event_ids: Sequence[str] = ()  # empty: any event
    since: float | None = None  # updated at or after
    until: float | None = None  # updated before
    reason: str | None = None  # case-insensitive substring of last_error
    lease_owner: str | None = None  # leased to this owner (the worker's own deliveries)
    stop_requested: bool = False  # only those whose run's stop was asked for, not yet done
    before: str | None = None
    after: str | None = None
    limit: int = 100
    # Most recently updated first (the dead-letter lists, bulk replay): the id cursors
    # ``before`` and ``after`` do not apply.
    recent_first: bool = False


@dataclass(frozen=True, slots=True)
class AttemptQuery:
    """Selects attempts, across deliveries (``relay tail``) or of one delivery (its detail);
    every field given must hold."""

    delivery_id: str | None = None
    since: float | None = None  # started at or after
    before: str | None = None
    after: str | None = None
    limit: int = 100
    # Every attempt of ``delivery_id`` (required), in the order they were made (``number``):
    # ``limit`` and the id cursors do not apply.
    whole_delivery: bool = False


@dataclass(frozen=True, slots=True)
class SourceActivity:
    source: str
    events: Mapping[str, int]  # events received in the window, by EventStatus value
    duplicates: int  # re-deliveries counted on those events
    rejected: int  # rejections received in the window


@dataclass(frozen=True, slots=True)
class RouteActivity:
    route: str
    target: str
    deliveries: Mapping[str, int]  # deliveries created in the window, by status value now
    attempts: int  # finished attempts of those deliveries
    attempt_ms: float  # their summed duration_ms


@dataclass(frozen=True, slots=True)
class Activity:
    since: float
    until: float | None
    sources: Sequence[SourceActivity] = field(default_factory=tuple)  # by name
    routes: Sequence[RouteActivity] = field(default_factory=tuple)  # by name, then target


class LogQueries(Protocol):
    async def record_rejections(self, rejections: Sequence[RejectionRecord]) -> None:
        """Store rejection records, in one write: a record whose id is stored already
        replaces its ``count``, ``last_at`` and ``samples`` (a window counted further).
        Nothing is acknowledged on them, so a caller may drop them when the store is busy.
        ``purge_expired`` deletes rejections like events (same cut-off and sources, counted
        in its result). Raises ``StoreUnavailable``."""
        ...

    async def query_events(self, query: EventQuery) -> list[EventRecord]:
        """Events matching ``query`` (all of its fields), at most ``query.limit``."""
        ...

    async def query_rejections(self, query: EventQuery) -> list[RejectionRecord]:
        """Rejections matching ``query``: ``source``, ``since``, ``until``, ``text``,
        ``before``, ``after`` and ``limit`` apply; ``statuses``, ``duplicated`` and ``route``
        are the caller's business (the views ask for rejections only when they allow them)."""
        ...

    async def query_deliveries(self, query: DeliveryQuery) -> list[DeliveryRecord]:
        """Deliveries matching ``query``, ordered by id, or most recently updated first with
        ``query.recent_first``."""
        ...

    async def query_attempts(self, query: AttemptQuery) -> list[AttemptRecord]:
        """Attempts matching ``query`` (open ones too: finished_at None), ordered by id, or
        by number with ``query.whole_delivery``. Raises ``ValueError`` when
        ``whole_delivery`` names no delivery."""
        ...

    async def activity(self, since: float, until: float | None = None) -> Activity:
        """Counts over events received in ``[since, until)`` (no upper bound when ``until``
        is None): per source, events by status, the duplicates counted on them and the
        rejections received; per (route, target), the deliveries of those events by current
        status, and how many of their attempts finished with their summed duration."""
        ...
