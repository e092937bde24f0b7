"""Runs followed to their end, on every backend: a running delivery holds a run slot, is
looked at through leased checks, ends with its run's outcome on the attempt that started
it, and is never left to a person when its run id is known."""

from __future__ import annotations

import dataclasses

import pytest

from relay.store.base import CheckResult, DeliveryStatus
from relay.store.lifecycle import RUN_CREATED
from relay.store.log_queries import AttemptQuery, DeliveryQuery
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


def stops(owner: str) -> DeliveryQuery:
    """What a worker asks for: its in-flight deliveries whose run's stop was asked for."""
    return DeliveryQuery(statuses=(S.IN_FLIGHT,), lease_owner=owner, stop_requested=True)


async def running(store: AnyStore, *, run_id: str = "run_1") -> str:
    """A delivery whose run answered ``active``: running, first look due at NOW + 2."""
    new = delivery()
    await store.insert_event(event(new))
    claimed = await claim_one(store)
    await store.finish_attempt(
        claimed,
        result(
            S.RUNNING,
            outcome="run_active",
            next_attempt_at=NOW + 2,
            function_run_id=run_id,
            run_status="active",
            run_started_at=NOW,
        ),
    )
    return new.id


async def test_running_delivery_keeps_its_run_and_start_time(store: AnyStore) -> None:
    delivery_id = await running(store)
    stored = await store.get_delivery(delivery_id)
    assert stored is not None
    assert (stored.status, stored.function_run_id, stored.run_started_at) == (
        S.RUNNING,
        "run_1",
        NOW,
    )
    assert stored.next_attempt_at == NOW + 2


async def test_running_runs_hold_the_targets_run_slots(store: AnyStore) -> None:
    await running(store)
    await store.insert_event(event(delivery()))
    assert await store.claim(TARGET, 5, NOW + 1, OWNER, LEASE, max_in_flight=1) == []
    assert len(await store.claim(TARGET, 5, NOW + 1, OWNER, LEASE, max_in_flight=2)) == 1


async def test_checks_are_leased_once_when_due(store: AnyStore) -> None:
    delivery_id = await running(store)
    assert await store.claim_checks(TARGET, 10, NOW + 1, OWNER, 60) == []
    (due,) = await store.claim_checks(TARGET, 10, NOW + 2, OWNER, 60)
    assert due.id == delivery_id
    assert await store.claim_checks(TARGET, 10, NOW + 3, "relay-b", 60) == []


async def test_a_check_that_finds_the_run_going_schedules_the_next(store: AnyStore) -> None:
    delivery_id = await running(store)
    (due,) = await store.claim_checks(TARGET, 10, NOW + 2, OWNER, 60)
    check = CheckResult(at=NOW + 3, new_status=S.RUNNING, next_check_at=NOW + 5)
    assert await store.finish_check(due, OWNER, check)
    stored = await store.get_delivery(delivery_id)
    assert stored is not None
    assert (stored.status, stored.next_attempt_at) == (S.RUNNING, NOW + 5)
    assert [t.to_status for t in await store.list_transitions(delivery_id)][-1] is S.RUNNING


async def test_a_check_that_finds_the_run_closed_records_it_on_the_attempt(
    store: AnyStore,
) -> None:
    delivery_id = await running(store)
    (due,) = await store.claim_checks(TARGET, 10, NOW + 2, OWNER, 60)
    check = CheckResult(
        at=NOW + 3,
        new_status=S.SUCCEEDED,
        run_status="closed",
        result={"ok": True},
        logs=["step 1", "step 2"],
        reason="run run_1 closed",
    )
    assert await store.finish_check(due, OWNER, check)
    stored = await store.get_delivery(delivery_id)
    assert stored is not None
    assert (stored.status, stored.run_status, stored.next_attempt_at) == (
        S.SUCCEEDED,
        "closed",
        None,
    )
    (attempt,) = await store.query_attempts(
        AttemptQuery(delivery_id=delivery_id, whole_delivery=True)
    )
    assert (attempt.run_status, attempt.result, list(attempt.logs)) == (
        "closed",
        {"ok": True},
        ["step 1", "step 2"],
    )
    last = (await store.list_transitions(delivery_id))[-1]
    assert (last.from_status, last.to_status, last.reason) == (
        S.RUNNING,
        S.SUCCEEDED,
        "run run_1 closed",
    )


