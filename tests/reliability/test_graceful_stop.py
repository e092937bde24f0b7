"""SIGTERM under load: relay stops taking work, lets runs in flight finish for the grace
period, then releases what is left (unsent: pending; maybe sent: asked of the API at the next
attempt, the run's id being stored), and exits.
Nothing is left in flight or with an open attempt, every acknowledged webhook is stored, and
after a restart everything is delivered once, a cut run settled through the API."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import write_config
from tests.reliability.crash_load import AckingSender
from tests.reliability.kit import (
    RelayProcess,
    db_rows,
    runner,
    runner_runs,
    runner_stats,
    statuses,
)
from tests.suite_plugin import Figures

# SIGTERM under load, relay as a process: the crash tier (`make test-fast` leaves it out).
pytestmark = pytest.mark.crash

ROUTE = """
  - name: stop
    source: github
    function_id: triage_issue
    match: {event_type: issues}
    variables:
      delivery: event_id
    retry: {max_attempts: 5, initial: 0.2, max: 1, jitter: 0}
"""
KEY = "idempotency-key"
COUNT = 40


async def _until(condition: object, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize(
    ("run_duration", "grace"), [(0.5, 5.0), (2.0, 0.5)], ids=["runs-finish", "runs-cut"]
)
async def test_sigterm_under_load_finishes_or_releases_in_flight_work_and_orphans_nothing(
    tmp_path: Path, figures: Figures, run_duration: float, grace: float
) -> None:
    with runner(tmp_path, "--run-duration", str(run_duration)) as upstream:
        config = write_config(
            tmp_path / "relay.yaml",
            base_url=upstream.url,
            routes=ROUTE,
            max_concurrency=10,
            timeout=60,
            target_extra="idempotency_header: Idempotency-Key",
        )
        relay = RelayProcess(config, tmp_path / "relay.db", tmp_path)
        relay.extra = ("--shutdown-grace", str(grace))
        relay.start()
        sender = AckingSender(relay.url, COUNT, concurrency=4)
        sending = asyncio.create_task(sender.run())
        try:
            await _until(lambda: runner_stats(upstream.url)["in_flight"] >= 4, 60, "runs in flight")
            in_flight = runner_stats(upstream.url)["in_flight"]
            took = await asyncio.to_thread(relay.terminate)
            at_stop = statuses(relay.db)
            open_attempts = db_rows(
                relay.db, "SELECT count(*) FROM attempts WHERE finished_at IS NULL"
            )
            outcomes = Counter(str(r[0]) for r in db_rows(relay.db, "SELECT outcome FROM attempts"))
            stopped_cleanly = "relay.stopped" in relay.output()
            relay.extra = ()
            await asyncio.to_thread(relay.start)
            await asyncio.wait_for(sending, timeout=120)
            await _until(
                lambda: (
                    set(statuses(relay.db)) <= {"succeeded", "needs_review"}
                    and sum(statuses(relay.db).values()) == COUNT
                ),
                120,
                "every delivery settled",
            )
            runs = Counter(str(r["headers"].get(KEY)) for r in runner_runs(upstream.url))
        finally:
            sending.cancel()
            relay.kill()

    assert stopped_cleanly
    assert took < grace + 15  # HTTP drain, the grace, the store's close; never a hang
    assert "in_flight" not in at_stop
    assert open_attempts == [(0,)]
    if grace > run_duration:  # the runs in flight were let finish
        assert "needs_review" not in at_stop
        assert set(outcomes) <= {"succeeded", "released"}
    else:  # cut short: their runs' ids are stored (two-step start), so each waits to be
        # asked of the API (never a person), or was released unsent
        assert at_stop.get("retry_scheduled", 0) >= 1
        assert "needs_review" not in at_stop
        assert set(outcomes) <= {"succeeded", "unsettled", "released"}
    final = dict(db_rows(relay.db, "SELECT id, status FROM deliveries"))
    assert len(sender.acknowledged) == COUNT
    assert all(n == 1 for n in runs.values())  # nothing started twice
    for delivery_id, status in final.items():
        assert runs[delivery_id] == 1, (delivery_id, status)  # delivered, or flagged after
    figures(
        f"graceful stop ({'runs finish' if grace > run_duration else 'runs cut'})",
        {
            "acknowledged": len(sender.acknowledged),
            "runs in flight at SIGTERM": in_flight,
            "exit s": round(took, 1),
            "at stop": at_stop,
            "duplicated": 0,
            "lost": 0,
        },
    )
