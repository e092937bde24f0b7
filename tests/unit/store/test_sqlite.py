"""SqliteStore against both a file database and ``:memory:``."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from relay.store import SqliteStore, open_store
from relay.store._sqlite_schema import MIGRATIONS
from relay.store.base import (
    AttemptResult,
    ClaimedDelivery,
    DeliveryStatus,
    EventStatus,
    NewDelivery,
    NewEvent,
    StoreUnavailable,
)

NOW = 1_700_000_000.0
TARGET = "notte"
OWNER = "relay-a"
LEASE = 30.0


@pytest.fixture(params=["file", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqliteStore]:
    path = tmp_path / "relay.db" if request.param == "file" else ":memory:"
    opened = SqliteStore(path)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def file_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "relay.db")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


_counter = iter(range(1, 1_000_000))


def delivery(
    *,
    id: str | None = None,
    route: str = "new-issues",
    target: str = TARGET,
    status: DeliveryStatus = DeliveryStatus.PENDING,
    idempotent: bool = False,
    max_attempts: int = 3,
    retry_policy: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
    error: str | None = None,
) -> NewDelivery:
    return NewDelivery(
        id=id or f"dlv_{next(_counter):06d}",
        route=route,
        target=target,
        function_id="fn_1",
        variables={"issue": 7} if variables is None else variables,
        stream=False,
        max_attempts=max_attempts,
        retry_policy={"max_attempts": max_attempts} if retry_policy is None else retry_policy,
        idempotent=idempotent,
        status=status,
        error=error,
    )


def event(
    *deliveries: NewDelivery,
    id: str | None = None,
    source: str = "github",
    dedupe_key: str | None = None,
    received_at: float = NOW,
    status: EventStatus = EventStatus.ROUTED,
) -> NewEvent:
    return NewEvent(
        id=id or f"evt_{next(_counter):06d}",
        source=source,
        dedupe_key=dedupe_key,
        provider_event_id=dedupe_key,
        event_type="issues",
        received_at=received_at,
        body=b'{"action": "opened"}',
        headers={"x-github-event": "issues"},
        query={"tag": "a"},
        status=status,
        deliveries=deliveries,
    )


def result(
    status: DeliveryStatus,
    *,
    at: float = NOW + 1,
    outcome: str = "succeeded",
    next_attempt_at: float | None = None,
    **fields: Any,
) -> AttemptResult:
    return AttemptResult(
        finished_at=at,
        duration_ms=12.5,
        outcome=outcome,
        new_status=status,
        next_attempt_at=next_attempt_at,
        **fields,
    )


async def claim_one(
    store: SqliteStore, now: float = NOW, owner: str = OWNER, target: str = TARGET
) -> ClaimedDelivery:
    claimed = await store.claim(target, 1, now, owner, LEASE)
    assert len(claimed) == 1
    return claimed[0]


def ids(records: Sequence[Any]) -> list[str]:
    return [r.id for r in records]


# insert ----------------------------------------------------------------------------------


async def test_insert_event_stores_the_event_and_its_deliveries(store: SqliteStore) -> None:
    first = delivery(route="a", variables={"n": 1, "s": "été"})
    second = delivery(route="b", idempotent=True, retry_policy={"initial": 1.0})
    new = event(first, second, dedupe_key="gh-1")

    inserted = await store.insert_event(new)

    assert inserted.event_id == new.id
    assert inserted.duplicate is False
    stored = await store.get_event(new.id)
    assert stored is not None
    assert stored.source == "github"
    assert stored.provider_event_id == "gh-1"
    assert stored.event_type == "issues"
    assert stored.received_at == NOW
    assert stored.status is EventStatus.ROUTED
    assert stored.error is None
    assert stored.body == b'{"action": "opened"}'
    assert stored.headers == {"x-github-event": "issues"}
    assert stored.query == {"tag": "a"}
    assert stored.duplicates == 0

    a = await store.get_delivery(first.id)
    assert a is not None
    assert a.event_id == new.id
    assert a.route == "a"
    assert a.target == TARGET
    assert a.function_id == "fn_1"
    assert a.variables == {"n": 1, "s": "été"}
    assert a.stream is False
    assert a.status is DeliveryStatus.PENDING
    assert a.attempts == 0
    assert a.max_attempts == 3
    assert a.retry_policy == {"max_attempts": 3}
    assert a.idempotent is False
    assert a.next_attempt_at == NOW
    assert a.created_at == a.updated_at == NOW
    assert a.last_error is None
    assert a.function_run_id is None
    assert a.run_status is None
    b = await store.get_delivery(second.id)
    assert b is not None
    assert b.idempotent is True
    assert b.retry_policy == {"initial": 1.0}
    assert sorted(ids(await store.list_deliveries(event_id=new.id))) == sorted(
        [first.id, second.id]
    )


async def test_insert_event_without_deliveries(store: SqliteStore) -> None:
    new = event(status=EventStatus.UNROUTED)
    await store.insert_event(new)
    stored = await store.get_event(new.id)
    assert stored is not None
    assert stored.status is EventStatus.UNROUTED
    assert await store.list_deliveries(event_id=new.id) == []


async def test_unknown_ids_read_as_none(store: SqliteStore) -> None:
    assert await store.get_event("evt_missing") is None
    assert await store.get_delivery("dlv_missing") is None
    assert await store.list_attempts("dlv_missing") == []


async def test_duplicate_dedupe_key_returns_first_event_id(store: SqliteStore) -> None:
    first = event(delivery(), dedupe_key="gh-1")
    again = event(delivery(), dedupe_key="gh-1", received_at=NOW + 5)
    await store.insert_event(first)

    inserted = await store.insert_event(again)

    assert inserted.event_id == first.id
    assert inserted.duplicate is True
    assert await store.get_event(again.id) is None
    assert await store.get_delivery(again.deliveries[0].id) is None
    assert ids(await store.list_events()) == [first.id]
    assert len(await store.list_deliveries()) == 1
    stored = await store.get_event(first.id)
    assert stored is not None
    assert stored.duplicates == 1


async def test_each_duplicate_increments_the_count(store: SqliteStore) -> None:
    first = event(dedupe_key="gh-1")
    await store.insert_event(first)
    for _ in range(3):
        assert (await store.insert_event(event(dedupe_key="gh-1"))).duplicate
    stored = await store.get_event(first.id)
    assert stored is not None
    assert stored.duplicates == 3


async def test_same_dedupe_key_on_another_source_is_not_a_duplicate(store: SqliteStore) -> None:
    github = event(delivery(), source="github", dedupe_key="k-1")
    stripe = event(delivery(), source="stripe", dedupe_key="k-1")
    await store.insert_event(github)

    inserted = await store.insert_event(stripe)

    assert inserted.event_id == stripe.id
    assert inserted.duplicate is False
    assert len(await store.list_events()) == 2
    assert len(await store.list_deliveries()) == 2


async def test_none_dedupe_key_never_dedupes(store: SqliteStore) -> None:
    results = [await store.insert_event(event(delivery())) for _ in range(3)]
    assert [r.duplicate for r in results] == [False, False, False]
    assert len({r.event_id for r in results}) == 3
    assert len(await store.list_deliveries()) == 3


# claim -----------------------------------------------------------------------------------


async def test_claim_respects_limit(store: SqliteStore) -> None:
    await store.insert_event(event(delivery(), delivery(), delivery()))
    assert len(await store.claim(TARGET, 2, NOW, OWNER, LEASE)) == 2
    assert len(await store.claim(TARGET, 2, NOW, OWNER, LEASE)) == 1
    assert await store.claim(TARGET, 2, NOW, OWNER, LEASE) == []


async def test_claim_with_zero_limit_claims_nothing(store: SqliteStore) -> None:
    await store.insert_event(event(delivery()))
    assert await store.claim(TARGET, 0, NOW, OWNER, LEASE) == []
    assert len(await store.list_deliveries(status="pending")) == 1


async def test_claim_only_takes_deliveries_of_its_target(store: SqliteStore) -> None:
    mine = delivery(target=TARGET)
    other = delivery(target="other")
    await store.insert_event(event(mine, other))

    claimed = await store.claim(TARGET, 10, NOW, OWNER, LEASE)

    assert [c.delivery.id for c in claimed] == [mine.id]
    untouched = await store.get_delivery(other.id)
    assert untouched is not None
    assert untouched.status is DeliveryStatus.PENDING


async def test_delivery_due_later_is_not_claimed(store: SqliteStore) -> None:
    later = delivery()
    await store.insert_event(event(later, received_at=NOW + 60))

    assert await store.claim(TARGET, 10, NOW, OWNER, LEASE) == []
    assert await store.claim(TARGET, 10, NOW + 59.999, OWNER, LEASE) == []
    claimed = await store.claim(TARGET, 10, NOW + 60, OWNER, LEASE)
    assert [c.delivery.id for c in claimed] == [later.id]


async def test_claim_orders_by_due_time(store: SqliteStore) -> None:
    third, first, second = delivery(), delivery(), delivery()
    await store.insert_event(event(third, received_at=NOW + 3))
    await store.insert_event(event(first, received_at=NOW + 1))
    await store.insert_event(event(second, received_at=NOW + 2))

    earliest = await store.claim(TARGET, 1, NOW + 10, OWNER, LEASE)
    rest = await store.claim(TARGET, 10, NOW + 10, OWNER, LEASE)

    assert [c.delivery.id for c in earliest] == [first.id]
    assert [c.delivery.id for c in rest] == [second.id, third.id]


async def test_claim_opens_an_attempt_and_marks_the_delivery_in_flight(
    store: SqliteStore,
) -> None:
    new = delivery()
    await store.insert_event(event(new))

    claimed = await claim_one(store, now=NOW + 5)

    assert claimed.attempt_number == 1
    assert claimed.delivery.id == new.id
    assert claimed.delivery.status is DeliveryStatus.IN_FLIGHT
    assert claimed.delivery.attempts == 1
    assert claimed.delivery.next_attempt_at is None
    assert claimed.delivery.updated_at == NOW + 5
    assert await store.get_delivery(new.id) == claimed.delivery
    [attempt] = await store.list_attempts(new.id)
    assert attempt.id == claimed.attempt_id
    assert attempt.delivery_id == new.id
    assert attempt.number == 1
    assert attempt.started_at == NOW + 5
    assert attempt.finished_at is None
    assert attempt.duration_ms is None
    assert attempt.outcome is None
    assert attempt.logs == ()


async def test_in_flight_delivery_is_not_claimed_twice(store: SqliteStore) -> None:
    await store.insert_event(event(delivery()))
    await claim_one(store)
    assert await store.claim(TARGET, 10, NOW + 1000, "relay-b", LEASE) == []


async def test_concurrent_claims_never_share_a_delivery(store: SqliteStore) -> None:
    await store.insert_event(event(*(delivery() for _ in range(5))))

    batches = await asyncio.gather(
        *(store.claim(TARGET, 3, NOW, f"owner-{i}", LEASE) for i in range(4))
    )

    claimed = [c.delivery.id for batch in batches for c in batch]
    assert len(claimed) == 5
    assert len(set(claimed)) == 5


async def test_mapping_failed_delivery_is_never_claimed(store: SqliteStore) -> None:
    failed = delivery(status=DeliveryStatus.MAPPING_FAILED, error="missing variable 'issue'")
    await store.insert_event(event(failed))

    assert await store.claim(TARGET, 10, NOW + 1e9, OWNER, LEASE) == []
    assert await store.next_due_at(TARGET) is None
    stored = await store.get_delivery(failed.id)
    assert stored is not None
    assert stored.status is DeliveryStatus.MAPPING_FAILED
    assert stored.next_attempt_at is None
    assert stored.last_error == "missing variable 'issue'"


# finish_attempt --------------------------------------------------------------------------


async def test_finish_attempt_records_every_field(store: SqliteStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    claimed = await claim_one(store)

    await store.finish_attempt(
        claimed,
        result(
            DeliveryStatus.SUCCEEDED,
            at=NOW + 2,
            outcome="succeeded",
            status_code=200,
            error="note",
            function_run_id="run_1",
            session_id="sess_1",
            run_status="closed",
            result={"items": [1, 2], "label": "été", "none": None},
            logs=("Starting function...", "done"),
        ),
    )

    [attempt] = await store.list_attempts(new.id)
    assert attempt.id == claimed.attempt_id
    assert attempt.finished_at == NOW + 2
    assert attempt.duration_ms == 12.5
    assert attempt.outcome == "succeeded"
    assert attempt.status_code == 200
    assert attempt.error == "note"
    assert attempt.function_run_id == "run_1"
    assert attempt.session_id == "sess_1"
    assert attempt.run_status == "closed"
    assert attempt.result == {"items": [1, 2], "label": "été", "none": None}
    assert attempt.logs == ("Starting function...", "done")
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.status is DeliveryStatus.SUCCEEDED
    assert stored.attempts == 1
    assert stored.next_attempt_at is None
    assert stored.updated_at == NOW + 2
    assert stored.last_error == "note"
    assert stored.function_run_id == "run_1"
    assert stored.run_status == "closed"


async def test_finish_attempt_with_no_result_stores_none(store: SqliteStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    claimed = await claim_one(store)
    await store.finish_attempt(claimed, result(DeliveryStatus.DEAD, outcome="fatal"))
    [attempt] = await store.list_attempts(new.id)
    assert attempt.result is None
    assert attempt.logs == ()
    assert attempt.status_code is None


async def test_retry_scheduled_delivery_is_claimable_again_once_due(store: SqliteStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    first = await claim_one(store)
    await store.finish_attempt(
        first,
        result(
            DeliveryStatus.RETRY_SCHEDULED,
            outcome="retryable",
            next_attempt_at=NOW + 30,
            status_code=503,
            error="HTTP 503: busy",
        ),
    )

    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.status is DeliveryStatus.RETRY_SCHEDULED
    assert stored.next_attempt_at == NOW + 30
    assert stored.last_error == "HTTP 503: busy"
    assert await store.next_due_at(TARGET) == NOW + 30
    assert await store.claim(TARGET, 10, NOW + 29, OWNER, LEASE) == []

    second = await claim_one(store, now=NOW + 30)

    assert second.delivery.id == new.id
    assert second.attempt_number == 2
    assert second.delivery.attempts == 2
    attempts = await store.list_attempts(new.id)
    assert [a.number for a in attempts] == [1, 2]
    assert attempts[0].outcome == "retryable"
    assert attempts[0].status_code == 503
    assert attempts[1].finished_at is None


async def test_later_attempt_without_run_id_keeps_the_known_one(store: SqliteStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    first = await claim_one(store)
    await store.finish_attempt(
        first,
        result(
            DeliveryStatus.RETRY_SCHEDULED,
            next_attempt_at=NOW + 1,
            function_run_id="run_1",
            run_status="active",
        ),
    )
    second = await claim_one(store, now=NOW + 1)
    await store.finish_attempt(second, result(DeliveryStatus.DEAD, at=NOW + 2, outcome="fatal"))
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.function_run_id == "run_1"
    assert stored.run_status == "active"


async def test_finish_attempt_after_recovery_does_not_move_the_delivery(
    store: SqliteStore,
) -> None:
    new = delivery()
    await store.insert_event(event(new))
    claimed = await claim_one(store)
    await store.recover_expired(NOW + LEASE + 1)

    await store.finish_attempt(claimed, result(DeliveryStatus.SUCCEEDED, at=NOW + LEASE + 2))

    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.status is DeliveryStatus.NEEDS_REVIEW


# recover_expired -------------------------------------------------------------------------


async def test_expired_lease_of_non_idempotent_delivery_needs_review(store: SqliteStore) -> None:
    new = delivery(idempotent=False)
    await store.insert_event(event(new))
    claimed = await claim_one(store)

    assert await store.recover_expired(NOW + LEASE - 1) == []
    handled = await store.recover_expired(NOW + LEASE + 1)

    assert handled == [new.id]
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.status is DeliveryStatus.NEEDS_REVIEW
    assert stored.next_attempt_at is None
    assert stored.last_error is not None
    [attempt] = await store.list_attempts(new.id)
    assert attempt.id == claimed.attempt_id
    assert attempt.outcome == "ambiguous"
    assert attempt.finished_at == NOW + LEASE + 1
    assert attempt.error is not None
    assert await store.claim(TARGET, 10, NOW + 1e6, OWNER, LEASE) == []


async def test_expired_lease_of_idempotent_delivery_goes_back_to_pending(
    store: SqliteStore,
) -> None:
    new = delivery(idempotent=True)
    await store.insert_event(event(new))
    await claim_one(store)
    later = NOW + LEASE + 1

    assert await store.recover_expired(later) == [new.id]

    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.status is DeliveryStatus.PENDING
    assert stored.next_attempt_at == later
    [attempt] = await store.list_attempts(new.id)
    assert attempt.outcome == "ambiguous"
    again = await claim_one(store, now=later)
    assert again.delivery.id == new.id
    assert again.attempt_number == 2


async def test_recover_expired_leaves_live_leases_and_finished_deliveries(
    store: SqliteStore,
) -> None:
    done, live = delivery(), delivery()
    await store.insert_event(event(done, live))
    first = await claim_one(store)
    await store.finish_attempt(first, result(DeliveryStatus.SUCCEEDED))
    await store.claim(TARGET, 1, NOW + 100, OWNER, LEASE)

    assert await store.recover_expired(NOW + 101) == []
    finished = await store.get_delivery(first.delivery.id)
    assert finished is not None
    assert finished.status is DeliveryStatus.SUCCEEDED


async def test_recover_expired_with_owner_reclaims_only_other_owners_leases(
    store: SqliteStore,
) -> None:
    await store.insert_event(event(delivery(), delivery(), delivery()))
    mine = await claim_one(store, owner="relay-a")
    theirs = await store.claim(TARGET, 2, NOW, "relay-b", LEASE)

    # The leases have not expired: with an owner, every lease not held by it is taken back.
    handled = await store.recover_expired(NOW + 1, owner="relay-a")

    assert sorted(handled) == sorted(c.delivery.id for c in theirs)
    kept = await store.get_delivery(mine.delivery.id)
    assert kept is not None
    assert kept.status is DeliveryStatus.IN_FLIGHT
    for claimed in theirs:
        stored = await store.get_delivery(claimed.delivery.id)
        assert stored is not None
        assert stored.status is DeliveryStatus.NEEDS_REVIEW
    [open_attempt] = await store.list_attempts(mine.delivery.id)
    assert open_attempt.finished_at is None


# replay ----------------------------------------------------------------------------------


async def test_replay_of_dead_delivery_requeues_it_with_a_fresh_budget(
    store: SqliteStore,
) -> None:
    new = delivery(max_attempts=2, retry_policy={"max_attempts": 2})
    await store.insert_event(event(new))
    first = await claim_one(store)
    await store.finish_attempt(
        first, result(DeliveryStatus.RETRY_SCHEDULED, outcome="retryable", next_attempt_at=NOW)
    )
    second = await claim_one(store)
    await store.finish_attempt(
        second, result(DeliveryStatus.DEAD, outcome="retryable", error="HTTP 503")
    )

    replayed = await store.replay(new.id, NOW + 100)

    assert replayed.status is DeliveryStatus.PENDING
    assert replayed.attempts == 2
    assert replayed.max_attempts == 4
    assert replayed.next_attempt_at == NOW + 100
    assert replayed.updated_at == NOW + 100
    assert replayed.last_error is None
    assert await store.get_delivery(new.id) == replayed
    again = await claim_one(store, now=NOW + 100)
    assert again.attempt_number == 3


async def test_replay_budget_falls_back_to_max_attempts(store: SqliteStore) -> None:
    new = delivery(max_attempts=5, retry_policy={})
    await store.insert_event(event(new))
    await store.finish_attempt(await claim_one(store), result(DeliveryStatus.DEAD))
    replayed = await store.replay(new.id, NOW)
    assert replayed.max_attempts == 1 + 5


@pytest.mark.parametrize(
    "status",
    [
        DeliveryStatus.DEAD,
        DeliveryStatus.FAILED,
        DeliveryStatus.NEEDS_REVIEW,
        DeliveryStatus.SUCCEEDED,
    ],
)
async def test_finished_delivery_can_be_replayed(
    store: SqliteStore, status: DeliveryStatus
) -> None:
    new = delivery()
    await store.insert_event(event(new))
    await store.finish_attempt(await claim_one(store), result(status))
    replayed = await store.replay(new.id, NOW + 5)
    assert replayed.status is DeliveryStatus.PENDING
    assert len(await store.claim(TARGET, 10, NOW + 5, OWNER, LEASE)) == 1


async def test_cancelled_delivery_can_be_replayed(store: SqliteStore) -> None:
    new = delivery(status=DeliveryStatus.CANCELLED)
    await store.insert_event(event(new))
    replayed = await store.replay(new.id, NOW)
    assert replayed.status is DeliveryStatus.PENDING
    assert replayed.max_attempts == 0 + 3


async def test_replay_of_pending_delivery_raises_value_error(store: SqliteStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    with pytest.raises(ValueError, match="pending"):
        await store.replay(new.id, NOW)


async def test_replay_of_in_flight_delivery_raises_value_error(store: SqliteStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    await claim_one(store)
    with pytest.raises(ValueError, match="in_flight"):
        await store.replay(new.id, NOW)
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.status is DeliveryStatus.IN_FLIGHT


@pytest.mark.parametrize("status", [DeliveryStatus.RETRY_SCHEDULED, DeliveryStatus.MAPPING_FAILED])
async def test_replay_of_unfinished_or_unmapped_delivery_raises_value_error(
    store: SqliteStore, status: DeliveryStatus
) -> None:
    new = delivery()
    await store.insert_event(event(new))
    if status is DeliveryStatus.RETRY_SCHEDULED:
        await store.finish_attempt(await claim_one(store), result(status, next_attempt_at=NOW + 60))
    else:
        new = delivery(status=status)
        await store.insert_event(event(new))
    with pytest.raises(ValueError, match=status.value):
        await store.replay(new.id, NOW)


async def test_replay_of_unknown_delivery_raises_key_error(store: SqliteStore) -> None:
    with pytest.raises(KeyError):
        await store.replay("dlv_missing", NOW)


# listing ---------------------------------------------------------------------------------


async def test_list_events_is_newest_first_and_filters(store: SqliteStore) -> None:
    a = event(id="evt_0001", source="github")
    b = event(id="evt_0002", source="stripe", status=EventStatus.UNROUTED)
    c = event(id="evt_0003", source="github", status=EventStatus.UNPROCESSABLE)
    for new in (a, b, c):
        await store.insert_event(new)

    assert ids(await store.list_events()) == [c.id, b.id, a.id]
    assert ids(await store.list_events(limit=2)) == [c.id, b.id]
    assert ids(await store.list_events(source="github")) == [c.id, a.id]
    assert ids(await store.list_events(status="unrouted")) == [b.id]
    assert ids(await store.list_events(source="github", status="routed")) == [a.id]
    assert await store.list_events(source="nobody") == []


async def test_list_deliveries_is_newest_first_and_filters(store: SqliteStore) -> None:
    d1 = delivery(id="dlv_0001", route="a")
    d2 = delivery(id="dlv_0002", route="b", status=DeliveryStatus.MAPPING_FAILED)
    d3 = delivery(id="dlv_0003", route="a")
    e1 = event(d1, d2, id="evt_0001")
    e2 = event(d3, id="evt_0002")
    await store.insert_event(e1)
    await store.insert_event(e2)

    assert ids(await store.list_deliveries()) == [d3.id, d2.id, d1.id]
    assert ids(await store.list_deliveries(limit=1)) == [d3.id]
    assert ids(await store.list_deliveries(route="a")) == [d3.id, d1.id]
    assert ids(await store.list_deliveries(event_id=e1.id)) == [d2.id, d1.id]
    assert ids(await store.list_deliveries(status="mapping_failed")) == [d2.id]
    assert ids(await store.list_deliveries(status="pending")) == [d3.id, d1.id]
    assert ids(await store.list_deliveries(status="pending", route="a", event_id=e2.id)) == [d3.id]
    assert await store.list_deliveries(route="nowhere") == []


async def test_next_due_at_is_the_earliest_claimable_of_the_target(store: SqliteStore) -> None:
    assert await store.next_due_at(TARGET) is None
    await store.insert_event(event(delivery(), received_at=NOW + 20))
    await store.insert_event(event(delivery(), received_at=NOW + 10))
    await store.insert_event(event(delivery(target="other"), received_at=NOW + 1))

    assert await store.next_due_at(TARGET) == NOW + 10
    assert await store.next_due_at("other") == NOW + 1
    await claim_one(store, now=NOW + 10)
    assert await store.next_due_at(TARGET) == NOW + 20
    await claim_one(store, now=NOW + 20)
    assert await store.next_due_at(TARGET) is None


async def test_ping_answers_while_open(store: SqliteStore) -> None:
    assert await store.ping() is True


async def test_ping_after_close_is_false(store: SqliteStore) -> None:
    await store.close()
    assert await store.ping() is False


async def test_writes_after_close_raise_store_unavailable(store: SqliteStore) -> None:
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.insert_event(event())


async def test_two_memory_stores_are_independent() -> None:
    one, two = SqliteStore(":memory:"), SqliteStore(":memory:")
    await one.open()
    await two.open()
    try:
        await one.insert_event(event())
        assert len(await one.list_events()) == 1
        assert await two.list_events() == []
    finally:
        await one.close()
        await two.close()


# durability ------------------------------------------------------------------------------


async def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "relay.db"
    new = delivery()
    pending = delivery()
    first = SqliteStore(path)
    await first.open()
    try:
        await first.insert_event(event(new, pending, dedupe_key="gh-1"))
        claimed = await claim_one(first)
        await first.finish_attempt(
            claimed, result(DeliveryStatus.SUCCEEDED, function_run_id="run_1", logs=("hi",))
        )
        before_delivery = await first.get_delivery(claimed.delivery.id)
        before_attempts = await first.list_attempts(claimed.delivery.id)
        before_events = await first.list_events()
    finally:
        await first.close()

    second = SqliteStore(path)
    await second.open()
    try:
        assert await second.list_events() == before_events
        assert await second.get_delivery(claimed.delivery.id) == before_delivery
        assert await second.list_attempts(claimed.delivery.id) == before_attempts
        assert (await second.insert_event(event(dedupe_key="gh-1"))).duplicate is True
        assert len(await second.claim(TARGET, 10, NOW, OWNER, LEASE)) == 1
    finally:
        await second.close()
    with sqlite3.connect(path) as conn:
        versions = conn.execute("SELECT version FROM relay_schema").fetchall()
        assert versions == [(n,) for n in range(1, len(MIGRATIONS) + 1)]


async def test_open_uses_wal_mode(file_store: SqliteStore) -> None:
    with sqlite3.connect(file_store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


# group commit ----------------------------------------------------------------------------


async def test_concurrent_inserts_share_commits(store: SqliteStore) -> None:
    commits_before, writes_before = store.group_commit_stats
    events = [event(delivery(), dedupe_key=f"k-{i}") for i in range(200)]

    results = await asyncio.gather(*(store.insert_event(e) for e in events))

    assert [r.event_id for r in results] == [e.id for e in events]
    assert not any(r.duplicate for r in results)
    commits, writes = store.group_commit_stats
    assert writes - writes_before == 200
    assert commits - commits_before < writes - writes_before
    assert len(await store.list_events(limit=1000)) == 200
    assert len(await store.list_deliveries(limit=1000)) == 200


async def _in_one_batch(store: SqliteStore, events: list[NewEvent]) -> list[Any]:
    """Insert ``events`` concurrently, holding the writer so that they share one commit."""
    started, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> None:
        started.set()
        release.wait(5)

    holder = asyncio.ensure_future(store._writer.submit(hold))
    await asyncio.to_thread(started.wait, 5)
    commits_before, _ = store.group_commit_stats
    inserts = asyncio.gather(*(store.insert_event(e) for e in events), return_exceptions=True)
    await asyncio.sleep(0)  # each insert task runs up to its queued write
    assert store._writer._queue.qsize() == len(events)
    release.set()
    await holder
    outcomes = list(await inserts)
    commits, _ = store.group_commit_stats
    assert commits - commits_before == 2, "the holder's batch, then one batch for all inserts"
    return outcomes


async def test_failing_write_fails_only_its_caller(store: SqliteStore) -> None:
    existing = event(delivery())
    await store.insert_event(existing)
    before = event(delivery())
    clash = event(delivery(), id=existing.id)  # duplicate primary key
    after = event(delivery())

    outcomes = await _in_one_batch(store, [before, clash, after])

    assert outcomes[0].event_id == before.id
    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert outcomes[2].event_id == after.id
    assert sorted(ids(await store.list_events())) == sorted([existing.id, before.id, after.id])
    assert await store.get_delivery(clash.deliveries[0].id) is None


async def test_failing_write_is_rolled_back_as_a_whole(store: SqliteStore) -> None:
    existing = delivery()
    await store.insert_event(event(existing))
    ok = event(delivery())
    # The event row inserts, then its second delivery clashes: the event must not remain.
    broken = event(delivery(), delivery(id=existing.id))

    outcomes = await _in_one_batch(store, [ok, broken])

    assert outcomes[0].event_id == ok.id
    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert await store.get_event(broken.id) is None
    assert await store.get_delivery(broken.deliveries[0].id) is None
    assert await store.get_event(ok.id) is not None


# open_store ------------------------------------------------------------------------------


def _sqlite(url: str | None) -> SqliteStore:
    opened = open_store(url)
    assert isinstance(opened, SqliteStore)
    return opened


async def test_open_store_relative_sqlite_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    opened = _sqlite("sqlite:///rel.db")
    assert opened.path == "rel.db"
    await opened.open()
    try:
        await opened.insert_event(event())
    finally:
        await opened.close()
    assert (tmp_path / "rel.db").is_file()


async def test_open_store_absolute_sqlite_url(tmp_path: Path) -> None:
    path = tmp_path / "abs" / "path.db"
    assert str(path).startswith("/")
    opened = _sqlite(f"sqlite:///{path}")  # sqlite:////tmp/.../path.db
    assert opened.path == str(path)
    await opened.open()
    await opened.close()
    assert path.is_file()


def test_open_store_four_slashes_is_an_absolute_path() -> None:
    assert _sqlite("sqlite:////abs/path.db").path == "/abs/path.db"


def test_open_store_plain_path(tmp_path: Path) -> None:
    assert _sqlite(str(tmp_path / "plain.db")).path == str(tmp_path / "plain.db")
    assert _sqlite("relative/plain.db").path == "relative/plain.db"


@pytest.mark.parametrize("url", [":memory:", "sqlite://"])
def test_open_store_memory(url: str) -> None:
    assert _sqlite(url).path == ":memory:"


def test_open_store_default_is_a_local_file() -> None:
    assert _sqlite(None).path == "./relay.db"
    assert _sqlite("").path == "./relay.db"


@pytest.mark.parametrize(
    "url",
    ["postgresql://user@localhost/relay", "postgres://localhost/relay", "mysql://localhost/db"],
)
def test_open_store_rejects_other_databases(url: str) -> None:
    with pytest.raises(ValueError, match=r"PostgreSQL|unsupported"):
        open_store(url)
