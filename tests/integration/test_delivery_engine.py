"""The delivery engine against real processes: a concurrency limit held under load, a
graceful SIGTERM, and an operator pausing a running server's target from the CLI."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import github_headers, issue_opened, write_config
from tests.integration.procs import launch_relay, relay_cli, start_relay, start_runner, wait_until

ROUTE = """
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {event_type: issues}
    variables:
      number: body.issue.number
    retry: {max_attempts: 5, initial: 0.1, max: 0.5, jitter: 0}
"""


def _statuses(db: Path) -> dict[str, int]:
    """Delivery count per status, read straight from the file (no CLI start-up per poll)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT status, count(*) FROM deliveries GROUP BY status")
        return {status: int(n) for status, n in rows}


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return list(conn.execute(sql))


def _post(url: str, number: int) -> None:
    body = issue_opened(number)
    headers = github_headers(body, delivery=f"d-{number}")
    assert httpx.post(f"{url}/hooks/github", content=body, headers=headers).status_code == 200


def _stats(runner_url: str) -> dict[str, int]:
    stats: dict[str, int] = httpx.get(f"{runner_url}/_local/stats").json()
    return stats


def test_max_concurrency_is_never_exceeded_upstream_under_100_deliveries(tmp_path: Path) -> None:
    with start_runner(tmp_path, "--max-concurrency", "3", "--run-duration", "0.05") as runner:
        config = write_config(
            tmp_path / "relay.yaml", base_url=runner.url, routes=ROUTE, max_concurrency=3
        )
        db = tmp_path / "relay.db"
        with start_relay(config, db, tmp_path) as relay:
            with httpx.Client() as client:
                for n in range(100):
                    body = issue_opened(n)
                    headers = github_headers(body, delivery=f"d-{n}")
                    reply = client.post(f"{relay.url}/hooks/github", content=body, headers=headers)
                    assert reply.status_code == 200
            wait_until(lambda: _statuses(db) == {"succeeded": 100}, within=60, what="all 100")
        stats = _stats(runner.url)
    assert stats["peak_in_flight"] <= 3
    assert stats["throttled"] == 0  # the runner never had to answer 429
    assert stats["total"] == 100
    assert _rows(db, "SELECT count(*), max(number) FROM attempts") == [(100, 1)]


@pytest.mark.crash
def test_sigterm_lets_a_run_in_flight_finish_within_the_grace_period(tmp_path: Path) -> None:
    with start_runner(tmp_path, "--run-duration", "1") as runner:
        config = write_config(tmp_path / "relay.yaml", base_url=runner.url, routes=ROUTE)
        db = tmp_path / "relay.db"
        relay = launch_relay(config, db, tmp_path / "relay.log", None, "--shutdown-grace", "10")
        try:
            _post(relay.url, 1)
            wait_until(lambda: _stats(runner.url)["in_flight"] == 1, what="the run in progress")
        finally:
            relay.stop()  # SIGTERM
        assert _statuses(db) == {"succeeded": 1}
        assert _stats(runner.url)["total"] == 1


@pytest.mark.crash
@pytest.mark.parametrize("start", ["one_step", "two_step"])
def test_sigterm_past_the_grace_period_holds_the_run_for_review(tmp_path: Path, start: str) -> None:
    """One step: the run cannot be asked about, so it waits for a person. Two steps: its id
    is stored, and the next attempt asks the API whether it started (never a second run)."""
    routes = ROUTE.replace("    source: github\n", f"    source: github\n    start: {start}\n")
    with start_runner(tmp_path, "--run-duration", "30") as runner:
        config = write_config(
            tmp_path / "relay.yaml", base_url=runner.url, routes=routes, timeout=60
        )
        db = tmp_path / "relay.db"
        relay = launch_relay(config, db, tmp_path / "relay.log", None, "--shutdown-grace", "0.5")
        try:
            _post(relay.url, 1)
            wait_until(lambda: _stats(runner.url)["in_flight"] == 1, what="the run in progress")
            stopping = time.monotonic()
        finally:
            relay.stop()
        assert time.monotonic() - stopping < 10  # it did not wait for the 30 s run
        assert "relay.stopped" in relay.output()  # a clean stop, not a kill
        ((outcome, error),) = _rows(db, "SELECT outcome, error FROM attempts")
        assert "relay stopped during the attempt" in str(error)
        if start == "one_step":
            assert _statuses(db) == {"needs_review": 1}
            assert outcome == "ambiguous"
        else:
            assert _statuses(db) == {"retry_scheduled": 1}
            assert outcome == "unsettled"
            assert "asks the API whether run" in str(error)
        assert _stats(runner.url)["total"] == 1
        runner.kill()  # its 30 s run is still going; no need to wait for it


def test_cli_pause_holds_a_running_servers_target_until_resumed(tmp_path: Path) -> None:
    with start_runner(tmp_path) as runner:
        config = write_config(tmp_path / "relay.yaml", base_url=runner.url, routes=ROUTE)
        db = tmp_path / "relay.db"
        with start_relay(config, db, tmp_path) as relay:
            paused = relay_cli("targets", "pause", "notte", "--actor", "ops", "--db", str(db))
            assert paused.returncode == 0, paused.stderr
            wait_until(lambda: "relay.target.paused" in relay.output(), what="pause seen")
            _post(relay.url, 1)
            time.sleep(1.0)  # several worker loops: nothing may be sent meanwhile
            assert _stats(runner.url)["total"] == 0
            assert _statuses(db) == {"pending": 1}
            resumed = relay_cli("targets", "resume", "notte", "--db", str(db))
            assert resumed.returncode == 0, resumed.stderr
            wait_until(lambda: _statuses(db) == {"succeeded": 1}, what="sent after resume")
        audit = _rows(db, "SELECT actor, action FROM audit ORDER BY id")
        assert audit[0] == ("ops", "pause")
        assert audit[1][1] == "resume"
