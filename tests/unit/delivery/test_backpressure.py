"""Token bucket and 429 pause as pure values."""

from __future__ import annotations

import pytest

from relay.delivery.backpressure import Throttle
from relay.ratelimit import RateLimit, TokenBucket

T0 = 1_000.0


def test_full_bucket_allows_a_burst_of_count() -> None:
    bucket = TokenBucket.full(RateLimit(count=10, per=60.0), T0)
    assert bucket.available(T0) == 10
    assert bucket.take(10, T0).available(T0) == 0


def test_bucket_refills_at_count_per_period() -> None:
    empty = TokenBucket.full(RateLimit(count=10, per=60.0), T0).take(10, T0)
    assert empty.available(T0 + 5.9) == 0
    assert empty.available(T0 + 6.0) == 1
    assert empty.ready_at(T0) == pytest.approx(T0 + 6.0)


def test_bucket_never_holds_more_than_its_capacity() -> None:
    bucket = TokenBucket.full(RateLimit(count=2, per=1.0), T0)
    assert bucket.available(T0 + 3600) == 2


def test_bucket_ignores_a_clock_stepping_back() -> None:
    empty = TokenBucket.full(RateLimit(count=1, per=1.0), T0).take(1, T0)
    assert empty.available(T0 - 100) == 0
    assert empty.refill(T0 - 100).updated == T0


def test_ready_at_is_now_when_a_token_is_there() -> None:
    assert TokenBucket.full(RateLimit(count=1, per=1.0), T0).ready_at(T0) == T0


def test_429_with_retry_after_pauses_for_exactly_that() -> None:
    throttle = Throttle().on_throttled(T0, 7.0)
    assert throttle.until == T0 + 7.0
    assert throttle.paused(T0 + 6.9)
    assert not throttle.paused(T0 + 7.0)


def test_429_without_retry_after_pauses_exponentially_up_to_the_cap() -> None:
    throttle = Throttle(base=1.0, cap=5.0)
    pauses = []
    now = T0
    for _ in range(5):
        throttle = throttle.on_throttled(now, None)
        pauses.append(throttle.until - now)
        now = throttle.until
    assert pauses == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_an_answer_ends_the_streak_but_not_the_pause_under_way() -> None:
    throttle = Throttle().on_throttled(T0, None).on_throttled(T0, None)
    answered = throttle.on_answer()
    assert answered.strikes == 0
    assert answered.until == throttle.until


def test_a_shorter_retry_after_never_shortens_a_pause_under_way() -> None:
    throttle = Throttle().on_throttled(T0, 60.0).on_throttled(T0 + 1, 1.0)
    assert throttle.until == T0 + 60.0
