from __future__ import annotations

import pytest

from relay.delivery.follow import Clockwork, after_look, after_stop
from relay.delivery.retry import Outcome
from relay.delivery.runs_api import ApiFailure, RunState
from relay.store.base import DeliveryStatus

S = DeliveryStatus
T0 = 1_700_000_000.0


def state(status: str | None, **fields: object) -> RunState:
    base: dict[str, object] = {
        "run_id": "run_1",
        "status": status,
        "session_id": "s1",
        "result": None,
        "logs": ("a",),
        "stopped": False,
    }
    base.update(fields)
    return RunState(**base)  # type: ignore[arg-type]


def at(age: float, timeout: float = 3600.0) -> Clockwork:
    return Clockwork(now=T0 + age, started_at=T0, deadline=T0 + timeout)


@pytest.mark.parametrize(("age", "delay"), [(0.0, 1.0), (20.0, 5.0), (1000.0, 30.0)])
def test_looks_come_a_quarter_of_the_runs_age_apart_between_1_and_30_s(
    age: float, delay: float
) -> None:
    assert at(age).next_look() == T0 + age + delay


def test_a_closed_run_succeeds_with_its_result_and_logs() -> None:
    check = after_look(state("closed", result={"n": 1}), "run_1", at(10))
    assert (check.new_status, check.result, check.logs) == (S.SUCCEEDED, {"n": 1}, ("a",))


def test_a_failed_run_fails_with_the_first_line_of_its_error() -> None:
    failed = state("failed", result="RuntimeError: amount 99900 needs review\nTraceback ...")
    check = after_look(failed, "run_1", at(10))
    assert check.new_status is S.FAILED
    assert check.error == "run failed: RuntimeError: amount 99900 needs review (run run_1)"


def test_an_active_run_is_looked_at_again() -> None:
    check = after_look(state("active"), "run_1", at(8))
    assert (check.new_status, check.next_check_at, check.error) == (S.RUNNING, T0 + 10, None)


def test_an_unknown_status_keeps_following_and_says_so() -> None:
    check = after_look(state("paused"), "run_1", at(8))
    assert check.new_status is S.RUNNING
    assert check.error == "unknown run status 'paused'"


def test_an_api_outage_keeps_the_run_running_until_long_past_its_deadline() -> None:
    down = ApiFailure(Outcome.RETRYABLE, "HTTP 503: busy", 503)
    assert after_look(down, "run_1", at(100)).new_status is S.RUNNING
    assert after_look(down, "run_1", at(100, timeout=10)).new_status is S.RUNNING
    late = after_look(down, "run_1", at(100 + 700, timeout=100))
    assert late.new_status is S.NEEDS_REVIEW
    assert late.error is not None
    assert "could not tell how it ended" in late.error


def test_a_run_the_api_does_not_know_goes_to_a_person() -> None:
    gone = ApiFailure(Outcome.FATAL, "HTTP 404: not found", 404)
    check = after_look(gone, "run_1", at(5))
    assert check.new_status is S.NEEDS_REVIEW
    assert check.error == "reading run run_1: the API does not know it (HTTP 404: not found)"


def test_a_run_past_its_deadline_is_timed_out_once_stopped() -> None:
    check = after_stop(None, state("failed", stopped=True), "run_1", at(20, 10), requested_by=None)
    assert check.new_status is S.TIMED_OUT
    assert check.error == "run run_1 still running after its run_timeout (10 s): stopped"


def test_an_operator_stop_is_recorded_with_who_asked() -> None:
    check = after_stop(None, None, "run_1", at(5), requested_by="token:ops")
    assert (check.new_status, check.actor) == (S.STOPPED, "token:ops")


def test_a_run_that_closed_before_its_stop_keeps_its_success() -> None:
    closed = state("closed", result=1)
    assert after_stop(None, closed, "run_1", at(5), requested_by="op").new_status is S.SUCCEEDED
    refused = ApiFailure(Outcome.FATAL, "HTTP 409: finished", 409)
    assert after_stop(refused, closed, "run_1", at(5), requested_by="op").new_status is S.SUCCEEDED


def test_a_stop_the_api_cannot_take_now_is_tried_again() -> None:
    busy = ApiFailure(Outcome.RETRYABLE, "HTTP 502", 502)
    check = after_stop(busy, busy, "run_1", at(50, 10), requested_by=None)
    assert check.new_status is S.RUNNING
    assert check.error is not None
    assert check.error.startswith("stopping run run_1")
