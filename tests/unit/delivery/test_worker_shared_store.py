"""The worker on a store shared with other instances: it asks the store to hold the target's
limit across all of them, and when the others hold every slot it waits for a wake-up
instead of asking again and again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from relay.ratelimit import RateLimit
from relay.store import SqliteStore
from relay.store.base import ClaimedDelivery, DeliveryStatus
from tests.harness import Upstream, running_relay
from tests.helpers import write_config
from tests.unit.delivery.engine_kit import post_issue, route

QUIET = 0.3  # real seconds in which a spinning loop would ask the store hundreds of times


class SlotsHeldElsewhere(SqliteStore):
    """Claims nothing while ``held`` (other instances hold every slot); records the limits
    and the rates the worker asked for."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.held = True
        self.asked: list[int | None] = []
        self.rates: list[RateLimit | None] = []

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
        self.asked.append(max_in_flight)
        self.rates.append(rate)
        if self.held:
            return []
        return await super().claim(
            target, limit, now, owner, lease_seconds, max_in_flight=max_in_flight
        )


async def test_worker_asks_the_store_to_hold_the_targets_limit_across_instances(
    tmp_path: Path,
) -> None:
    store = SlotsHeldElsewhere()
    store.held = False
    config = write_config(tmp_path / "relay.yaml", routes=route(), max_concurrency=4)
    async with running_relay(config, Upstream(), store=store) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
    assert store.asked
    assert set(store.asked) == {4}
    assert set(store.rates) == {None}


async def test_worker_asks_the_store_to_hold_the_targets_rate_across_instances(
    tmp_path: Path,
) -> None:
    store = SlotsHeldElsewhere()
    store.held = False
    config = write_config(
        tmp_path / "relay.yaml", routes=route(), target_extra="rate_limit: {count: 5, per: minute}"
    )
    async with running_relay(config, Upstream(), store=store) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
    assert set(store.rates) == {RateLimit(5, 60.0)}


async def test_due_work_held_by_other_instances_waits_for_a_wake_instead_of_spinning(
    tmp_path: Path,
) -> None:
    store = SlotsHeldElsewhere()
    upstream = Upstream()
    config = write_config(tmp_path / "relay.yaml", routes=route())
    async with running_relay(config, upstream, store=store, poll_interval=60.0) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: len(store.asked) >= 1)
        await asyncio.sleep(QUIET)
        assert len(store.asked) <= 2  # the first claim, maybe one more for the new event
        assert upstream.requests == []
        store.held = False  # a slot is free: another instance's attempt ended
        relay.worker.notify("notte")
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
    assert len(upstream.requests) == 1
