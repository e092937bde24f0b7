"""The delivery-log queries (``LogQueries``): filters, id cursors, rejections, activity.

Run on every backend of conftest.py (SQLite on a file and in memory, PostgreSQL)."""

from __future__ import annotations

import pytest

from relay.store.base import DeliveryStatus, EventStatus
from relay.store.log_queries import AttemptQuery, DeliveryQuery, EventQuery, RejectionRecord
from tests.unit.store.builders import (
    LEASE,
    NOW,
    OWNER,
    TARGET,
    AnyStore,
    claim_one,
    delivery,
    event,
    result,
)

S = DeliveryStatus


def _id(prefix: str, at: float, n: int) -> str:
    return f"{prefix}_{int(at * 1000):012x}{n:016x}"


async def _events(store: AnyStore, count: int, **kw: object) -> list[str]:
    ids = []
    for n in range(count):
        at = NOW + n
        new = event(delivery(route=f"r{n % 2}"), id=_id("evt", at, n), received_at=at, **kw)  # type: ignore[arg-type]
        await store.insert_event(new)
        ids.append(new.id)
    return ids


async def test_events_page_newest_first_and_the_cursor_continues(store: AnyStore) -> None:
    ids = await _events(store, 5)
    first = await store.query_events(EventQuery(limit=2))
    assert [e.id for e in first] == [ids[4], ids[3]]
    second = await store.query_events(EventQuery(before=first[-1].id, limit=2))
    assert [e.id for e in second] == [ids[2], ids[1]]
    last = await store.query_events(EventQuery(before=second[-1].id, limit=2))
    assert [e.id for e in last] == [ids[0]]


async def test_after_answers_oldest_first_above_the_cursor(store: AnyStore) -> None:
    ids = await _events(store, 4)
    newer = await store.query_events(EventQuery(after=ids[1], limit=10))
    assert [e.id for e in newer] == [ids[2], ids[3]]
    both = await store.query_events(EventQuery(after=ids[0], before=ids[3], limit=10))
    assert [e.id for e in both] == [ids[1], ids[2]]


async def test_event_filters_all_hold(store: AnyStore) -> None:
    ids = await _events(store, 4)
    await store.insert_event(
        event(
            id=_id("evt", NOW + 10, 9),
            source="stripe",
            received_at=NOW + 10,
            status=EventStatus.UNROUTED,
        )
    )
    await store.insert_event(
        event(id=_id("evt", NOW + 11, 9), dedupe_key="gh-9", received_at=NOW + 11)
    )
    await store.insert_event(event(dedupe_key="gh-9", received_at=NOW + 12))  # a re-delivery

    async def select(**kw: object) -> list[str]:
        return [e.id for e in await store.query_events(EventQuery(**kw))]  # type: ignore[arg-type]

    assert await select(source="stripe") == [_id("evt", NOW + 10, 9)]
    assert await select(statuses=["unrouted"]) == [_id("evt", NOW + 10, 9)]
    assert await select(duplicated=True) == [_id("evt", NOW + 11, 9)]
    assert await select(route="r1") == [ids[3], ids[1]]
    assert await select(since=NOW + 1, until=NOW + 3) == [ids[2], ids[1]]
    assert await select(text=ids[2][-10:].upper()) == [ids[2]]
    assert await select(text="GH-9") == [_id("evt", NOW + 11, 9)]
    assert await select(text="%") == []


async def test_rejections_are_stored_queried_and_purged(store: AnyStore) -> None:
    for n, (source, reason) in enumerate(
        [
            ("github", "signature_mismatch"),
            ("stripe", "timestamp_too_old"),
            ("github", "missing_signature"),
        ]
    ):
        await store.record_rejections(
            [RejectionRecord(_id("rej", NOW + n, n), source, NOW + n, reason, "203.0.113.9")]
        )
    everything = await store.query_rejections(EventQuery())
    assert [r.reason for r in everything] == [
        "missing_signature",
        "timestamp_too_old",
        "signature_mismatch",
    ]
    assert everything[0] == RejectionRecord(
        _id("rej", NOW + 2, 2), "github", NOW + 2, "missing_signature", "203.0.113.9"
    )
    github = await store.query_rejections(EventQuery(source="github", text="MISMATCH"))
    assert [r.id for r in github] == [_id("rej", NOW, 0)]
    page = await store.query_rejections(EventQuery(before=everything[0].id, limit=1))
    assert [r.id for r in page] == [everything[1].id]

    purged = await store.purge_expired(NOW + 1.5, exclude_sources=("stripe",))
    assert purged == 1
    assert [r.id for r in await store.query_rejections(EventQuery())] == [
        everything[0].id,
        everything[1].id,
    ]


