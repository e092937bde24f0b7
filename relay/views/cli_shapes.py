"""The CLI's own ``--json`` shapes, beside the log views it prints (``relay.views.models``):
``relay tail``'s lines, ``relay route``'s dry run, ``relay secrets list``'s fingerprints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from relay.views._shape import View, doc
from relay.views.models import EventStatusName

__all__ = [
    "HandedSecrets",
    "RouteCheck",
    "RouteDryRun",
    "TailAttempt",
    "TailEvent",
    "TailLine",
    "TailRejection",
]


@dataclass(frozen=True, kw_only=True)
class TailEvent(View):
    """``relay tail``: an event came in."""

    kind: Literal["event"] = "event"
    at: float = field(metadata=doc("when it was received"))
    id: str
    source: str
    event_type: str | None
    status: EventStatusName
    duplicates: int
    routes: list[str] = field(metadata=doc("the routes it has deliveries for"))


@dataclass(frozen=True, kw_only=True)
class TailRejection(View):
    """``relay tail``: requests refused (see ``EventSummary``'s rejections)."""

    kind: Literal["rejected"] = "rejected"
    at: float
    id: str
    source: str
    reason: str
    client_ip: str | None
    count: int


@dataclass(frozen=True, kw_only=True)
class TailAttempt(View):
    """``relay tail``: an attempt started, or finished (with its outcome)."""

    kind: Literal["attempt"] = "attempt"
    at: float = field(metadata=doc("when it started, or finished"))
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
class RouteCheck(View):
    """``relay route``: one route of the source, on the event."""

    name: str
    matched: bool
    reason: str | None = field(
        metadata=doc(
            "why not (the first failing condition and the value found), or why the "
            "delivery would fail (mapping_failed: ...); null when it would be sent"
        )
    )
    variables: Any = field(metadata=doc("the variables it would send; null when it is not sent"))


@dataclass(frozen=True, kw_only=True)
class RouteDryRun(View):
    """``relay route --json``: which routes an event takes, and why not."""

    source: str
    event_type: str | None
    event_id: str | None
    routes: list[RouteCheck]


@dataclass(frozen=True, kw_only=True)
class HandedSecrets(View):
    """``relay secrets list --json``: a source's secrets handed over in a handshake, by
    fingerprint only."""

    source: str
    fingerprints: list[str] = field(metadata=doc("sha256:<first 12 hex digits> of each"))
