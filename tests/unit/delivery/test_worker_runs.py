"""Runs followed to their end by the running worker: an ``active`` answer is looked at until
the run closes or fails, a run past its run_timeout is stopped, an operator's stop is
carried out, and a two-step start settles a lost answer through the API, never by a second
start."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.store.base import DeliveryStatus
from tests.harness import Relay, running_relay
from tests.helpers import FakeClock, write_config
from tests.unit.delivery.engine_kit import attempts, only_delivery, post_issue, route
from tests.unit.delivery.functions_api import FunctionsApi

pytestmark = pytest.mark.usefixtures("backend")  # each backend: see conftest.py

S = DeliveryStatus


async def advance_until(relay: Relay, clock: FakeClock, status: S, step: float = 2.0) -> None:
    """Move the wall clock in steps (each look is due a while after the last) until the
    delivery has ``status``."""
    for _ in range(200):
        if await relay.status_is("new-issues", status):
            return
        clock.advance(step)
        try:
            await relay.wait_for(lambda: relay.status_is("new-issues", status), within=0.1)
        except AssertionError:
            continue
        return
    raise AssertionError(f"never {status}: {await relay.delivery_status('new-issues')}")


async def test_an_active_run_is_followed_until_it_closes_with_its_result(tmp_path: Path) -> None:
    api = FunctionsApi(looks_until_done=2, result={"labels": ["bug"]})
    clock = FakeClock()
    config = write_config(tmp_path / "relay.yaml", routes=route(stream=False))
    async with running_relay(config, handler=_async(api), whole_api=True, clock=clock) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.RUNNING))
        running = await only_delivery(relay)
        assert running.function_run_id == "run_1"
        assert running.run_started_at is not None
        await advance_until(relay, clock, S.SUCCEEDED)
        done = await only_delivery(relay)
        (attempt,) = await attempts(relay, done)
        transitions = await relay.store.list_transitions(done.id)
    assert (attempt.run_status, attempt.result, list(attempt.logs)) == (
        "closed",
        {"labels": ["bug"]},
        ["step"],
    )
    assert [t.to_status for t in transitions][-3:] == [S.IN_FLIGHT, S.RUNNING, S.SUCCEEDED]
    assert api.started() == {"run_1": 1}
    assert api.runs["run_1"].looks == 3


async def test_a_followed_run_that_fails_is_failed_with_its_reason(tmp_path: Path) -> None:
    api = FunctionsApi(outcome="failed", result="ValueError: no such order\n  at line 3")
    clock = FakeClock()
    config = write_config(tmp_path / "relay.yaml", routes=route(stream=False))
    async with running_relay(config, handler=_async(api), whole_api=True, clock=clock) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.RUNNING))
        await advance_until(relay, clock, S.FAILED)
        done = await only_delivery(relay)
    assert done.last_error == "run failed: ValueError: no such order (run run_1)"


async def test_a_run_past_its_run_timeout_is_stopped_and_timed_out(tmp_path: Path) -> None:
    api = FunctionsApi(outcome="never")
    clock = FakeClock()
    config = write_config(tmp_path / "relay.yaml", routes=route(stream=False, run_timeout=10))
    async with running_relay(config, handler=_async(api), whole_api=True, clock=clock) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.RUNNING))
        await advance_until(relay, clock, S.TIMED_OUT, step=3.0)
        done = await only_delivery(relay)
    assert api.runs["run_1"].stopped
    assert done.last_error == "run run_1 still running after its run_timeout (10 s): stopped"


async def test_an_operator_stop_stops_the_run_and_records_who(tmp_path: Path) -> None:
    api = FunctionsApi(outcome="never")
    clock = FakeClock()
    config = write_config(tmp_path / "relay.yaml", routes=route(stream=False))
    async with running_relay(config, handler=_async(api), whole_api=True, clock=clock) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.RUNNING))
        running = await only_delivery(relay)
        await relay.store.request_stop(running.id, clock.now(), actor="token:ops")
        await advance_until(relay, clock, S.STOPPED, step=0.5)
        transitions = await relay.store.list_transitions(running.id)
    assert api.runs["run_1"].stopped
    assert (transitions[-1].to_status, transitions[-1].actor) == (S.STOPPED, "token:ops")


async def test_two_step_start_creates_then_starts_with_the_optional_keys(tmp_path: Path) -> None:
    api = FunctionsApi(start_answer="closed", looks_until_done=-1)
    routes = route(
        stream=False,
        start="two_step",
        runtime="extended",
        callback_url="https://hooks.example.test/done/{{ event_id }}",
    )
    config = write_config(tmp_path / "relay.yaml", routes=routes)
    async with running_relay(config, handler=_async(api), whole_api=True) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.SUCCEEDED))
        done = await only_delivery(relay)
    assert [m for m, _ in api.requests] == ["POST", "POST"]
    assert api.requests[0][1].endswith("/runs/create")
    assert api.requests[1][1].endswith("/runs/run_1")
    body = api.runs["run_1"].body
    assert body["runtime"] == "extended"
    assert body["callback_url"] == "https://hooks.example.test/done/d-1"  # the provider id
    assert done.function_run_id == "run_1"


async def test_two_step_start_whose_answer_is_lost_is_settled_by_the_api(tmp_path: Path) -> None:
    api = FunctionsApi(cut_start=1, looks_until_done=-1, start_answer="closed")
    clock = FakeClock()
    routes = route(stream=False, start="two_step")
    config = write_config(tmp_path / "relay.yaml", routes=routes)
    async with running_relay(config, handler=_async(api), whole_api=True, clock=clock) as relay:
        await post_issue(relay, 1)
        await advance_until(relay, clock, S.SUCCEEDED, step=1.0)
        done = await only_delivery(relay)
        tried = await attempts(relay, done)
    assert api.started() == {"run_1": 1}  # never a second start, never a second run
    assert [a.outcome for a in tried] == ["unsettled", "succeeded"]
    assert ("GET", "/functions/triage_issue/runs/run_1") in api.requests


async def test_one_step_start_whose_answer_is_lost_still_needs_review(tmp_path: Path) -> None:
    api = FunctionsApi(cut_start=1)
    config = write_config(tmp_path / "relay.yaml", routes=route(stream=False, start="one_step"))
    async with running_relay(config, handler=_async(api), whole_api=True) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.NEEDS_REVIEW))


def _async(api: FunctionsApi):  # type: ignore[no-untyped-def]
    async def handle(request):  # type: ignore[no-untyped-def]
        return api(request)

    return handle
