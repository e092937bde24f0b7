"""A re-delivery of a stored provider event id: the same body is a duplicate, another body a
conflict (counted, the first body kept, nothing new stored). SQLite store."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from relay.store import SqliteStore
from relay.store.log_queries import DeliveryQuery
from tests.unit.store.builders import delivery, event


def _row(db: Path) -> tuple[bytes, int, int]:
    with sqlite3.connect(db) as conn:
        body, duplicates, conflicts = conn.execute(
            "SELECT body, duplicates, conflicts FROM events"
        ).fetchone()
    return bytes(body), int(duplicates), int(conflicts)


async def test_same_id_other_body_is_a_conflict_and_the_first_body_is_kept(
    tmp_path: Path,
) -> None:
    db = tmp_path / "relay.db"
    store = SqliteStore(db)
    await store.open()
    try:
        first = event(delivery(), dedupe_key="d-1")
        stored = await store.insert_event(first)
        again = await store.insert_event(dataclasses.replace(first, id="evt_again"))
        other = await store.insert_event(
            dataclasses.replace(first, id="evt_other", body=b'{"action": "closed"}')
        )
        deliveries = await store.query_deliveries(DeliveryQuery())
    finally:
        await store.close()
    assert (stored.duplicate, stored.conflict) == (False, False)
    assert (again.event_id, again.duplicate, again.conflict) == (first.id, True, False)
    assert (other.event_id, other.duplicate, other.conflict) == (first.id, True, True)
    assert _row(db) == (first.body, 1, 1)
    assert len(deliveries) == 1


async def test_an_event_stored_before_body_hashes_is_never_a_conflict(tmp_path: Path) -> None:
    db = tmp_path / "relay.db"
    store = SqliteStore(db)
    await store.open()
    try:
        first = event(dedupe_key="d-1")
        await store.insert_event(first)
        with sqlite3.connect(db) as conn:  # as migrated from a version without the hash
            conn.execute("UPDATE events SET body_sha256 = NULL")
        other = await store.insert_event(dataclasses.replace(first, id="evt_2", body=b"{}"))
    finally:
        await store.close()
    assert (other.duplicate, other.conflict) == (True, False)
