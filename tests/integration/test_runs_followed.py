"""Notte runs as tracked jobs, end to end: ``relay serve`` against ``relay local-runner``
over real sockets. A run answered ``active`` is followed until it closes (its result
recorded) or fails; a run past its run_timeout is stopped and ``timed_out``; an operator's
stop (``relay deliveries stop``) stops a run, followed or still streaming; and a two-step
start survives a SIGKILL between create and start, and between start and answer: no run is
started twice and none is left to a person."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import github_headers, issue_opened, write_config
from tests.integration.procs import relay_cli
from tests.reliability.kit import RelayProcess, db_rows, runner, runner_runs

FUNCTIONS = {
    "slow_ok": "import time\n\ndef run(**v):\n    time.sleep(1.5)\n    return {'slept': 1.5}\n",
    "quick_ok": "def run(**v):\n    return {'number': v.get('number')}\n",
    "raises": "def run(**v):\n    raise RuntimeError('amount 99900 needs manual review')\n",
    "forever": "import time\n\ndef run(**v):\n    time.sleep(60)\n",
}


def _route(function_id: str, **keys: Any) -> str:
    extra = "".join(f"    {k}: {json.dumps(v)}\n" for k, v in keys.items())
    return f"""
  - name: job
    source: github
    function_id: {function_id}
    match: {{event_type: issues}}
    variables:
      number: body.issue.number
    retry: {{max_attempts: 5, initial: 0.2, max: 0.5, jitter: 0}}
{extra}"""


@contextmanager
def _setup(
    tmp_path: Path, routes: str, *runner_args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[RelayProcess, str]]:
    functions = tmp_path / "functions"
    functions.mkdir()
    for name, code in FUNCTIONS.items():
        (functions / f"{name}.py").write_text(code)
    with runner(tmp_path, "--functions", str(functions), *runner_args) as upstream:
        config = write_config(tmp_path / "relay.yaml", base_url=upstream.url, routes=routes)
        relay = RelayProcess(config, tmp_path / "relay.db", tmp_path)
        relay.start(env)
        try:
            yield relay, upstream.url
        finally:
            relay.kill()


def _post(relay: RelayProcess, number: int = 1) -> None:
    body = issue_opened(number)
    headers = github_headers(body, delivery=f"d-{number}")
    reply = httpx.post(f"{relay.url}/hooks/github", content=body, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text


def _delivery(relay: RelayProcess) -> dict[str, Any]:
    rows = db_rows(
        relay.db,
        "SELECT id, status, function_run_id, run_started_at, last_error FROM deliveries",
    )
    assert len(rows) == 1, rows
    keys = ("id", "status", "function_run_id", "run_started_at", "last_error")
    return dict(zip(keys, rows[0], strict=True))


def _wait_status(relay: RelayProcess, *wanted: str, within: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        rows = db_rows(relay.db, "SELECT count(*) FROM deliveries")[0][0]
        if rows:
            seen = _delivery(relay)
            if seen["status"] in wanted:
                return seen
        time.sleep(0.1)
    raise AssertionError(f"delivery never {wanted}: {seen}\n{relay.output()[-3000:]}")


def _transitions(relay: RelayProcess) -> list[tuple[str, str]]:
    rows = db_rows(relay.db, "SELECT to_status, actor FROM transitions ORDER BY id")
    return [(str(r[0]), str(r[1])) for r in rows]


def _attempts(relay: RelayProcess) -> list[dict[str, Any]]:
    rows = db_rows(
        relay.db, "SELECT outcome, run_status, result, error FROM attempts ORDER BY number"
    )
    return [
        {
            "outcome": r[0],
            "run_status": r[1],
            "result": None if r[2] is None else json.loads(r[2]),
            "error": r[3],
        }
        for r in rows
    ]


def _started(upstream: str) -> dict[str, int]:
    """Each run the runner knows, and how many times it was executed."""
    return {str(r["function_run_id"]): int(r["start_count"]) for r in runner_runs(upstream)}


@pytest.mark.parametrize("start", ["one_step", "two_step"])
def test_an_active_run_is_followed_until_it_closes_with_its_result(
    tmp_path: Path, start: str
) -> None:
    routes = _route("slow_ok", stream=False, start=start)
    with _setup(tmp_path, routes, "--sync-wait", "0.2") as (relay, upstream):
        _post(relay)
        running = _wait_status(relay, "running")
        assert running["function_run_id"] is not None
        assert running["run_started_at"] is not None
        done = _wait_status(relay, "succeeded")
        started = _started(upstream)
    (attempt,) = _attempts(relay)
    assert (attempt["outcome"], attempt["run_status"], attempt["result"]) == (
        "run_active",
        "closed",
        {"slept": 1.5},
    )
    assert [s for s, _ in _transitions(relay)] == ["pending", "in_flight", "running", "succeeded"]
    assert started == {done["function_run_id"]: 1}


def test_a_failed_run_is_failed_with_the_functions_error(tmp_path: Path) -> None:
    routes = _route("raises", start="two_step")
    with _setup(tmp_path, routes) as (relay, _):
        _post(relay)
        done = _wait_status(relay, "failed")
    assert "RuntimeError: amount 99900 needs manual review" in done["last_error"]


def test_a_run_past_its_run_timeout_is_stopped_through_the_api(tmp_path: Path) -> None:
    routes = _route("forever", stream=False, start="two_step", run_timeout=2)
    with _setup(tmp_path, routes, "--sync-wait", "0.2") as (relay, upstream):
        _post(relay)
        done = _wait_status(relay, "timed_out")
        (run,) = runner_runs(upstream)
    assert run["stopped_at"] is not None
    assert run["status"] == "failed"
    assert "still running after its run_timeout (2 s): stopped" in done["last_error"]


@pytest.mark.parametrize("stream", [False, True])
def test_relay_deliveries_stop_stops_the_run_and_records_who(tmp_path: Path, stream: bool) -> None:
    routes = _route("forever", stream=stream, start="two_step")
    with _setup(tmp_path, routes, "--sync-wait", "0.2") as (relay, upstream):
        _post(relay)
        going = _wait_status(relay, "running" if not stream else "in_flight")
        deadline = time.monotonic() + 30
        while _delivery(relay)["function_run_id"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        stop = relay_cli(
            "deliveries", "stop", going["id"], "--db", str(relay.db), "--actor", "alice"
        )
        assert stop.returncode == 0, stop.stderr
        done = _wait_status(relay, "stopped")
        (run,) = runner_runs(upstream)
    assert run["stopped_at"] is not None
    assert done["last_error"] == f"run {done['function_run_id']} stopped by alice"
    assert _transitions(relay)[-1] == ("stopped", "alice")


def test_stop_of_a_finished_delivery_is_refused_with_the_reason(tmp_path: Path) -> None:
    with _setup(tmp_path, _route("quick_ok")) as (relay, _):
        _post(relay)
        done = _wait_status(relay, "succeeded")
        refused = relay_cli("deliveries", "stop", done["id"], "--db", str(relay.db))
    assert refused.returncode == 1
    assert "only a running run can be stopped" in refused.stderr


@pytest.mark.crash
@pytest.mark.parametrize("point", ["after_create", "after_send"])
def test_two_step_start_survives_a_sigkill_without_a_second_start_or_a_person(
    tmp_path: Path, point: str
) -> None:
    """``after_create``: the run was created and its id stored, its start not sent;
    ``after_send``: the start was sent (the run ran), its answer not recorded."""
    routes = _route("quick_ok", stream=False, start="two_step")
    with _setup(tmp_path, routes, env={"RELAY_FAULT": f"{point}:1"}) as (relay, upstream):
        _post(relay)
        assert relay.process is not None
        relay.process.wait(timeout=60)
        assert relay.crashed, relay.output()[-2000:]
        relay.start()
        done = _wait_status(relay, "succeeded", "needs_review")
        started = _started(upstream)
    assert done["status"] == "succeeded"
    assert started == {done["function_run_id"]: 1}  # one run, started once
    outcomes = [a["outcome"] for a in _attempts(relay)]
    assert outcomes == ["ambiguous", "succeeded"]  # the cut attempt, then the settled one
