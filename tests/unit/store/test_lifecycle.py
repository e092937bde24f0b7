"""The delivery state machine in the store: transitions, the budget, cancel, bulk replay
with audit, dead-letter selection, target state and retention purges."""

from __future__ import annotations

from typing import Any

import pytest

from relay.store.base import CANCELLABLE, REPLAYABLE, DeliveryStatus, TargetState
from relay.store.lifecycle import ALLOWED, IllegalTransition, check_transition
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
    execute,
    result,
)

S = DeliveryStatus


async def _dead(
    store: AnyStore,
    *,
    route: str = "new-issues",
    error: str = "HTTP 404: gone",
    at: float = NOW + 1,
) -> str:
    new = delivery(route=route)
    await store.insert_event(event(new))
    claimed = await claim_one(store, now=at - 1)
    await store.finish_attempt(claimed, result(S.DEAD, at=at, outcome="fatal", error=error))
    return new.id


# the machine -----------------------------------------------------------------------------


def test_every_replayable_status_can_be_replayed_and_every_cancellable_cancelled() -> None:
    assert all(S.PENDING in ALLOWED[s] for s in REPLAYABLE)
    assert all(S.CANCELLED in ALLOWED[s] for s in CANCELLABLE)
    assert set(ALLOWED) == set(S)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (S.SUCCEEDED, S.IN_FLIGHT),
        (S.PENDING, S.SUCCEEDED),
        (S.MAPPING_FAILED, S.PENDING),
        (S.DEAD, S.CANCELLED),
    ],
)
def test_moves_outside_the_machine_are_refused(before: S, after: S) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(before, after)


async def test_claim_and_finish_record_transitions_with_reason_and_actor(
    store: AnyStore,
) -> None:
    new = delivery()
    await store.insert_event(event(new))
    claimed = await claim_one(store)
    await store.finish_attempt(
        claimed,
        result(S.RETRY_SCHEDULED, outcome="retryable", error="HTTP 503", next_attempt_at=NOW + 9),
    )
    moves = await store.list_transitions(new.id)
    assert [(m.from_status, m.to_status, m.actor, m.reason) for m in moves] == [
        (None, S.PENDING, "receiver", "received"),
        (S.PENDING, S.IN_FLIGHT, OWNER, "attempt 1"),
        (S.IN_FLIGHT, S.RETRY_SCHEDULED, OWNER, "HTTP 503"),
    ]
    assert [m.at for m in moves] == [NOW, NOW, NOW + 1]


async def test_attempt_not_counted_leaves_the_budget_alone(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    claimed = await claim_one(store)
    await store.finish_attempt(
        claimed,
        result(S.PAUSED, outcome="throttled", next_attempt_at=NOW + 30, counts_toward_budget=False),
    )
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.budget_used) == (S.PAUSED, 1, 0)
    again = await claim_one(store, now=NOW + 30)  # paused deliveries are claimable when due
    assert again.attempt_number == 2


async def test_illegal_finish_is_refused_and_changes_nothing(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    claimed = await claim_one(store)
    with pytest.raises(IllegalTransition):
        await store.finish_attempt(claimed, result(S.CANCELLED))
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.status is S.IN_FLIGHT


async def test_stale_finish_after_recovery_and_a_new_claim_does_not_move_it(
    store: AnyStore,
) -> None:
    new = delivery(idempotent=True)
    await store.insert_event(event(new))
    stale = await claim_one(store)
    await store.recover_expired(NOW + LEASE + 1)
    fresh = await claim_one(store, now=NOW + LEASE + 1)
    await store.finish_attempt(stale, result(S.SUCCEEDED, at=NOW + LEASE + 2))
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.status is S.IN_FLIGHT
    await store.finish_attempt(fresh, result(S.SUCCEEDED, at=NOW + LEASE + 3))
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.status is S.SUCCEEDED


async def test_recovered_idempotent_delivery_with_no_budget_left_is_dead(
    store: AnyStore,
) -> None:
    new = delivery(idempotent=True, max_attempts=1)
    await store.insert_event(event(new))
    await claim_one(store)
    assert await store.recover_expired(NOW + LEASE + 1) == [new.id]
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert (stored.status, stored.budget_used) == (S.DEAD, 1)
    (*_, last) = await store.list_transitions(new.id)
    assert (last.to_status, last.actor) == (S.DEAD, "sweep")


async def test_sweep_gives_a_claimable_delivery_without_a_due_time_one(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))

    await execute(store, "UPDATE deliveries SET next_attempt_at = NULL")
    assert await store.claim(TARGET, 10, NOW + 5, OWNER, LEASE) == []
    await store.recover_expired(NOW + 5)
    assert len(await store.claim(TARGET, 10, NOW + 5, OWNER, LEASE)) == 1


