"""The store Protocol, the same tests on every backend (see conftest.py): SQLite on a file
and in memory, and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from relay.store.base import DeliveryStatus, EventStatus, StoreUnavailable
from relay.store.log_queries import AttemptQuery, DeliveryQuery, EventQuery
from tests.unit.store.builders import (
    LEASE,
    NOW,
    OWNER,
    TARGET,
    AnyStore,
    claim_one,
    delivery,
    event,
    ids,
    result,
)

# insert ----------------------------------------------------------------------------------


async def test_insert_event_stores_the_event_and_its_deliveries(store: AnyStore) -> None:
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
    assert sorted(ids(await store.query_deliveries(DeliveryQuery(event_ids=(new.id,))))) == sorted(
        [first.id, second.id]
    )


async def test_insert_event_without_deliveries(store: AnyStore) -> None:
    new = event(status=EventStatus.UNROUTED)
    await store.insert_event(new)
    stored = await store.get_event(new.id)
    assert stored is not None
    assert stored.status is EventStatus.UNROUTED
    assert await store.query_deliveries(DeliveryQuery(event_ids=(new.id,))) == []


async def test_unknown_ids_read_as_none(store: AnyStore) -> None:
    assert await store.get_event("evt_missing") is None
    assert await store.get_delivery("dlv_missing") is None
    assert (
        await store.query_attempts(AttemptQuery(delivery_id="dlv_missing", whole_delivery=True))
        == []
    )


async def test_duplicate_dedupe_key_returns_first_event_id(store: AnyStore) -> None:
    first = event(delivery(), dedupe_key="gh-1")
    again = event(delivery(), dedupe_key="gh-1", received_at=NOW + 5)
    await store.insert_event(first)

    inserted = await store.insert_event(again)

    assert inserted.event_id == first.id
    assert inserted.duplicate is True
    assert await store.get_event(again.id) is None
    assert await store.get_delivery(again.deliveries[0].id) is None
    assert ids(await store.query_events(EventQuery())) == [first.id]
    assert len(await store.query_deliveries(DeliveryQuery())) == 1
    stored = await store.get_event(first.id)
    assert stored is not None
    assert stored.duplicates == 1


async def test_each_duplicate_increments_the_count(store: AnyStore) -> None:
    first = event(dedupe_key="gh-1")
    await store.insert_event(first)
    for _ in range(3):
        assert (await store.insert_event(event(dedupe_key="gh-1"))).duplicate
    stored = await store.get_event(first.id)
    assert stored is not None
    assert stored.duplicates == 3


async def test_same_dedupe_key_on_another_source_is_not_a_duplicate(store: AnyStore) -> None:
    github = event(delivery(), source="github", dedupe_key="k-1")
    stripe = event(delivery(), source="stripe", dedupe_key="k-1")
    await store.insert_event(github)

    inserted = await store.insert_event(stripe)

    assert inserted.event_id == stripe.id
    assert inserted.duplicate is False
    assert len(await store.query_events(EventQuery())) == 2
    assert len(await store.query_deliveries(DeliveryQuery())) == 2


async def test_none_dedupe_key_never_dedupes(store: AnyStore) -> None:
    results = [await store.insert_event(event(delivery())) for _ in range(3)]
    assert [r.duplicate for r in results] == [False, False, False]
    assert len({r.event_id for r in results}) == 3
    assert len(await store.query_deliveries(DeliveryQuery())) == 3


# claim -----------------------------------------------------------------------------------


async def test_claim_respects_limit(store: AnyStore) -> None:
    await store.insert_event(event(delivery(), delivery(), delivery()))
    assert len(await store.claim(TARGET, 2, NOW, OWNER, LEASE)) == 2
    assert len(await store.claim(TARGET, 2, NOW, OWNER, LEASE)) == 1
    assert await store.claim(TARGET, 2, NOW, OWNER, LEASE) == []


async def test_claim_with_zero_limit_claims_nothing(store: AnyStore) -> None:
    await store.insert_event(event(delivery()))
    assert await store.claim(TARGET, 0, NOW, OWNER, LEASE) == []
    assert len(await store.query_deliveries(DeliveryQuery(statuses=(DeliveryStatus.PENDING,)))) == 1


async def test_claim_only_takes_deliveries_of_its_target(store: AnyStore) -> None:
    mine = delivery(target=TARGET)
    other = delivery(target="other")
    await store.insert_event(event(mine, other))

    claimed = await store.claim(TARGET, 10, NOW, OWNER, LEASE)

    assert [c.delivery.id for c in claimed] == [mine.id]
    untouched = await store.get_delivery(other.id)
    assert untouched is not None
    assert untouched.status is DeliveryStatus.PENDING


async def test_delivery_due_later_is_not_claimed(store: AnyStore) -> None:
    later = delivery()
    await store.insert_event(event(later, received_at=NOW + 60))

    assert await store.claim(TARGET, 10, NOW, OWNER, LEASE) == []
    assert await store.claim(TARGET, 10, NOW + 59.999, OWNER, LEASE) == []
    claimed = await store.claim(TARGET, 10, NOW + 60, OWNER, LEASE)
    assert [c.delivery.id for c in claimed] == [later.id]


async def test_claim_orders_by_due_time(store: AnyStore) -> None:
    third, first, second = delivery(), delivery(), delivery()
    await store.insert_event(event(third, received_at=NOW + 3))
    await store.insert_event(event(first, received_at=NOW + 1))
    await store.insert_event(event(second, received_at=NOW + 2))

    earliest = await store.claim(TARGET, 1, NOW + 10, OWNER, LEASE)
    rest = await store.claim(TARGET, 10, NOW + 10, OWNER, LEASE)

    assert [c.delivery.id for c in earliest] == [first.id]
    assert [c.delivery.id for c in rest] == [second.id, third.id]


async def test_claim_opens_an_attempt_and_marks_the_delivery_in_flight(
    store: AnyStore,
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
    [attempt] = await store.query_attempts(AttemptQuery(delivery_id=new.id, whole_delivery=True))
    assert attempt.id == claimed.attempt_id
    assert attempt.delivery_id == new.id
    assert attempt.number == 1
    assert attempt.started_at == NOW + 5
    assert attempt.finished_at is None
    assert attempt.duration_ms is None
    assert attempt.outcome is None
    assert attempt.logs == ()


async def test_in_flight_delivery_is_not_claimed_twice(store: AnyStore) -> None:
    await store.insert_event(event(delivery()))
    await claim_one(store)
    assert await store.claim(TARGET, 10, NOW + 1000, "relay-b", LEASE) == []


async def test_concurrent_claims_never_share_a_delivery(store: AnyStore) -> None:
    await store.insert_event(event(*(delivery() for _ in range(5))))

    batches = await asyncio.gather(
        *(store.claim(TARGET, 3, NOW, f"owner-{i}", LEASE) for i in range(4))
    )

    claimed = [c.delivery.id for batch in batches for c in batch]
    assert len(claimed) == 5
    assert len(set(claimed)) == 5


async def test_mapping_failed_delivery_is_never_claimed(store: AnyStore) -> None:
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


async def test_finish_attempt_records_every_field(store: AnyStore) -> None:
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

    [attempt] = await store.query_attempts(AttemptQuery(delivery_id=new.id, whole_delivery=True))
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


async def test_finish_attempt_with_no_result_stores_none(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    claimed = await claim_one(store)
    await store.finish_attempt(claimed, result(DeliveryStatus.DEAD, outcome="fatal"))
    [attempt] = await store.query_attempts(AttemptQuery(delivery_id=new.id, whole_delivery=True))
    assert attempt.result is None
    assert attempt.logs == ()
    assert attempt.status_code is None


async def test_retry_scheduled_delivery_is_claimable_again_once_due(store: AnyStore) -> None:
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
    attempts = await store.query_attempts(AttemptQuery(delivery_id=new.id, whole_delivery=True))
    assert [a.number for a in attempts] == [1, 2]
    assert attempts[0].outcome == "retryable"
    assert attempts[0].status_code == 503
    assert attempts[1].finished_at is None


async def test_a_new_attempt_forgets_the_run_of_the_previous_one(store: AnyStore) -> None:
    """The delivery's run id is its current attempt's run: a later attempt starts a new run
    (the earlier one stays on its attempt row), so a crash during it is never settled by
    looking at the earlier run."""
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
    assert second.delivery.function_run_id is None
    await store.finish_attempt(second, result(DeliveryStatus.DEAD, at=NOW + 2, outcome="fatal"))
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.function_run_id is None
    assert stored.run_status is None
    attempts = await store.query_attempts(AttemptQuery(delivery_id=new.id, whole_delivery=True))
    assert [a.function_run_id for a in attempts] == ["run_1", None]


async def test_finish_attempt_after_recovery_does_not_move_the_delivery(
    store: AnyStore,
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


async def test_expired_lease_of_non_idempotent_delivery_needs_review(store: AnyStore) -> None:
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
    [attempt] = await store.query_attempts(AttemptQuery(delivery_id=new.id, whole_delivery=True))
    assert attempt.id == claimed.attempt_id
    assert attempt.outcome == "ambiguous"
    assert attempt.finished_at == NOW + LEASE + 1
    assert attempt.error is not None
    assert await store.claim(TARGET, 10, NOW + 1e6, OWNER, LEASE) == []


async def test_expired_lease_of_idempotent_delivery_goes_back_to_pending(
    store: AnyStore,
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
    [attempt] = await store.query_attempts(AttemptQuery(delivery_id=new.id, whole_delivery=True))
    assert attempt.outcome == "ambiguous"
    again = await claim_one(store, now=later)
    assert again.delivery.id == new.id
    assert again.attempt_number == 2


async def test_recover_expired_leaves_live_leases_and_finished_deliveries(
    store: AnyStore,
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
    store: AnyStore,
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
    [open_attempt] = await store.query_attempts(
        AttemptQuery(delivery_id=mine.delivery.id, whole_delivery=True)
    )
    assert open_attempt.finished_at is None


# replay ----------------------------------------------------------------------------------


async def test_replay_of_dead_delivery_requeues_it_with_a_fresh_budget(
    store: AnyStore,
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


async def test_replay_budget_falls_back_to_max_attempts(store: AnyStore) -> None:
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
async def test_finished_delivery_can_be_replayed(store: AnyStore, status: DeliveryStatus) -> None:
    new = delivery()
    await store.insert_event(event(new))
    await store.finish_attempt(await claim_one(store), result(status))
    replayed = await store.replay(new.id, NOW + 5)
    assert replayed.status is DeliveryStatus.PENDING
    assert len(await store.claim(TARGET, 10, NOW + 5, OWNER, LEASE)) == 1


async def test_cancelled_delivery_can_be_replayed(store: AnyStore) -> None:
    new = delivery(status=DeliveryStatus.CANCELLED)
    await store.insert_event(event(new))
    replayed = await store.replay(new.id, NOW)
    assert replayed.status is DeliveryStatus.PENDING
    assert replayed.max_attempts == 0 + 3


async def test_replay_of_pending_delivery_raises_value_error(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    with pytest.raises(ValueError, match="pending"):
        await store.replay(new.id, NOW)


async def test_replay_of_in_flight_delivery_raises_value_error(store: AnyStore) -> None:
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
    store: AnyStore, status: DeliveryStatus
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


async def test_replay_of_unknown_delivery_raises_key_error(store: AnyStore) -> None:
    with pytest.raises(KeyError):
        await store.replay("dlv_missing", NOW)


# listing ---------------------------------------------------------------------------------


async def test_query_events_without_a_cursor_is_newest_first_and_filters(store: AnyStore) -> None:
    a = event(id="evt_0001", source="github")
    b = event(id="evt_0002", source="stripe", status=EventStatus.UNROUTED)
    c = event(id="evt_0003", source="github", status=EventStatus.UNPROCESSABLE)
    for new in (a, b, c):
        await store.insert_event(new)

    assert ids(await store.query_events(EventQuery())) == [c.id, b.id, a.id]
    assert ids(await store.query_events(EventQuery(limit=2))) == [c.id, b.id]
    assert ids(await store.query_events(EventQuery(source="github"))) == [c.id, a.id]
    assert ids(await store.query_events(EventQuery(statuses=("unrouted",)))) == [b.id]
    assert ids(await store.query_events(EventQuery(source="github", statuses=("routed",)))) == [
        a.id
    ]
    assert await store.query_events(EventQuery(source="nobody")) == []


async def test_query_deliveries_without_a_cursor_is_newest_first_and_filters(
    store: AnyStore,
) -> None:
    d1 = delivery(id="dlv_0001", route="a")
    d2 = delivery(id="dlv_0002", route="b", status=DeliveryStatus.MAPPING_FAILED)
    d3 = delivery(id="dlv_0003", route="a")
    e1 = event(d1, d2, id="evt_0001")
    e2 = event(d3, id="evt_0002")
    await store.insert_event(e1)
    await store.insert_event(e2)

    assert ids(await store.query_deliveries(DeliveryQuery())) == [d3.id, d2.id, d1.id]
    assert ids(await store.query_deliveries(DeliveryQuery(limit=1))) == [d3.id]
    assert ids(await store.query_deliveries(DeliveryQuery(route="a"))) == [d3.id, d1.id]
    assert ids(await store.query_deliveries(DeliveryQuery(event_ids=(e1.id,)))) == [d2.id, d1.id]
    assert ids(
        await store.query_deliveries(DeliveryQuery(statuses=(DeliveryStatus.MAPPING_FAILED,)))
    ) == [d2.id]
    assert ids(await store.query_deliveries(DeliveryQuery(statuses=(DeliveryStatus.PENDING,)))) == [
        d3.id,
        d1.id,
    ]
    assert ids(
        await store.query_deliveries(
            DeliveryQuery(statuses=(DeliveryStatus.PENDING,), route="a", event_ids=(e2.id,))
        )
    ) == [d3.id]
    assert await store.query_deliveries(DeliveryQuery(route="nowhere")) == []


async def test_next_due_at_is_the_earliest_claimable_of_the_target(store: AnyStore) -> None:
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


async def test_ping_answers_while_open(store: AnyStore) -> None:
    assert await store.ping() is True


async def test_ping_after_close_is_false(store: AnyStore) -> None:
    await store.close()
    assert await store.ping() is False


async def test_writes_after_close_raise_store_unavailable(store: AnyStore) -> None:
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.insert_event(event())


# group commit ----------------------------------------------------------------------------


async def test_concurrent_inserts_share_commits(store: AnyStore) -> None:
    commits_before, writes_before = store.group_commit_stats
    events = [event(delivery(), dedupe_key=f"k-{i}") for i in range(200)]

    results = await asyncio.gather(*(store.insert_event(e) for e in events))

    assert [r.event_id for r in results] == [e.id for e in events]
    assert not any(r.duplicate for r in results)
    commits, writes = store.group_commit_stats
    assert writes - writes_before == 200
    assert commits - commits_before < writes - writes_before
    assert len(await store.query_events(EventQuery(limit=1000))) == 200
    assert len(await store.query_deliveries(DeliveryQuery(limit=1000))) == 200
