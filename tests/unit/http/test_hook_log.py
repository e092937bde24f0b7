"""Rejections are counted in windows: a flood stores a row and logs a line or two per
source, reason, client and minute, never one per request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from relay.http.hook_log import FOLDED_CLIENT, MAX_SAMPLES, HookLog
from relay.metrics.relay_metrics import RelayMetrics
from relay.store import SqliteStore
from relay.store.log_queries import EventQuery, RejectionRecord
from tests.helpers import FakeClock

START = 1_800_000_000.0  # a minute's start: windows are minutes of Unix time


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "relay.db")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def _rows(store: SqliteStore) -> list[RejectionRecord]:
    return await store.query_rejections(EventQuery(limit=500))


def _lines(logs: list[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == name]


async def test_a_flood_from_one_client_is_one_row_and_one_line_per_minute(
    store: SqliteStore,
) -> None:
    clock = FakeClock(START)
    hooks = HookLog(store, RelayMetrics(), clock, flush_interval=0.01)
    with capture_logs() as logs:
        for n in range(5000):
            detail = f"X-Hub-Signature-256 does not match ({n % 5})"
            hooks.rejected("github", "signature_mismatch", detail, "203.0.113.7", START + n / 100)
        await asyncio.sleep(0.1)  # a flush or two
        (row,) = await _rows(store)
        assert (row.count, row.client_ip, row.received_at) == (5000, "203.0.113.7", START)
        assert row.last_at == START + 4999 / 100
        assert len(row.samples) == MAX_SAMPLES
        clock.advance(61)
        hooks.rejected("github", "signature_mismatch", None, "203.0.113.7", clock.now())
        await hooks.drain()
    rows = await _rows(store)
    assert [r.count for r in rows] == [1, 5000]  # newest first: a new minute, a new row
    assert len(_lines(logs, "relay.hook.rejected")) == 2  # the first of each window
    (summary,) = _lines(logs, "relay.hook.rejections")  # a window with more than one
    assert (summary["count"], summary["rejection_id"]) == (5000, row.id)


async def test_clients_beyond_the_cap_share_one_window(store: SqliteStore) -> None:
    hooks = HookLog(store, RelayMetrics(), FakeClock(START), max_windows=10)
    with capture_logs() as logs:
        for n in range(1000):
            hooks.rejected("github", "missing_signature", None, f"10.0.{n // 250}.{n % 250}", START)
        await hooks.drain()
    rows = await _rows(store)
    assert len(rows) == 11
    assert sum(r.count for r in rows) == 1000
    (folded,) = [r for r in rows if r.client_ip == FOLDED_CLIENT]
    assert folded.count == 990
    assert len(_lines(logs, "relay.hook.rejected")) == 11


async def test_a_store_that_refuses_the_write_is_counted_not_raised(
    store: SqliteStore,
) -> None:
    metrics = RelayMetrics()
    hooks = HookLog(store, metrics, FakeClock(START), flush_interval=0.01)
    await store.close()  # every write now fails
    with capture_logs() as logs:
        for _ in range(3):
            hooks.rejected("github", "missing_signature", None, "10.0.0.1", START)
        await hooks.drain()
    assert metrics.registry.get_sample_value("relay_rejections_dropped_total") == 3
    assert _lines(logs, "relay.hook.rejections_not_stored")


async def test_requests_that_end_unread_are_logged_once_a_minute_per_client(
    store: SqliteStore,
) -> None:
    hooks = HookLog(store, RelayMetrics(), FakeClock(START), max_windows=3)
    with capture_logs() as logs:
        for n in range(100):
            for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"):
                hooks.incomplete("relay.hook.client_disconnected", "github", client, START + n)
    lines = _lines(logs, "relay.hook.client_disconnected")
    # two minutes; the fourth client over the cap of three is not logged
    assert [x["client_ip"] for x in lines] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"] * 2
