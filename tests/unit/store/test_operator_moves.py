"""Retry now (a waiting delivery made due at once, audited) and the events body search, on
both backends."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from relay.store.base import DeliveryRecord, DeliveryStatus
from relay.store.log_queries import EventQuery, RejectionRecord
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


async def _waiting(store: AnyStore, status: DeliveryStatus) -> str:
    new = delivery()
    await store.insert_event(event(new))
    claimed = await claim_one(store)
    await store.finish_attempt(
        claimed, result(status, outcome="retryable", next_attempt_at=NOW + 3600)
    )
    return new.id


@pytest.mark.parametrize("status", [S.RETRY_SCHEDULED, S.PAUSED])
async def test_retry_now_makes_a_waiting_delivery_due_with_its_budget(
    store: AnyStore, status: DeliveryStatus
) -> None:
    waiting = await _waiting(store, status)
    assert await store.claim(TARGET, 10, NOW + 10, OWNER, LEASE) == []
    moved = await store.retry_now(waiting, NOW + 10, actor="erin")
    assert (moved.status, moved.next_attempt_at, moved.budget_used) == (S.PENDING, NOW + 10, 1)
    (claimed,) = await store.claim(TARGET, 10, NOW + 10, OWNER, LEASE)
    assert claimed.delivery.id == waiting
    transitions = await store.list_transitions(waiting)
    last = [t for t in transitions if t.to_status is S.PENDING][-1]
    assert (last.from_status, last.actor, last.reason) == (status, "erin", "retry now")
    (audit,) = await store.list_audit()
    assert (audit.actor, audit.action, audit.count) == ("erin", "retry_now", 1)


async def test_retry_now_refuses_what_is_not_waiting(store: AnyStore) -> None:
    new = delivery()
    await store.insert_event(event(new))
    with pytest.raises(ValueError, match="pending, not waiting"):
        await store.retry_now(new.id, NOW, actor="erin")
    with pytest.raises(KeyError):
        await store.retry_now("dlv_missing", NOW, actor="erin")


async def test_a_refused_move_does_not_spoil_the_moves_committed_with_it(
    store: AnyStore,
) -> None:
    # On a SQLite file, writes made in one loop turn are committed together; when one fails,
    # the others are run again one by one: each must still answer what it did.
    waiting = await _waiting(store, S.RETRY_SCHEDULED)
    other = delivery()
    await store.insert_event(event(other))
    missing, moved, cancelled = await asyncio.gather(
        store.cancel("dlv_missing", NOW + 10, actor="erin"),
        store.retry_now(waiting, NOW + 10, actor="erin"),
        store.cancel(other.id, NOW + 10, actor="erin"),
        return_exceptions=True,
    )
    assert isinstance(missing, KeyError)
    assert isinstance(moved, DeliveryRecord)
    assert (moved.id, moved.status) == (waiting, S.PENDING)
    assert isinstance(cancelled, DeliveryRecord)
    assert (cancelled.id, cancelled.status) == (other.id, S.CANCELLED)
    assert sorted(a.action for a in await store.list_audit()) == ["cancel", "retry_now"]


async def test_events_are_found_by_a_piece_of_their_body(store: AnyStore) -> None:
    base = event(delivery())
    found = dataclasses.replace(base, body=b'{"customer": "Ada Lovelace", "note": "caf\xc3\xa9"}')
    other = event(delivery())
    await store.insert_event(found)
    await store.insert_event(other)
    await store.record_rejections([RejectionRecord("rej_0001", "github", NOW, "bad_sig", None)])
    by_word = await store.query_events(EventQuery(body="ada LOVELACE"))
    by_accent = await store.query_events(EventQuery(body="café"))
    rejections = await store.query_rejections(EventQuery(body="ada"))
    assert [e.id for e in by_word] == [found.id]
    assert [e.id for e in by_accent] == [found.id]
    assert rejections == []
