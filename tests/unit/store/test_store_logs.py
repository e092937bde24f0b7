"""The rest of the store Protocol on every backend (see conftest.py): re-deliveries with
another body, handed-over source secrets, rejected requests, and the delivery-log queries
(filters, id cursors, activity counts)."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import cast

import asyncpg
import pytest

from relay.store.base import DeliveryStatus, EventStatus
from relay.store.log_queries import AttemptQuery, DeliveryQuery, EventQuery, RejectionRecord
from tests.unit.store.builders import (
    NOW,
    AnyStore,
    claim_one,
    delivery,
    event,
    ids,
    result,
)

S = DeliveryStatus


def _rejection(
    n: int, source: str = "github", at: float = NOW, reason: str = "bad"
) -> RejectionRecord:
    return RejectionRecord(f"rej_{n:04d}", source, at, reason, "10.0.0.9")


# re-deliveries ---------------------------------------------------------------------------


async def test_redelivery_with_another_body_is_a_conflict_not_a_duplicate(
    store: AnyStore,
) -> None:
    first = event(delivery(), dedupe_key="gh-7")
    await store.insert_event(first)
    same = await store.insert_event(event(delivery(), dedupe_key="gh-7"))
    other = dataclasses.replace(event(delivery(), dedupe_key="gh-7"), body=b'{"action": "x"}')
    changed = await store.insert_event(other)
    assert (same.event_id, same.duplicate, same.conflict) == (first.id, True, False)
    assert (changed.event_id, changed.duplicate, changed.conflict) == (first.id, True, True)
    stored = await store.get_event(first.id)
    assert stored is not None
    assert stored.body == first.body
    assert stored.duplicates == 1
    assert len(await store.query_deliveries(DeliveryQuery())) == 1


# handed-over secrets ---------------------------------------------------------------------


async def test_source_secrets_are_kept_once_in_order_and_forgotten_per_source(
    store: AnyStore,
) -> None:
    await store.add_source_secret("asana", "s-1", "handshake", NOW)
    await store.add_source_secret("asana", "s-1", "handshake", NOW + 1)  # idempotent
    await store.add_source_secret("notion", "t-1", "handshake", NOW + 2)
    await store.add_source_secret("asana", "s-2", "handshake", NOW + 3)
    assert await store.list_source_secrets() == {"asana": ["s-1", "s-2"], "notion": ["t-1"]}
    assert await store.delete_source_secrets("asana") == 2
    assert await store.list_source_secrets() == {"notion": ["t-1"]}
    assert await store.delete_source_secrets("asana") == 0


async def test_a_source_secret_missing_a_value_is_refused_not_silently_dropped(
    store: AnyStore,
) -> None:
    # ``ON CONFLICT DO NOTHING`` skips only the duplicate; SQLite's ``INSERT OR IGNORE`` would
    # also skip a NOT NULL violation without a word.
    with pytest.raises((sqlite3.IntegrityError, asyncpg.NotNullViolationError)):
        await store.add_source_secret("asana", cast(str, None), "handshake", NOW)
    assert await store.list_source_secrets() == {}


# rejections ------------------------------------------------------------------------------


async def test_rejections_are_recorded_queried_and_purged_with_events(store: AnyStore) -> None:
    await store.record_rejections([_rejection(1, reason="signature_mismatch")])
    await store.record_rejections([_rejection(1, reason="signature_mismatch")])  # same id: one row
    await store.record_rejections([_rejection(2, source="stripe", reason="missing_signature")])
    await store.record_rejections([_rejection(3, at=NOW + 100, reason="stale_timestamp")])
    everything = await store.query_rejections(EventQuery())
    assert [r.id for r in everything] == ["rej_0003", "rej_0002", "rej_0001"]
    assert everything[2] == _rejection(1, reason="signature_mismatch")
    assert [r.id for r in await store.query_rejections(EventQuery(source="github"))] == [
        "rej_0003",
        "rej_0001",
    ]
    assert [r.id for r in await store.query_rejections(EventQuery(text="MISSING"))] == ["rej_0002"]
    assert [r.id for r in await store.query_rejections(EventQuery(since=NOW + 50))] == ["rej_0003"]
    await store.insert_event(event(received_at=NOW))
    assert await store.purge_expired(NOW + 50) == 3  # one event, two rejections
    assert [r.id for r in await store.query_rejections(EventQuery())] == ["rej_0003"]


async def test_a_rejection_window_counted_further_replaces_its_count_and_samples(
    store: AnyStore,
) -> None:
    first = _rejection(1, reason="signature_mismatch")
    await store.record_rejections([first])
    later = dataclasses.replace(
        first, count=4123, last_at=NOW + 59, samples=("X-Hub-Signature-256 does not match",)
    )
    await store.record_rejections([later, _rejection(2, source="stripe")])
    assert await store.query_rejections(EventQuery(source="github")) == [later]
    counts = await store.activity(NOW - 1)
    assert {s.source: s.rejected for s in counts.sources} == {"github": 4123, "stripe": 1}


# log queries -----------------------------------------------------------------------------


async def test_event_queries_filter_and_page_by_id(store: AnyStore) -> None:
    a = event(delivery(route="orders"), id="evt_0001", source="github", dedupe_key="k-1")
    b = event(id="evt_0002", source="stripe", status=EventStatus.UNROUTED, received_at=NOW + 10)
    c = event(delivery(route="other"), id="evt_0003", source="github", received_at=NOW + 20)
    for new in (a, b, c):
        await store.insert_event(new)
    await store.insert_event(event(dedupe_key="k-1"))  # a duplicate of a

    async def found(query: EventQuery) -> list[str]:
        return ids(await store.query_events(query))

    assert await found(EventQuery()) == [c.id, b.id, a.id]
    assert await found(EventQuery(source="github")) == [c.id, a.id]
    assert await found(EventQuery(statuses=["unrouted"])) == [b.id]
    assert await found(EventQuery(duplicated=True)) == [a.id]
    assert await found(EventQuery(route="orders")) == [a.id]
    assert await found(EventQuery(since=NOW + 5, until=NOW + 15)) == [b.id]
    assert await found(EventQuery(text="K-1")) == [a.id]
    assert await found(EventQuery(limit=2)) == [c.id, b.id]
    assert await found(EventQuery(before=b.id)) == [a.id]
    assert await found(EventQuery(after=a.id)) == [b.id, c.id]


async def test_delivery_and_attempt_queries_filter_and_page_by_id(store: AnyStore) -> None:
    d1 = delivery(id="dlv_0001", route="a")
    d2 = delivery(id="dlv_0002", route="b")
    d3 = delivery(id="dlv_0003", route="a", target="other")
    e1 = event(d1, d2, id="evt_0001")
    await store.insert_event(e1)
    await store.insert_event(event(d3, id="evt_0002"))
    first = await claim_one(store)
    await store.finish_attempt(first, result(S.DEAD, outcome="fatal", error="HTTP 404: Gone"))
    second = await claim_one(store)

    async def found(query: DeliveryQuery) -> list[str]:
        return ids(await store.query_deliveries(query))

    assert await found(DeliveryQuery()) == [d3.id, d2.id, d1.id]
    assert await found(DeliveryQuery(statuses=[S.DEAD])) == [first.delivery.id]
    assert await found(DeliveryQuery(route="a")) == [d3.id, d1.id]
    assert await found(DeliveryQuery(target="other")) == [d3.id]
    assert await found(DeliveryQuery(event_ids=[e1.id])) == [d2.id, d1.id]
    assert await found(DeliveryQuery(reason="gone")) == [first.delivery.id]
    assert await found(DeliveryQuery(after=d1.id, limit=1)) == [d2.id]
    attempts = await store.query_attempts(AttemptQuery())
    assert [a.id for a in attempts] == sorted([first.attempt_id, second.attempt_id], reverse=True)
    (only,) = await store.query_attempts(AttemptQuery(delivery_id=second.delivery.id))
    assert only.finished_at is None


async def test_activity_counts_events_rejections_deliveries_and_attempts(
    store: AnyStore,
) -> None:
    await store.insert_event(event(delivery(route="a"), delivery(route="b"), dedupe_key="x"))
    await store.insert_event(event(dedupe_key="x"))  # duplicate
    await store.insert_event(event(source="stripe", status=EventStatus.UNROUTED))
    await store.record_rejections([_rejection(1, source="stripe")])
    claimed = await claim_one(store, now=NOW)
    await store.finish_attempt(claimed, result(S.SUCCEEDED))
    await store.insert_event(event(delivery(route="a"), received_at=NOW - 100))  # before

    counts = await store.activity(NOW - 1)

    sources = {s.source: s for s in counts.sources}
    assert dict(sources["github"].events) == {"routed": 1}
    assert sources["github"].duplicates == 1
    assert (dict(sources["stripe"].events), sources["stripe"].rejected) == ({"unrouted": 1}, 1)
    routes = {(r.route, r.target): r for r in counts.routes}
    assert sum(routes[("a", "notte")].deliveries.values()) == 1
    assert sum(routes[("b", "notte")].deliveries.values()) == 1
    finished = sum(r.attempts for r in counts.routes)
    assert finished == 1
    assert sum(r.attempt_ms for r in counts.routes) == 12.5
