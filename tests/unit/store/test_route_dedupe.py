"""The store's per-route dedupe window, checked in the same transaction as the insert."""

from __future__ import annotations

from relay.store.base import EventStatus, NewDelivery, NewEvent
from relay.store.log_queries import DeliveryQuery
from tests.unit.store.builders import AnyStore


def _event(n: int, at: float, key: str | None, route: str = "orders") -> NewEvent:
    delivery = NewDelivery(
        id=f"dlv_{n}",
        route=route,
        target="notte",
        function_id="f",
        variables={},
        stream=False,
        max_attempts=1,
        retry_policy={},
        dedupe_key=key,
        dedupe_window=60.0,
    )
    return NewEvent(
        id=f"evt_{n}",
        source="github",
        dedupe_key=f"provider-{n}",
        provider_event_id=f"provider-{n}",
        event_type="order",
        received_at=at,
        body=b"{}",
        headers={},
        query={},
        status=EventStatus.ROUTED,
        deliveries=(delivery,),
        client_ip="10.0.0.1",
    )


async def test_same_key_within_the_window_is_skipped_and_reported(store: AnyStore) -> None:
    assert (await store.insert_event(_event(1, 1000.0, "A"))).deduped_routes == ()
    result = await store.insert_event(_event(2, 1059.0, "A"))
    assert (result.duplicate, result.deduped_routes) == (False, ("orders",))
    assert [d.id for d in await store.query_deliveries(DeliveryQuery())] == ["dlv_1"]
    assert await store.get_event("evt_2") is not None


async def test_same_key_after_the_window_delivers_again(store: AnyStore) -> None:
    await store.insert_event(_event(1, 1000.0, "A"))
    assert (await store.insert_event(_event(2, 1061.0, "A"))).deduped_routes == ()
    assert len(await store.query_deliveries(DeliveryQuery())) == 2


async def test_dedupe_is_per_route_and_per_key(store: AnyStore) -> None:
    await store.insert_event(_event(1, 1000.0, "A"))
    assert (await store.insert_event(_event(2, 1001.0, "B"))).deduped_routes == ()
    assert (await store.insert_event(_event(3, 1002.0, "A", route="other"))).deduped_routes == ()
    assert (await store.insert_event(_event(4, 1003.0, None))).deduped_routes == ()
    assert len(await store.query_deliveries(DeliveryQuery())) == 4


async def test_event_keeps_its_client_ip(store: AnyStore) -> None:
    await store.insert_event(_event(1, 1000.0, None))
    event = await store.get_event("evt_1")
    assert event is not None
    assert event.client_ip == "10.0.0.1"