async def test_a_check_whose_lease_was_taken_back_records_nothing(store: AnyStore) -> None:
    delivery_id = await running(store)
    (due,) = await store.claim_checks(TARGET, 10, NOW + 2, OWNER, 60)
    await store.recover_expired(NOW + 100)  # the checker died: its lease expired
    assert not await store.finish_check(
        due, OWNER, CheckResult(at=NOW + 101, new_status=S.SUCCEEDED)
    )
    stored = await store.get_delivery(delivery_id)
    assert stored is not None
    assert (stored.status, stored.next_attempt_at) == (S.RUNNING, NOW + 100)


async def test_stop_request_makes_the_next_look_due_now_and_is_audited(store: AnyStore) -> None:
    delivery_id = await running(store)
    stopped = await store.request_stop(delivery_id, NOW + 1, actor="token:ops")
    assert (stopped.stop_requested_by, stopped.next_attempt_at) == ("token:ops", NOW + 1)
    (due,) = await store.claim_checks(TARGET, 10, NOW + 1, OWNER, 60)
    assert due.stop_requested_by == "token:ops"
    check = CheckResult(at=NOW + 2, new_status=S.STOPPED, actor="token:ops", error="stopped")
    assert await store.finish_check(due, OWNER, check)
    last = (await store.list_transitions(delivery_id))[-1]
    assert (last.to_status, last.actor) == (S.STOPPED, "token:ops")
    assert (await store.list_audit())[0].action == "stop"


async def test_only_a_run_relay_knows_can_be_stopped(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    with pytest.raises(ValueError, match="only a running run can be stopped"):
        await store.request_stop(new.id, NOW, actor="operator")
    await claim_one(store)
    with pytest.raises(ValueError, match="run id is not known yet"):
        await store.request_stop(new.id, NOW, actor="operator")
    with pytest.raises(KeyError):
        await store.request_stop("dlv_missing", NOW, actor="operator")


async def test_stop_of_a_streaming_created_run_is_found_by_its_owner(store: AnyStore) -> None:
    new, other = delivery(), delivery()
    await store.insert_event(event(new, other))
    claimed = await claim_one(store)
    assert claimed.delivery.id == new.id
    await claim_one(store)  # ``other``: leased to the same owner, no stop asked for
    assert await store.note_run_created(claimed, "run_5", NOW)
    await store.request_stop(new.id, NOW + 1, actor="operator")
    assert [d.id for d in await store.query_deliveries(stops(OWNER))] == [new.id]
    assert await store.query_deliveries(stops("relay-b")) == []


async def test_crash_after_create_requeues_to_ask_the_api_not_a_person(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    claimed = await claim_one(store)
    assert await store.note_run_created(claimed, "run_5", NOW)
    assert await store.recover_expired(NOW + LEASE + 1) == [new.id]
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert (stored.status, stored.function_run_id, stored.run_status) == (
        S.PENDING,
        "run_5",
        RUN_CREATED,
    )
    again = await claim_one(store, now=NOW + LEASE + 2)
    assert (again.delivery.function_run_id, again.delivery.run_status) == ("run_5", RUN_CREATED)


async def test_crash_without_a_run_id_still_needs_review(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    await claim_one(store)
    await store.recover_expired(NOW + LEASE + 1)
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert stored.status is S.NEEDS_REVIEW


async def test_note_run_created_after_the_lease_was_lost_is_refused(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    claimed = await claim_one(store)
    await store.recover_expired(NOW + LEASE + 1)
    assert not await store.note_run_created(claimed, "run_5", NOW + LEASE + 2)


async def test_replay_of_a_timed_out_run_starts_a_new_one(store: AnyStore) -> None:
    delivery_id = await running(store)
    (due,) = await store.claim_checks(TARGET, 10, NOW + 2, OWNER, 60)
    await store.finish_check(due, OWNER, CheckResult(at=NOW + 3, new_status=S.TIMED_OUT))
    replayed = await store.replay(delivery_id, NOW + 4, actor="operator")
    assert (replayed.status, replayed.function_run_id, replayed.run_started_at) == (
        S.PENDING,
        None,
        None,
    )


async def test_crash_before_a_two_step_run_was_created_requeues_it(store: AnyStore) -> None:
    """A two-step start stores the run id before it sends the start: without one, nothing
    was started, whatever the route's idempotence."""
    new = dataclasses.replace(delivery(), run_options={"start": "two_step"})
    await store.insert_event(event(new))
    await claim_one(store)
    await store.recover_expired(NOW + LEASE + 1)
    stored = await store.get_delivery(new.id)
    assert stored is not None
    assert (stored.status, stored.function_run_id) == (S.PENDING, None)