# cancel ----------------------------------------------------------------------------------


async def test_cancel_moves_a_waiting_delivery_and_audits_it(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    cancelled = await store.cancel(new.id, NOW + 5, actor="alice", reason="duplicate order")
    assert cancelled.status is S.CANCELLED
    assert await store.claim(TARGET, 10, NOW + 10, OWNER, LEASE) == []
    (*_, last) = await store.list_transitions(new.id)
    assert (last.to_status, last.actor, last.reason) == (S.CANCELLED, "alice", "duplicate order")
    (audit,) = await store.list_audit()
    assert (audit.actor, audit.action, audit.count) == ("alice", "cancel", 1)


async def test_cancel_of_in_flight_or_finished_delivery_is_refused(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    await claim_one(store)
    with pytest.raises(ValueError, match="in_flight"):
        await store.cancel(new.id, NOW, actor="alice")
    with pytest.raises(KeyError):
        await store.cancel("dlv_missing", NOW, actor="alice")


# dead letters and bulk replay ------------------------------------------------------------


def _dead_letters(
    statuses: tuple[DeliveryStatus, ...] = (DeliveryStatus.DEAD,), **fields: Any
) -> DeliveryQuery:
    """The dead-letter selection (what ``relay dlq`` and bulk replay ask the store)."""
    return DeliveryQuery(statuses=statuses, limit=1000, recent_first=True, **fields)


async def test_dead_letters_are_selected_by_route_age_and_reason(store: AnyStore) -> None:
    old = await _dead(store, route="a", error="HTTP 404: gone", at=NOW + 1)
    recent = await _dead(store, route="a", error="HTTP 422: Bad input", at=NOW + 100)
    other = await _dead(store, route="b", error="HTTP 422: bad input", at=NOW + 100)

    async def found(selection: DeliveryQuery) -> set[str]:
        return {d.id for d in await store.query_deliveries(selection)}

    assert await found(_dead_letters()) == {old, recent, other}
    assert await found(_dead_letters(route="a")) == {old, recent}
    assert await found(_dead_letters(since=NOW + 50)) == {recent, other}
    assert await found(_dead_letters(reason="bad INPUT")) == {recent, other}
    assert await found(_dead_letters(statuses=(S.FAILED,))) == set()
    (newest, *_) = await store.query_deliveries(_dead_letters())
    assert newest.id in (recent, other)  # most recently updated first


async def test_bulk_replay_requeues_the_selection_with_transitions_and_one_audit_entry(
    store: AnyStore,
) -> None:
    a = await _dead(store, route="a")
    b = await _dead(store, route="a")
    untouched = await _dead(store, route="b")
    ids = await store.replay_matching(_dead_letters(route="a"), NOW + 10, actor="bob")
    assert sorted(ids) == sorted([a, b])
    for delivery_id in (a, b):
        stored = await store.get_delivery(delivery_id)
        assert stored is not None
        assert (stored.status, stored.next_attempt_at) == (S.PENDING, NOW + 10)
        (*_, last) = await store.list_transitions(delivery_id)
        assert (last.from_status, last.to_status, last.actor) == (S.DEAD, S.PENDING, "bob")
    still = await store.get_delivery(untouched)
    assert still is not None
    assert still.status is S.DEAD
    (audit,) = await store.list_audit()
    assert (audit.actor, audit.action, audit.count, audit.detail["route"]) == (
        "bob",
        "dlq_replay",
        2,
        "a",
    )


async def test_replay_records_who_replayed(store: AnyStore) -> None:
    dead = await _dead(store)
    await store.replay(dead, NOW + 5, actor="carol")
    (*_, last) = await store.list_transitions(dead)
    assert (last.to_status, last.actor) == (S.PENDING, "carol")
    assert [a.actor for a in await store.list_audit()] == ["carol"]


# target state ----------------------------------------------------------------------------


async def test_pause_is_kept_when_the_worker_saves_its_view(store: AnyStore) -> None:
    paused = await store.set_target_paused(TARGET, True, NOW, actor="ops")
    assert (paused.paused, paused.paused_by, paused.paused_at) == (True, "ops", NOW)
    await store.save_target_health(
        TargetState(
            target=TARGET,
            breaker="open",
            breaker_until=NOW + 30,
            max_concurrency=5,
            updated_at=NOW + 1,
        )
    )
    (state,) = await store.list_target_states()
    assert (state.paused, state.breaker, state.breaker_until, state.max_concurrency) == (
        True,
        "open",
        NOW + 30,
        5,
    )
    resumed = await store.set_target_paused(TARGET, False, NOW + 2, actor="ops")
    assert (resumed.paused, resumed.paused_by, resumed.breaker) == (False, None, "open")


async def test_overview_counts_in_flight_and_queued_per_target(store: AnyStore) -> None:
    await store.insert_event(event(delivery(), delivery(), delivery(), delivery(target="other")))
    await claim_one(store)
    await store.save_target_health(TargetState(target=TARGET, max_concurrency=3, updated_at=NOW))
    overview = {o.state.target: o for o in await store.target_overview()}
    assert (overview[TARGET].in_flight, overview[TARGET].queued) == (1, 2)
    assert overview[TARGET].state.max_concurrency == 3
    assert (overview["other"].in_flight, overview["other"].queued) == (0, 1)
    assert overview["other"].state.max_concurrency is None


# retention -------------------------------------------------------------------------------


async def test_purge_deletes_old_final_events_with_their_rows_in_batches(
    store: AnyStore,
) -> None:
    finished = [await _dead(store) for _ in range(3)]
    waiting = delivery()
    await store.insert_event(event(waiting))  # pending: never purged, nor is its event
    assert await store.purge_expired(NOW + 1000, limit=2) == 2
    assert await store.purge_expired(NOW + 1000, limit=2) == 1
    assert await store.purge_expired(NOW + 1000, limit=2) == 0
    for delivery_id in finished:
        assert await store.get_delivery(delivery_id) is None
        assert (
            await store.query_attempts(AttemptQuery(delivery_id=delivery_id, whole_delivery=True))
            == []
        )
        assert await store.list_transitions(delivery_id) == []
    assert await store.get_delivery(waiting.id) is not None
    assert len(await store.query_events(EventQuery())) == 1


async def test_purge_keeps_events_younger_than_the_cutoff(store: AnyStore) -> None:
    await _dead(store)
    assert await store.purge_expired(NOW - 1) == 0
    assert len(await store.query_events(EventQuery())) == 1


async def test_purge_by_source_and_excluding_sources(store: AnyStore) -> None:
    await store.insert_event(event(source="github"))
    await store.insert_event(event(source="stripe"))
    assert await store.purge_expired(NOW + 1, exclude_sources=["github"]) == 1
    assert [e.source for e in await store.query_events(EventQuery())] == ["github"]
    assert await store.purge_expired(NOW + 1, source="github") == 1
