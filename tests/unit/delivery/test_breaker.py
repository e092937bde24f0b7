"""The circuit breaker as a pure state machine."""

from __future__ import annotations

from relay.delivery.breaker import Breaker, BreakerState

T0 = 1_000.0


def _failed(breaker: Breaker, times: int, now: float = T0) -> Breaker:
    for _ in range(times):
        breaker = breaker.on_failure(now)
    return breaker


def test_closed_breaker_sets_no_limit() -> None:
    assert Breaker().allowance() is None


def test_opens_after_the_threshold_of_consecutive_failures() -> None:
    almost = _failed(Breaker(threshold=3), 2)
    assert almost.state is BreakerState.CLOSED
    opened = almost.on_failure(T0)
    assert opened.state is BreakerState.OPEN
    assert opened.allowance() == 0
    assert opened.reopens_at == T0 + 30.0


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    breaker = _failed(Breaker(threshold=3), 2).on_success()
    assert _failed(breaker, 2).state is BreakerState.CLOSED


def test_open_breaker_turns_half_open_after_the_cooldown_and_allows_one_probe() -> None:
    opened = _failed(Breaker(threshold=1, cooldown=30.0), 1)
    assert opened.current(T0 + 29.9).state is BreakerState.OPEN
    half = opened.current(T0 + 30.0)
    assert half.state is BreakerState.HALF_OPEN
    assert half.allowance() == 1
    probing = half.started(1)
    assert probing.allowance() == 0


def test_probe_success_closes_it() -> None:
    probing = _failed(Breaker(threshold=1), 1).current(T0 + 31).started(1)
    closed = probing.on_success()
    assert closed.state is BreakerState.CLOSED
    assert closed.allowance() is None


def test_probe_failure_reopens_it_for_another_cooldown() -> None:
    probing = _failed(Breaker(threshold=1, cooldown=30.0), 1).current(T0 + 31).started(1)
    reopened = probing.on_failure(T0 + 32)
    assert reopened.state is BreakerState.OPEN
    assert reopened.reopens_at == T0 + 62


def test_neutral_outcome_gives_the_probe_slot_back() -> None:
    probing = _failed(Breaker(threshold=1), 1).current(T0 + 31).started(1)
    assert probing.on_neutral().allowance() == 1


def test_stragglers_finishing_while_open_change_nothing() -> None:
    opened = _failed(Breaker(threshold=1), 1)
    assert opened.on_success() == opened
    assert opened.on_failure(T0 + 5) == opened
