"""What only the PostgreSQL store does: several instances on one database (one event per
re-delivery, the target's limit across instances, leases that only expire when their
holder stops renewing them, new work announced to every instance), migrations under a
lock, and group commit that fails only the bad event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from relay.ratelimit import RateLimit
from relay.store._pg_schema import MIGRATIONS
from relay.store.base import DeliveryStatus, StoreUnavailable
from relay.store.log_queries import DeliveryQuery, EventQuery
from relay.store.migrate import migrate_database
from relay.store.postgres import PostgresStore
from tests.helpers import FakeClock
from tests.postgres import create_schema, drop_schema, open_clean_store, with_search_path
from tests.unit.store.builders import (
    LEASE,
    NOW,
    TARGET,
    claim_one,
    delivery,
    event,
    result,
)

S = DeliveryStatus
LATEST = len(MIGRATIONS)


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[PostgresStore]:
    store = await open_clean_store(pg_url)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def other(pg: PostgresStore) -> AsyncIterator[PostgresStore]:
    """A second instance on the same database (opened after ``pg`` emptied it)."""
    store = PostgresStore(pg.url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def _fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def _lease_expiry(store: PostgresStore, delivery_id: str) -> float:
    rows = await _fetch(
        store.url, "SELECT lease_expires_at FROM deliveries WHERE id = $1", delivery_id
    )
    return float(rows[0][0])


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(500):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


# several instances -----------------------------------------------------------------------


async def test_one_redelivery_reaching_two_instances_at_once_is_stored_once(
    pg: PostgresStore, other: PostgresStore
) -> None:
    copies = [event(delivery(), dedupe_key="gh-42") for _ in range(6)]
    results = await asyncio.gather(
        *(store.insert_event(e) for store, e in zip([pg, other] * 3, copies, strict=True))
    )
    assert len({r.event_id for r in results}) == 1
    assert sorted(r.duplicate for r in results) == [False] + [True] * 5
    (stored,) = await pg.query_events(EventQuery())
    assert stored.duplicates == 5
    assert len(await pg.query_deliveries(DeliveryQuery())) == 1


async def test_claims_from_two_instances_never_exceed_the_targets_limit(
    pg: PostgresStore, other: PostgresStore
) -> None:
    await pg.insert_event(event(*(delivery() for _ in range(20))))
    batches = await asyncio.gather(
        *(
            store.claim(TARGET, 2, NOW, f"owner-{n}", LEASE, max_in_flight=3)
            for n, store in enumerate([pg, other] * 5)
        )
    )
    claimed = [c for batch in batches for c in batch]
    assert len(claimed) == 3
    assert len({c.delivery.id for c in claimed}) == 3
    assert await other.claim(TARGET, 5, NOW, "late", LEASE, max_in_flight=3) == []
    await pg.finish_attempt(claimed[0], result(S.SUCCEEDED))
    assert len(await other.claim(TARGET, 5, NOW, "late", LEASE, max_in_flight=3)) == 1


async def test_a_rate_limit_holds_across_instances(pg: PostgresStore, other: PostgresStore) -> None:
    await pg.insert_event(event(*(delivery() for _ in range(30))))
    rate = RateLimit(5, 1.0)  # a burst of 5, then 5 a second

    async def claims_at(now: float) -> int:
        batches = await asyncio.gather(
            *(
                store.claim(TARGET, 3, now, f"owner-{n}", LEASE, max_in_flight=50, rate=rate)
                for n, store in enumerate([pg, other] * 3)
            )
        )
        return sum(len(batch) for batch in batches)

    assert await claims_at(NOW) == 5  # not 5 per instance
    assert await claims_at(NOW + 0.4) == 2
    assert await claims_at(NOW + 0.4) == 0
    assert await claims_at(NOW + 0.2) == 0  # a clock behind the last claim adds nothing
    assert await claims_at(NOW + 60) == 5  # refilled up to the burst, no more


async def test_a_lowered_limit_holds_claims_until_enough_attempts_ended(
    pg: PostgresStore,
) -> None:
    await pg.insert_event(event(*(delivery() for _ in range(6))))
    first = await pg.claim(TARGET, 4, NOW, "a", LEASE, max_in_flight=4)
    assert await pg.claim(TARGET, 4, NOW, "a", LEASE, max_in_flight=2) == []
    for claimed in first[:3]:
        await pg.finish_attempt(claimed, result(S.SUCCEEDED))
    assert len(await pg.claim(TARGET, 4, NOW, "a", LEASE, max_in_flight=2)) == 1


async def test_sweep_of_another_instance_leaves_live_leases_alone(
    pg: PostgresStore, other: PostgresStore
) -> None:
    await pg.insert_event(event(delivery()))
    claimed = await claim_one(pg, owner="instance-a")
    assert await other.recover_expired(NOW + LEASE - 1) == []
    held = await pg.get_delivery(claimed.delivery.id)
    assert held is not None
    assert held.status is S.IN_FLIGHT
    assert await other.recover_expired(NOW + LEASE + 1) == [claimed.delivery.id]


async def test_new_work_is_announced_to_every_instance(pg: PostgresStore, pg_url: str) -> None:
    heard: list[str] = []
    listener = PostgresStore(pg_url)
    listener.on_new_work(heard.append)
    await listener.open()
    try:
        await pg.insert_event(event(delivery(target="billing")))
        await _eventually(lambda: _true("billing" in heard), "the insert announced")
        dead = delivery(target="reports")
        await pg.insert_event(event(dead))
        await pg.finish_attempt(
            await claim_one(pg, target="reports"), result(S.DEAD, outcome="fatal")
        )
        heard.clear()
        await pg.replay(dead.id, NOW + 5)  # from `relay replay`: another process
        await _eventually(lambda: _true(heard == ["reports"]), "the replay announced")
    finally:
        await listener.close()


async def _true(value: bool) -> bool:
    return value


async def test_listener_listens_again_after_its_connection_dropped(
    pg: PostgresStore, pg_url: str
) -> None:
    heard: list[str] = []
    listener = PostgresStore(pg_url)
    listener.on_new_work(heard.append)
    await listener.open()
    try:
        channel = listener._channel
        await _fetch(
            pg_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN %' AND query LIKE '%' || $1 || '%'",
            channel.split(":", 1)[1],
        )
        await _eventually(lambda: _true(not listener.listening), "the connection dropped")
        await _eventually(lambda: _true(listener.listening), "listening again")
        await pg.insert_event(event(delivery()))
        await _eventually(lambda: _true(TARGET in heard), "heard after the reconnect")
    finally:
        await listener.close()


# leases ----------------------------------------------------------------------------------


async def test_live_instance_keeps_renewing_its_lease_and_a_dead_ones_expires(
    pg_url: str,
) -> None:
    clock = FakeClock(NOW)
    live = await open_clean_store(pg_url, clock=clock, lease_ttl=6.0)
    dead = PostgresStore(pg_url, clock=clock, lease_ttl=6.0)
    await dead.open()
    try:
        await live.insert_event(event(delivery(), delivery()))
        mine = await live.claim(TARGET, 1, NOW, "live", 60.0)
        theirs = await dead.claim(TARGET, 1, NOW, "dead", 60.0)
        assert await _lease_expiry(live, mine[0].delivery.id) == NOW + 6
        for _ in range(3):  # every ttl / 3: only the live instance renews
            clock.advance(2)
            assert await live.renew_leases() == 1
        assert await _lease_expiry(live, mine[0].delivery.id) == NOW + 12
        assert await live.recover_expired(clock.now() + 1) == [theirs[0].delivery.id]
        await live.finish_attempt(mine[0], result(S.SUCCEEDED, at=clock.now()))
        assert await live.renew_leases() == 0
    finally:
        await dead.close()
        await live.close()


async def test_renewal_stops_at_the_longest_an_attempt_can_take(pg_url: str) -> None:
    clock = FakeClock(NOW)
    store = await open_clean_store(pg_url, clock=clock, lease_ttl=6.0)
    try:
        await store.insert_event(event(delivery()))
        (claimed,) = await store.claim(TARGET, 1, NOW, "a", 8.0)
        clock.advance(5)
        await store.renew_leases()
        assert await _lease_expiry(store, claimed.delivery.id) == NOW + 8
        clock.advance(5)
        assert await store.renew_leases() == 0
        assert await store.recover_expired(clock.now()) == [claimed.delivery.id]
    finally:
        await store.close()


# migrations ------------------------------------------------------------------------------


async def test_instances_starting_together_migrate_a_new_schema_once(pg_server_url: str) -> None:
    schema = await create_schema(pg_server_url, prefix="relay_test_migrate")
    url = with_search_path(pg_server_url, schema)
    stores = [PostgresStore(url) for _ in range(4)]
    try:
        await asyncio.gather(*(s.open() for s in stores))
        await stores[0].insert_event(event(delivery()))
        assert len(await stores[3].query_deliveries(DeliveryQuery())) == 1
        versions = await _fetch(url, "SELECT version FROM relay_schema ORDER BY version")
        assert [v[0] for v in versions] == list(range(1, LATEST + 1))
        again = await migrate_database(url)
        assert (again.backend, again.before, again.after, again.changed) == (
            "postgresql",
            LATEST,
            LATEST,
            False,
        )
    finally:
        await asyncio.gather(*(s.close() for s in stores))
        await drop_schema(pg_server_url, schema)


async def test_a_first_version_schema_gets_the_shared_rate_buckets(pg_server_url: str) -> None:
    schema = await create_schema(pg_server_url, prefix="relay_test_migrate")
    url = with_search_path(pg_server_url, schema)
    conn = await asyncpg.connect(url)
    try:  # a database relay's first schema version made
        await conn.execute(MIGRATIONS[0])
        await conn.execute(
            "CREATE TABLE relay_schema (version integer PRIMARY KEY, applied_at double precision "
            "NOT NULL); INSERT INTO relay_schema VALUES (1, 0)"
        )
    finally:
        await conn.close()
    try:
        done = await migrate_database(url)
        assert (done.before, done.after, done.changed) == (1, LATEST, True)
        tables = await _fetch(url, "SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
        assert "target_buckets" in {t[0] for t in tables}
    finally:
        await drop_schema(pg_server_url, schema)


async def test_migrate_creates_the_schema_of_a_new_database(pg_server_url: str) -> None:
    schema = await create_schema(pg_server_url, prefix="relay_test_migrate")
    url = with_search_path(pg_server_url, schema)
    try:
        done = await migrate_database(url)
        assert (done.before, done.after, done.changed) == (0, LATEST, True)
        tables = await _fetch(url, "SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
        assert {"events", "deliveries", "attempts", "relay_schema"} <= {t[0] for t in tables}
    finally:
        await drop_schema(pg_server_url, schema)


async def test_schema_missing_from_the_search_path_is_reported(pg_server_url: str) -> None:
    store = PostgresStore(with_search_path(pg_server_url, "relay_test_nowhere"))
    with pytest.raises(StoreUnavailable, match="search_path"):
        await store.open()


async def test_unreachable_server_is_store_unavailable() -> None:
    store = PostgresStore("postgresql://relay@127.0.0.1:1/relay")
    with pytest.raises(StoreUnavailable):
        await store.open()
    assert await store.ping() is False


# group commit and odd input --------------------------------------------------------------


async def test_a_failing_event_fails_only_its_caller(pg: PostgresStore) -> None:
    existing = event(delivery())
    await pg.insert_event(existing)
    before, after = event(delivery()), event(delivery())
    clash = event(delivery(), id=existing.id)  # the same primary key
    outcomes = await asyncio.gather(
        *(pg.insert_event(e) for e in (before, clash, after)), return_exceptions=True
    )
    assert not isinstance(outcomes[0], BaseException)
    assert outcomes[0].event_id == before.id
    assert isinstance(outcomes[1], StoreUnavailable)
    assert not isinstance(outcomes[2], BaseException)
    assert outcomes[2].event_id == after.id
    assert await pg.get_delivery(clash.deliveries[0].id) is None
    assert len(await pg.query_events(EventQuery())) == 3


async def test_text_with_nul_characters_is_stored(pg: PostgresStore) -> None:
    odd = event(delivery(error="bad\x00byte", status=S.MAPPING_FAILED))
    await pg.insert_event(odd)
    stored = await pg.get_delivery(odd.deliveries[0].id)
    assert stored is not None
    assert stored.last_error == "bad\ufffdbyte"
