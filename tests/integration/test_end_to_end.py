"""relay serve and relay local-runner as real processes on real sockets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import free_port, github_headers, issue_opened, write_config
from tests.integration.procs import launch_relay, relay_cli, start_relay, start_runner, wait_until

FAST_RETRY = """
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {event_type: issues, body: {action: opened}}
    variables:
      repo: body.repository.full_name
      number: body.issue.number
    retry: {max_attempts: 50, initial: 0.1, max: 0.3, jitter: 0}
"""


def _runs(runner_url: str) -> list[dict[str, object]]:
    runs: list[dict[str, object]] = httpx.get(f"{runner_url}/_local/runs").json()
    return runs


def _deliveries(db: Path) -> list[dict[str, object]]:
    done = relay_cli("deliveries", "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def test_github_webhook_reaches_the_function_with_mapped_variables(tmp_path: Path) -> None:
    with start_runner(tmp_path) as runner:
        config = write_config(tmp_path / "relay.yaml", base_url=runner.url)
        db = tmp_path / "relay.db"
        with start_relay(config, db, tmp_path) as relay:
            body = issue_opened(42)
            response = httpx.post(
                f"{relay.url}/hooks/github", content=body, headers=github_headers(body)
            )
            assert response.status_code == 200
            wait_until(lambda: _runs(runner.url), what="the run start")
            (run,) = _runs(runner.url)
            assert run["function_id"] == "triage_issue"
            assert run["variables"] == {"repo": "octo/repo", "number": 42}
            assert run["stream"] is True
            wait_until(
                lambda: _deliveries(db)[0]["status"] == "succeeded", what="delivery recorded"
            )
        (delivery,) = _deliveries(db)
        assert delivery["function_run_id"] == run["function_run_id"]
        assert delivery["run_status"] == "closed"
        # once up, relay froze its startup heap (relay/_heap.py): no 25 ms full collections
        assert '"event":"relay.serve.heap_settled"' in relay.output()


@pytest.mark.crash
def test_delivery_survives_sigkill_between_ack_and_delivery(tmp_path: Path) -> None:
    runner_port = free_port()
    # The breaker must not open while the target is down (it would hold the restarted relay
    # back for its cooldown, longer than this test waits): a loaded machine kills late.
    config = write_config(
        tmp_path / "relay.yaml",
        base_url=f"http://127.0.0.1:{runner_port}",
        routes=FAST_RETRY,
        target_extra="breaker: {failures: 10000}",
    )
    db = tmp_path / "relay.db"
    relay = launch_relay(config, db, tmp_path / "relay-1.log")
    body = issue_opened(5)
    response = httpx.post(f"{relay.url}/hooks/github", content=body, headers=github_headers(body))
    assert response.status_code == 200
    # Acknowledged; the target is down, so the first attempt is refused and rescheduled.
    wait_until(lambda: _deliveries(db)[0]["status"] == "retry_scheduled", what="a retry")
    relay.kill()

    with start_runner(tmp_path, port=runner_port) as runner:
        assert _runs(runner.url) == []
        relay = launch_relay(config, db, tmp_path / "relay-2.log")
        try:
            wait_until(lambda: _runs(runner.url), within=30, what="the run after restart")
            wait_until(lambda: _deliveries(db)[0]["status"] == "succeeded", what="succeeded")
        finally:
            relay.stop()
        (run,) = _runs(runner.url)
        assert run["variables"] == {"repo": "octo/repo", "number": 5}


def _kill_mid_run(tmp_path: Path, routes: str, settled: str) -> tuple[Path, list[Any]]:
    """relay SIGKILLed while its run goes on, then started again until the delivery is
    ``settled``; the database and the runner's runs."""
    with start_runner(tmp_path, "--run-duration", "3") as runner:
        config = write_config(tmp_path / "relay.yaml", base_url=runner.url, routes=routes)
        db = tmp_path / "relay.db"
        relay = launch_relay(config, db, tmp_path / "relay-1.log")
        body = issue_opened(9)
        httpx.post(f"{relay.url}/hooks/github", content=body, headers=github_headers(body))
        wait_until(
            lambda: httpx.get(f"{runner.url}/_local/stats").json()["in_flight"] == 1,
            what="the run in progress",
        )
        relay.kill()
        relay = launch_relay(config, db, tmp_path / "relay-2.log")
        try:
            wait_until(lambda: _deliveries(db)[0]["status"] == settled, within=30, what=settled)
        finally:
            relay.stop()
        runs: list[Any] = httpx.get(f"{runner.url}/_local/runs").json()
    return db, runs


@pytest.mark.crash
def test_run_in_flight_at_sigkill_is_flagged_not_started_again(tmp_path: Path) -> None:
    """A one-step start: the run id comes with the answer, so a person decides."""
    one_step = FAST_RETRY.replace(
        "    source: github\n", "    source: github\n    start: one_step\n"
    )
    db, runs = _kill_mid_run(tmp_path, one_step, "needs_review")
    assert len(runs) == 1
    replay = relay_cli("replay", str(_deliveries(db)[0]["id"]), "--db", str(db))
    assert replay.returncode == 0, replay.stderr
    assert _deliveries(db)[0]["status"] == "pending"


@pytest.mark.crash
def test_run_in_flight_at_sigkill_is_followed_through_the_api_not_started_again(
    tmp_path: Path,
) -> None:
    """The default two-step start: the run's id was stored before its start, so the restarted
    relay asks the API, finds it started, and follows it to its end (no person, no second
    run)."""
    _, runs = _kill_mid_run(tmp_path, FAST_RETRY, "succeeded")
    assert [r["start_count"] for r in runs] == [1]
