"""A target's gate: how many attempts may start, and why not."""

from __future__ import annotations

from typing import Any

from relay.delivery.gate import TargetGate
from relay.delivery.retry import Outcome
from relay.ratelimit import RateLimit
from relay.targets import Target

T0 = 1_000.0


def _target(**fields: Any) -> Target:
    return Target(name="notte", base_url="http://x", api_key="k", **fields)


def test_open_gate_admits_every_free_slot() -> None:
    assert TargetGate(_target(), T0).admit(T0, 7).count == 7


def test_operator_pause_admits_nothing() -> None:
    gate = TargetGate(_target(), T0)
    gate.paused = True
    admission = gate.admit(T0, 7)
    assert (admission.count, admission.reason) == (0, "paused")


def test_429_closes_the_gate_until_the_pause_ends() -> None:
    gate = TargetGate(_target(), T0)
    gate.finished(Outcome.THROTTLED, T0, 5.0)
    admission = gate.admit(T0 + 1, 7)
    assert (admission.count, admission.reason, admission.until) == (0, "throttled", T0 + 5)
    assert gate.admit(T0 + 5, 7).count == 7


def test_rate_limit_caps_the_admission_and_names_the_next_token() -> None:
    gate = TargetGate(_target(rate_limit=RateLimit(2, 60.0)), T0)
    assert gate.admit(T0, 7).count == 2
    gate.started(2, T0)
    admission = gate.admit(T0, 7)
    assert (admission.count, admission.reason, admission.until) == (0, "rate_limited", T0 + 30)


def test_breaker_opens_on_failures_and_lets_one_probe_through_after_cooldown() -> None:
    gate = TargetGate(_target(breaker_failures=2, breaker_cooldown=10.0), T0)
    gate.finished(Outcome.RETRYABLE, T0, None)
    gate.finished(Outcome.AMBIGUOUS, T0, None)
    closed = gate.admit(T0 + 1, 7)
    assert (closed.count, closed.reason, closed.until) == (0, "breaker_open", T0 + 10)
    assert gate.admit(T0 + 10, 7).count == 1
    gate.started(1, T0 + 10)
    assert gate.admit(T0 + 10, 7).reason == "probing"
    gate.finished(Outcome.FATAL, T0 + 11, None)  # the target answered: it is up
    assert gate.admit(T0 + 11, 7).count == 7


def test_429s_do_not_count_as_breaker_failures() -> None:
    gate = TargetGate(_target(breaker_failures=1), T0)
    gate.finished(Outcome.THROTTLED, T0, 0.0)
    assert gate.breaker.failures == 0
    assert gate.admit(T0, 3).count == 3


def test_snapshot_shows_breaker_pause_and_limit() -> None:
    gate = TargetGate(_target(breaker_failures=1, breaker_cooldown=10.0, max_concurrency=4), T0)
    gate.finished(Outcome.RETRYABLE, T0, None)
    gate.finished(Outcome.THROTTLED, T0, 20.0)
    state = gate.snapshot(_target(max_concurrency=4), T0 + 1)
    assert (state.breaker, state.breaker_until) == ("open", T0 + 10)
    assert state.throttled_until == T0 + 20
    assert state.max_concurrency == 4


def test_reconfigure_keeps_state_unless_the_limits_changed() -> None:
    gate = TargetGate(_target(rate_limit=RateLimit(1, 60.0)), T0)
    gate.started(1, T0)
    gate.reconfigure(_target(rate_limit=RateLimit(1, 60.0)), T0)
    assert gate.admit(T0, 5).count == 0
    gate.reconfigure(_target(rate_limit=RateLimit(3, 60.0)), T0)
    assert gate.admit(T0, 5).count == 3
