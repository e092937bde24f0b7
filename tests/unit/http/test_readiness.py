"""Readiness follows the writes: not ready after a failed write, ready again after a write
works, found out by a probe write while nothing else is written."""

from __future__ import annotations

from pathlib import Path

from relay.http.readiness import WriteHealth
from relay.store import SqliteStore
from tests.helpers import FakeClock


async def test_a_failed_write_is_not_ready_until_a_write_works(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "relay.db")
    await store.open()
    try:
        health = WriteHealth(store, FakeClock(), probe_interval=0.0)
        assert (await health.check()).ok
        health.failed("database write failed: database or disk is full")
        assert not health.status.ok
        assert (await health.check()).ok  # the probe wrote: ready again
        health.failed("database write failed: database is locked")
        health.succeeded()  # a webhook's write worked
        assert (await health.check()).ok
    finally:
        await store.close()


async def test_a_failing_probe_keeps_it_not_ready_and_probes_are_spaced(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "relay.db")
    await store.open()
    await store.close()  # every write fails from now on
    health = WriteHealth(store, FakeClock(), probe_interval=3600.0)
    health.failed("database write failed: disk I/O error")
    status = await health.check()
    assert not status.ok
    assert "closed" in str(status.error)  # the probe's own failure
    await store.open()  # writes work again, but the next probe is an hour away
    try:
        assert not (await health.check()).ok
    finally:
        await store.close()