async def test_deliveries_select_by_status_route_event_and_error(store: AnyStore) -> None:
    a, b, c = delivery(route="a"), delivery(route="b"), delivery(route="a")
    first = event(a, b, id=_id("evt", NOW, 1))
    await store.insert_event(first)
    await store.insert_event(event(c, id=_id("evt", NOW + 1, 2), received_at=NOW + 1))
    claimed = await claim_one(store)
    await store.finish_attempt(
        claimed, result(S.DEAD, at=NOW + 5, outcome="fatal", error="HTTP 404: Not Found")
    )

    async def select(**kw: object) -> set[str]:
        return {d.id for d in await store.query_deliveries(DeliveryQuery(**kw))}  # type: ignore[arg-type]

    assert await select(statuses=[S.DEAD]) == {claimed.delivery.id}
    assert await select(statuses=[S.PENDING, S.DEAD]) == {a.id, b.id, c.id}
    assert await select(route="a") == {a.id, c.id}
    assert await select(event_ids=[first.id]) == {a.id, b.id}
    assert await select(reason="not found") == {claimed.delivery.id}
    assert await select(since=NOW + 4) == {claimed.delivery.id}
    ordered = await store.query_deliveries(DeliveryQuery(limit=2))
    assert [d.id for d in ordered] == sorted([a.id, b.id, c.id], reverse=True)[:2]


async def test_attempts_across_deliveries_in_id_order(store: AnyStore) -> None:
    await store.insert_event(event(delivery(), delivery()))
    one = await claim_one(store)
    two = await claim_one(store)
    await store.finish_attempt(one, result(S.SUCCEEDED, at=NOW + 1))
    every = await store.query_attempts(AttemptQuery(after="att_"))
    assert [a.id for a in every] == sorted([one.attempt_id, two.attempt_id])
    assert {a.id: a.finished_at is not None for a in every} == {
        one.attempt_id: True,
        two.attempt_id: False,
    }
    mine = await store.query_attempts(AttemptQuery(delivery_id=two.delivery.id))
    assert [a.id for a in mine] == [two.attempt_id]


async def test_a_whole_delivery_s_attempts_come_in_number_order_past_any_limit(
    store: AnyStore,
) -> None:
    await store.insert_event(event(delivery(), delivery()))
    # the first attempt is claimed later on the clock than the second: its id sorts after
    first = await claim_one(store, now=NOW + 10)
    await store.finish_attempt(
        first, result(S.RETRY_SCHEDULED, at=NOW + 10, outcome="retry", next_attempt_at=NOW)
    )
    second = await store.claim(TARGET, 2, NOW + 1, OWNER, LEASE)
    again = next(c for c in second if c.delivery.id == first.delivery.id)
    assert again.attempt_id < first.attempt_id

    whole = await store.query_attempts(
        AttemptQuery(delivery_id=first.delivery.id, whole_delivery=True, limit=1)
    )
    assert [(a.number, a.id) for a in whole] == [(1, first.attempt_id), (2, again.attempt_id)]
    missing = AttemptQuery(delivery_id="dlv_missing", whole_delivery=True)
    assert await store.query_attempts(missing) == []
    with pytest.raises(ValueError, match="delivery_id"):
        await store.query_attempts(AttemptQuery(whole_delivery=True))


async def test_activity_counts_a_window(store: AnyStore) -> None:
    ok, bad, waiting = delivery(route="a"), delivery(route="a"), delivery(route="b")
    await store.insert_event(event(ok, bad, dedupe_key="gh-1", received_at=NOW))
    await store.insert_event(event(dedupe_key="gh-1", received_at=NOW + 1))  # duplicate
    await store.insert_event(event(waiting, source="stripe", received_at=NOW + 2))
    await store.insert_event(event(received_at=NOW - 100))  # before the window
    await store.record_rejections([RejectionRecord(_id("rej", NOW, 1), "github", NOW, "x", None)])
    first = await claim_one(store)
    second = await claim_one(store)
    await store.finish_attempt(first, result(S.SUCCEEDED, at=NOW + 3))
    await store.finish_attempt(second, result(S.DEAD, at=NOW + 3, outcome="fatal"))

    activity = await store.activity(NOW - 1)

    sources = {s.source: s for s in activity.sources}
    assert sources["github"].events == {"routed": 1}
    assert sources["github"].duplicates == 1
    assert sources["github"].rejected == 1
    assert sources["stripe"].events == {"routed": 1}
    routes = {(r.route, r.target): r for r in activity.routes}
    a = routes[("a", "notte")]
    assert a.deliveries == {"succeeded": 1, "dead": 1}
    assert (a.attempts, a.attempt_ms) == (2, 25.0)
    assert routes[("b", "notte")].deliveries == {"pending": 1}
    assert (await store.activity(NOW - 1, NOW + 1)).routes == (a,)
