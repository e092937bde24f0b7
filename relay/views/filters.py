"""Parsing what people and scripts filter by: times, statuses, cursors, limits. Shared by the
CLI and the JSON API; every refusal is a ``FilterError`` with a stable code."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from relay.durations import parse_duration
from relay.store.base import DeliveryStatus

__all__ = [
    "DELIVERY_STATUSES",
    "EVENT_STATUSES",
    "MAX_LIMIT",
    "EventFilter",
    "FilterError",
    "parse_cursor",
    "parse_delivery_statuses",
    "parse_event_status",
    "parse_limit",
    "parse_time",
]

EVENT_STATUSES = ("routed", "unrouted", "unprocessable", "duplicate", "rejected")
DELIVERY_STATUSES = tuple(s.value for s in DeliveryStatus)
MAX_LIMIT = 500
_ID = re.compile(r"(evt|rej|dlv|att)_[0-9a-f]{28}")
_UNIX_FROM = 1e9  # a bare number at least this large is a Unix time, else an age in seconds


class FilterError(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class EventFilter:
    """The events list's filters (``status`` is one of ``EVENT_STATUSES``)."""

    source: str | None = None
    status: str | None = None
    route: str | None = None
    since: float | None = None
    until: float | None = None
    text: str | None = None
    body: str | None = None  # a piece of the payload


def parse_time(value: str | None, now: float, name: str = "since") -> float | None:
    """An age (``90s``, ``1h``, ``2d``: that long before ``now``), a Unix time (seconds, at
    least 1e9) or an ISO 8601 date-time (UTC unless it says otherwise)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number) or number < 0:
            raise FilterError("bad_filter", f"{name}: {value!r} is not a time")
        return number if number >= _UNIX_FROM else now - number
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(
            "bad_filter",
            f"{name}: {value!r} is not an age (30m, 1h, 2d), a Unix time or an ISO 8601 time",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_event_status(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if value not in EVENT_STATUSES:
        raise FilterError("bad_filter", f"status: use one of {', '.join(EVENT_STATUSES)}")
    return value


def parse_delivery_statuses(values: list[str]) -> tuple[DeliveryStatus, ...]:
    """Statuses, each value possibly a comma-separated list."""
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    unknown = [n for n in names if n not in DELIVERY_STATUSES]
    if unknown:
        raise FilterError(
            "bad_filter",
            f"status: {unknown[0][:40]!r} is not one of {', '.join(DELIVERY_STATUSES)}",
        )
    return tuple(DeliveryStatus(n) for n in dict.fromkeys(names))


def parse_cursor(value: str | None, kinds: tuple[str, ...]) -> str | None:
    """A cursor is the last id of the page before; it must be an id of one of ``kinds``."""
    if value is None or value == "":
        return None
    match = _ID.fullmatch(value)
    if match is None or match.group(1) not in kinds:
        raise FilterError("bad_cursor", "cursor: pass back a next_cursor value as it came")
    return value


def parse_limit(value: str | None, default: int = 50) -> int:
    if value is None or value == "":
        return default
    try:
        limit = int(value)
    except ValueError:
        raise FilterError("bad_filter", "limit: a whole number from 1 to 500") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise FilterError("bad_filter", "limit: a whole number from 1 to 500")
    return limit
