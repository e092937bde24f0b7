"""``SqliteReader``: a log-reading command's store. The same reads as ``SqliteStore``, in the
calling thread, without an event loop; it refuses every write."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from relay.store import SqliteStore
from relay.store.base import DeliveryStatus, StoreUnavailable
from relay.store.log_queries import AttemptQuery, DeliveryQuery, EventQuery
from relay.store.sqlite_reader import SqliteReader, run_to_end
from tests.unit.store.builders import NOW, claim_one, delivery, event, result


async def _written(path: Path) -> str:
    store = SqliteStore(path)
    await store.open()
    try:
        await store.insert_event(event(delivery(), delivery(), dedupe_key="gh-1"))
        claimed = await claim_one(store)
        await store.finish_attempt(
            claimed, result(DeliveryStatus.SUCCEEDED, function_run_id="run_1", logs=("hi",))
        )
        return claimed.delivery.id
    finally:
        await store.close()


async def _reads(store: SqliteStore | SqliteReader, delivery_id: str) -> list[object]:
    return [
        await store.query_events(EventQuery()),
        await store.query_deliveries(DeliveryQuery()),
        await store.get_delivery(delivery_id),
        await store.query_attempts(AttemptQuery(delivery_id=delivery_id, whole_delivery=True)),
        await store.list_transitions(delivery_id),
        await store.target_overview(),
        await store.activity(NOW - 3600, None),
    ]


def test_the_reader_reads_what_the_store_reads(tmp_path: Path) -> None:
    path = tmp_path / "relay.db"
    delivery_id = asyncio.run(_written(path))

    async def with_store() -> list[object]:
        store = SqliteStore(path)
        await store.open()
        try:
            return await _reads(store, delivery_id)
        finally:
            await store.close()

    async def with_reader() -> list[object]:
        reader = SqliteReader(str(path))
        await reader.open()
        try:
            return await _reads(reader, delivery_id)
        finally:
            await reader.close()

    expected = asyncio.run(with_store())
    assert expected[2] is not None  # the delivery is there to be read
    assert run_to_end(with_reader()) == expected  # no event loop


def test_the_reader_refuses_every_write_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "relay.db"
    delivery_id = asyncio.run(_written(path))
    before = path.read_bytes()
    reader = SqliteReader(str(path))
    run_to_end(reader.open())
    try:
        with pytest.raises(NotImplementedError, match="only reads"):
            run_to_end(reader.replay(delivery_id, NOW, actor="me"))
        with pytest.raises(NotImplementedError, match="only reads"):
            run_to_end(reader.insert_event(event(delivery())))
    finally:
        run_to_end(reader.close())
    assert path.read_bytes() == before


def test_the_reader_opens_a_missing_file_as_the_store_does(tmp_path: Path) -> None:
    """Created 0600 and migrated (``relay deliveries`` on a fresh path lists nothing)."""
    path = tmp_path / "new" / "relay.db"
    reader = SqliteReader(str(path))
    run_to_end(reader.open())
    try:
        assert run_to_end(reader.query_deliveries(DeliveryQuery())) == []
        assert run_to_end(reader.ping()) is True
    finally:
        run_to_end(reader.close())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert run_to_end(reader.ping()) is False  # closed


def test_a_closed_reader_says_it_is_not_open(tmp_path: Path) -> None:
    reader = SqliteReader(str(tmp_path / "relay.db"))
    with pytest.raises(StoreUnavailable, match="not open"):
        run_to_end(reader.query_events(EventQuery()))


def test_the_reader_refuses_an_in_memory_database() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        SqliteReader(":memory:")


def test_run_to_end_refuses_a_coroutine_that_waits_for_an_event_loop() -> None:
    async def waits() -> int:
        await asyncio.sleep(0)
        return 1

    async def does_not() -> int:
        return 2

    with pytest.raises(RuntimeError, match="without an event loop"):
        run_to_end(waits())
    assert run_to_end(does_not()) == 2
