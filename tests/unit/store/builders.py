"""Records for store tests: events, deliveries, attempt results, and a claim helper."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import asyncpg

from relay.store import SqliteStore
from relay.store.base import (
    AttemptResult,
    ClaimedDelivery,
    DeliveryStatus,
    EventStatus,
    NewDelivery,
    NewEvent,
)
from relay.store.postgres import PostgresStore

#: Every store the shared tests run against.
AnyStore = SqliteStore | PostgresStore

NOW = 1_700_000_000.0
TARGET = "notte"
OWNER = "relay-a"
LEASE = 30.0


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
    store: AnyStore, now: float = NOW, owner: str = OWNER, target: str = TARGET
) -> ClaimedDelivery:
    claimed = await store.claim(target, 1, now, owner, LEASE)
    assert len(claimed) == 1
    return claimed[0]


def ids(records: Sequence[Any]) -> list[str]:
    return [r.id for r in records]


async def execute(store: AnyStore, sql: str) -> None:
    """Run one SQL statement on the store's database behind its back (to break things)."""
    if isinstance(store, SqliteStore):

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(sql)

        await store._writer.submit(run)
        return
    conn = await asyncpg.connect(store.url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
