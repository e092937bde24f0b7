"""The worker on a store shared with other instances (the real PostgreSQL server): when an
instance that holds every slot of a target goes away, the worker takes its leases back and
delivers what waited, long before the leases expire (600 s) or a sweep of expired leases
(every hour here) could; while that instance lives, its leases stay."""

from __future__ import annotations

import asyncio
from pathlib import Path

from relay.clock import SystemClock
from relay.store.base import DeliveryStatus
from relay.store.postgres import PostgresStore
from tests.harness import Upstream, running_relay
from tests.helpers import write_config
from tests.postgres import open_clean_store
from tests.unit.delivery.engine_kit import post_issue, route
from tests.unit.store.builders import TARGET, delivery, event

S = DeliveryStatus
TTL = 600.0
LIMIT = 2


async def test_slots_of_a_gone_instance_go_to_the_waiting_work_long_before_its_leases_expire(
    tmp_path: Path, pg_url: str
) -> None:
    store = await open_clean_store(pg_url, lease_ttl=TTL)
    gone = PostgresStore(pg_url, lease_ttl=TTL)
    await gone.open()
    await store.insert_event(event(*(delivery(route="other", target=TARGET) for _ in range(LIMIT))))
    held = await gone.claim(TARGET, LIMIT, SystemClock().now(), "gone", 900.0)
    assert len(held) == LIMIT
    upstream = Upstream()
    config = write_config(tmp_path / "relay.yaml", routes=route(), max_concurrency=LIMIT)
    async with running_relay(
        config, upstream, store=store, exclusive_store=False, recover_interval=3600.0
    ) as relay:
        await post_issue(relay, 1)
        await asyncio.sleep(1.0)  # the loop finds the target full, and checks: all alive
        assert upstream.requests == []
        for claimed in held:
            record = await store.get_delivery(claimed.delivery.id)
            assert record is not None
            assert record.status is S.IN_FLIGHT
        await gone.close()  # its session ends, its leases stay behind
        await relay.wait_for(lambda: relay.status_is("new-issues", S.SUCCEEDED), within=30.0)
        for claimed in held:
            record = await store.get_delivery(claimed.delivery.id)
            assert record is not None
            assert record.status is not S.IN_FLIGHT
    assert len(upstream.requests) == 1
