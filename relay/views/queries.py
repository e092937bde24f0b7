"""What the delivery-log views read from the store, as view models: the events list (events
and rejected requests merged, newest first, one cursor), one event or delivery in full,
deliveries, targets and stats."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from relay.redact import Redactor
from relay.store.base import DeliveryRecord, DeliveryStatus, EventStatus, Store, TargetOverview
from relay.store.base import TargetState as StoredTargetState
from relay.store.log_queries import AttemptQuery, DeliveryQuery, EventQuery
from relay.views import build
from relay.views.filters import EventFilter
from relay.views.models import (
    DeliveryDetail,
    DeliveryPage,
    EventDetail,
    EventPage,
    EventSummary,
    Stats,
    Target,
    fields_of,
)

__all__ = [
    "DEAD_LETTERS",
    "delivery_detail",
    "event_detail",
    "list_deliveries",
    "list_events",
    "list_targets",
    "stats",
]

_PER_EVENT = 1000  # deliveries shown per event (one per matched route)


def _stamp(item_id: str) -> str:
    """The sortable part of an id (time, then random), the same across kinds."""
    return item_id.split("_", 1)[1]


async def _routes(store: Store, event_ids: Sequence[str]) -> dict[str, list[DeliveryRecord]]:
    by_event: dict[str, list[DeliveryRecord]] = {e: [] for e in event_ids}
    if not event_ids:
        return by_event
    rows = await store.query_deliveries(
        DeliveryQuery(event_ids=tuple(event_ids), limit=_PER_EVENT * len(event_ids))
    )
    for d in sorted(rows, key=lambda d: d.id):
        by_event[d.event_id].append(d)
    return by_event


async def list_events(
    store: Store, f: EventFilter, cursor: str | None, limit: int, r: Redactor
) -> EventPage:
    """Newest first; rejected requests are listed with events unless a status other than
    ``rejected`` or a route is asked for. ``cursor``: the last id of the previous page."""
    stamp = None if cursor is None else _stamp(cursor)
    items: list[tuple[str, EventSummary | str]] = []
    if f.status != "rejected":
        statuses: tuple[str, ...] = ()
        if f.status in (EventStatus.ROUTED, EventStatus.UNROUTED, EventStatus.UNPROCESSABLE):
            statuses = (f.status,)
        events = await store.query_events(
            EventQuery(
                source=f.source,
                statuses=statuses,
                duplicated=f.status == "duplicate",
                route=f.route,
                since=f.since,
                until=f.until,
                text=f.text,
                body=f.body,
                before=None if stamp is None else f"evt_{stamp}",
                limit=limit + 1,
            )
        )
        items.extend((_stamp(e.id), e.id) for e in events)
        records = {e.id: e for e in events}
    else:
        records = {}
    if f.status in (None, "rejected") and f.route is None and f.body is None:
        rejections = await store.query_rejections(
            EventQuery(
                source=f.source,
                since=f.since,
                until=f.until,
                text=f.text,
                before=None if stamp is None else f"rej_{stamp}",
                limit=limit + 1,
            )
        )
        items.extend((_stamp(x.id), build.rejection_summary(x)) for x in rejections)
    items.sort(key=lambda item: item[0], reverse=True)
    page = items[:limit]
    routes = await _routes(store, [i for _, i in page if isinstance(i, str)])
    summaries = [
        build.event_summary(r, records[i], routes[i]) if isinstance(i, str) else i for _, i in page
    ]
    next_cursor = summaries[-1].id if len(items) > limit and summaries else None
    return EventPage(items=summaries, next_cursor=next_cursor)


async def delivery_detail(store: Store, delivery_id: str, r: Redactor) -> DeliveryDetail | None:
    record = await store.get_delivery(delivery_id)
    if record is None:
        return None
    event = await store.get_event(record.event_id)
    if event is not None:
        r = r.learned(event.headers, event.body)
    return await _detail(store, record, r)


async def _detail(store: Store, record: DeliveryRecord, r: Redactor) -> DeliveryDetail:
    attempts = await store.query_attempts(AttemptQuery(delivery_id=record.id, whole_delivery=True))
    transitions = await store.list_transitions(record.id)
    return build.delivery_detail(r, record, attempts, transitions)


async def event_detail(store: Store, event_id: str, r: Redactor) -> EventDetail | None:
    """An event with its payload, headers, deliveries, attempts and transitions; a rejected
    request (``rej_...``) with what was kept of it."""
    if event_id.startswith("rej_"):
        found = await store.query_rejections(EventQuery(text=event_id, limit=2))
        match = [x for x in found if x.id == event_id]
        if not match:
            return None
        return EventDetail(**fields_of(build.rejection_summary(match[0])))
    event = await store.get_event(event_id)
    if event is None:
        return None
    r = r.learned(event.headers, event.body)
    routes = await _routes(store, [event.id])
    deliveries = [await _detail(store, d, r) for d in routes[event.id]]
    return build.event_detail(r, event, deliveries)


async def list_deliveries(
    store: Store,
    query: DeliveryQuery,
    r: Redactor,
) -> DeliveryPage:
    """``query.limit`` deliveries, newest first; the cursor is in ``query.before``."""
    rows = await store.query_deliveries(dataclasses.replace(query, limit=query.limit + 1))
    page = rows[: query.limit]
    next_cursor = page[-1].id if len(rows) > query.limit and page else None
    return DeliveryPage(items=[build.delivery(r, d) for d in page], next_cursor=next_cursor)


async def list_targets(store: Store, configured: Mapping[str, int]) -> list[Target]:
    """Every target the store knows or the config names; ``configured``: name -> limit."""
    overview = {t.state.target: t for t in await store.target_overview()}
    for name in configured:
        overview.setdefault(name, TargetOverview(StoredTargetState(target=name), 0, 0))
    return [build.target(overview[name], configured) for name in sorted(overview)]


async def stats(store: Store, since: float, until: float | None) -> Stats:
    return build.stats(await store.activity(since, until))


DEAD_LETTERS = (DeliveryStatus.DEAD, DeliveryStatus.FAILED, DeliveryStatus.NEEDS_REVIEW)
