"""What only SQLite does: one file in WAL mode that survives a restart, independent
in-memory stores, one failing write in a group commit, and database URLs."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from relay.store import SqliteStore, open_store
from relay.store import sqlite as sqlite_module
from relay.store._sqlite_schema import MIGRATIONS
from relay.store.base import DeliveryStatus, NewEvent, StoreUnavailable
from relay.store.log_queries import AttemptQuery, EventQuery
from relay.store.postgres import PostgresStore
from tests.unit.store.builders import (
    LEASE,
    NOW,
    OWNER,
    TARGET,
    claim_one,
    delivery,
    event,
    ids,
    result,
)


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


async def test_two_memory_stores_are_independent() -> None:
    one, two = SqliteStore(":memory:"), SqliteStore(":memory:")
    await one.open()
    await two.open()
    try:
        await one.insert_event(event())
        assert len(await one.query_events(EventQuery())) == 1
        assert await two.query_events(EventQuery()) == []
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
        before_attempts = await first.query_attempts(
            AttemptQuery(delivery_id=claimed.delivery.id, whole_delivery=True)
        )
        before_events = await first.query_events(EventQuery())
    finally:
        await first.close()

    second = SqliteStore(path)
    await second.open()
    try:
        assert await second.query_events(EventQuery()) == before_events
        assert await second.get_delivery(claimed.delivery.id) == before_delivery
        assert (
            await second.query_attempts(
                AttemptQuery(delivery_id=claimed.delivery.id, whole_delivery=True)
            )
            == before_attempts
        )
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


# failing writes in a batch ------------------------------------------------------------


async def _in_one_batch(store: SqliteStore, events: list[NewEvent]) -> list[Any]:
    """Insert ``events`` concurrently, holding the writer so that they share one commit."""
    started, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> None:
        started.set()
        release.wait(5)

    # heavy: on the writer thread, which holds the write lock while the holder runs
    holder = asyncio.ensure_future(store._writer.submit(hold, heavy=True))
    await asyncio.to_thread(started.wait, 5)
    commits_before, _ = store.group_commit_stats
    inserts = asyncio.gather(*(store.insert_event(e) for e in events), return_exceptions=True)
    for _ in range(100):  # each insert runs up to its write, queued for the thread
        await asyncio.sleep(0)
        if store._writer._queue.qsize() == len(events):
            break
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
    assert sorted(ids(await store.query_events(EventQuery()))) == sorted(
        [existing.id, before.id, after.id]
    )
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


@pytest.mark.parametrize("url", ["mysql://localhost/db", "redis://localhost/0"])
def test_open_store_rejects_other_databases(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        open_store(url)


@pytest.mark.parametrize("url", ["postgresql://user@localhost/relay", "postgres://localhost/r"])
def test_open_store_takes_postgresql_urls_without_connecting(url: str) -> None:
    opened = open_store(url)
    assert isinstance(opened, PostgresStore)
    assert opened.url == url


# where writes run -------------------------------------------------------------------------


async def test_writes_run_on_the_event_loop_when_the_lock_is_free(file_store: SqliteStore) -> None:
    where = await file_store._writer.submit(lambda conn: threading.current_thread().name)
    await file_store.insert_event(event(delivery()))
    assert where == threading.current_thread().name
    assert file_store._writer.handed_over == 0


async def test_writes_wait_on_the_thread_while_another_process_holds_the_lock(
    file_store: SqliteStore,
) -> None:
    other = sqlite3.connect(file_store.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # like a `relay` command writing to the same file
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.ensure_future(ticker())
    try:
        inserting = asyncio.ensure_future(file_store.insert_event(event(delivery())))
        await asyncio.sleep(0.3)
        assert not inserting.done()
        other.execute("COMMIT")
        stored = await asyncio.wait_for(inserting, 5)
    finally:
        ticking.cancel()
        other.close()
    assert stored.duplicate is False
    assert file_store._writer.handed_over >= 1
    assert ticks >= 10  # the loop kept running while the write waited for the lock
    assert await file_store.get_event(stored.event_id) is not None


# checkpoints ------------------------------------------------------------------------------


async def _wal_bytes_after_rounds(path: Path, rounds: int, per_round: int) -> tuple[int, int]:
    """Write ``rounds`` loop turns of events; the WAL file's size and the events kept."""
    store = SqliteStore(path)
    await store.open()
    try:
        writer = store._writer
        for _ in range(rounds):
            await asyncio.gather(*(store.insert_event(event(delivery())) for _ in range(per_round)))
            for _ in range(200):  # both phases of a checkpoint asked for, if any
                if not writer._checkpointing:
                    break
                await asyncio.sleep(0.005)
        wal = await asyncio.to_thread(os.path.getsize, f"{path}-wal")
        kept = len(await store.query_events(EventQuery(limit=rounds * per_round)))
    finally:
        await store.close()
    return wal, kept


async def test_the_wal_is_checkpointed_by_the_writer_and_started_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_EVERY", 10**9)  # never
    unchecked, _ = await _wal_bytes_after_rounds(tmp_path / "unchecked.db", 30, 40)
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_EVERY", 40)
    checked, kept = await _wal_bytes_after_rounds(tmp_path / "checked.db", 30, 40)
    assert kept == 30 * 40
    assert checked * 4 < unchecked  # started again from the top, not grown


def _wal_frames(path: str) -> int:
    conn = sqlite3.connect(path)
    try:
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        conn.close()
    return int(frames)


async def test_a_checkpoint_is_copied_on_the_thread_and_finished_on_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_EVERY", 20)
    store = SqliteStore(tmp_path / "relay.db")
    await store.open()
    try:
        writer = store._writer
        await asyncio.gather(*(store.insert_event(event(delivery())) for _ in range(25)))
        for _ in range(400):
            if writer.checkpoints_finished:
                break
            await asyncio.sleep(0.005)
        assert (writer.checkpoints, writer.checkpoints_finished) == (1, 1)
        assert writer.handed_over == 0  # the loop's writes never waited for the copy
        await store.insert_event(event(delivery()))
        # the whole WAL was copied back, so that write started it again from the top: it
        # holds that one event's pages (12 here), not the 26 events' (27 without checkpoints)
        assert _wal_frames(store.path) <= 15
    finally:
        await store.close()


async def test_a_sqlite_too_old_for_returning_is_refused_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    store = SqliteStore(tmp_path / "relay.db")
    with pytest.raises(StoreUnavailable, match="too old"):
        await store.open()
