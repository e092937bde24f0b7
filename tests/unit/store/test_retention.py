"""The retention purger: per-source ages, small batches, unfinished deliveries kept."""

from __future__ import annotations

import asyncio

from relay.store.log_queries import EventQuery
from relay.store.retention import Purger, RetentionPolicy
from tests.helpers import FakeClock
from tests.unit.store.builders import NOW, AnyStore, delivery, event

DAY = 86400.0


async def test_purges_every_expired_event_in_batches_and_keeps_the_rest(
    store: AnyStore,
) -> None:
    for _ in range(7):
        await store.insert_event(event(received_at=NOW))
    alive = delivery()
    await store.insert_event(event(alive, received_at=NOW))
    await store.insert_event(event(received_at=NOW + 29 * DAY))
    clock = FakeClock(NOW + 30 * DAY + 1)
    purger = Purger(store, lambda: RetentionPolicy(30 * DAY), clock, batch=3, pause=0)

    assert await purger.purge_once() == 7
    kept = await store.query_events(EventQuery())
    assert len(kept) == 2
    assert await store.get_delivery(alive.id) is not None


async def test_a_source_can_keep_its_events_shorter_or_longer(store: AnyStore) -> None:
    await store.insert_event(event(source="github", received_at=NOW))
    await store.insert_event(event(source="stripe", received_at=NOW))
    await store.insert_event(event(source="slack", received_at=NOW))
    policy = RetentionPolicy(30 * DAY, {"github": 1 * DAY, "stripe": 90 * DAY})
    purger = Purger(store, lambda: policy, FakeClock(NOW + 2 * DAY), pause=0)
    assert await purger.purge_once() == 1
    assert sorted(e.source for e in await store.query_events(EventQuery())) == ["slack", "stripe"]
    later = Purger(store, lambda: policy, FakeClock(NOW + 31 * DAY), pause=0)
    assert await later.purge_once() == 1
    assert [e.source for e in await store.query_events(EventQuery())] == ["stripe"]


async def test_background_task_runs_a_pass_at_start_and_stops_cleanly(
    store: AnyStore,
) -> None:
    await store.insert_event(event(received_at=NOW))
    purger = Purger(store, lambda: RetentionPolicy(DAY), FakeClock(NOW + 2 * DAY), interval=3600)
    purger.start()
    for _ in range(100):
        if not await store.query_events(EventQuery()):
            break
        await asyncio.sleep(0.01)
    await purger.stop()
    assert await store.query_events(EventQuery()) == []
