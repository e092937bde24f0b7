"""Admission to one target: the operator's pause, a 429 pause, the circuit breaker and the
rate limit, combined. The worker owns one gate per target; every rule is a pure value
(``Breaker``, ``Throttle``, ``TokenBucket``) replaced as time passes and outcomes arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay.delivery.backpressure import Throttle
from relay.delivery.breaker import Breaker, BreakerState
from relay.delivery.retry import Outcome
from relay.ratelimit import RateLimit, TokenBucket
from relay.store.base import TargetState
from relay.targets import Target

__all__ = ["Admission", "TargetGate"]

_FAILURES = frozenset({Outcome.RETRYABLE, Outcome.AMBIGUOUS, Outcome.UNSETTLED})
_ANSWERS = frozenset({Outcome.SUCCEEDED, Outcome.RUN_FAILED, Outcome.FATAL, Outcome.RUN_ACTIVE})


@dataclass(frozen=True, slots=True)
class Admission:
    """How many attempts may start now; when nothing may, why and until when (if known)."""

    count: int
    reason: str | None = None  # paused, throttled, breaker_open, probing, rate_limited, full
    until: float | None = None


class TargetGate:
    def __init__(self, target: Target, now: float) -> None:
        self.paused = False  # by an operator, read from the store
        self.throttle = Throttle()
        self.breaker = Breaker(threshold=target.breaker_failures, cooldown=target.breaker_cooldown)
        self._limit: RateLimit | None = target.rate_limit
        self.bucket = None if self._limit is None else TokenBucket.full(self._limit, now)

    def reconfigure(self, target: Target, now: float) -> None:
        """Follow a changed config without forgetting the state built so far."""
        if target.rate_limit != self._limit:
            self._limit = target.rate_limit
            self.bucket = None if self._limit is None else TokenBucket.full(self._limit, now)
        if (self.breaker.threshold, self.breaker.cooldown) != (
            target.breaker_failures,
            target.breaker_cooldown,
        ):
            self.breaker = Breaker(
                threshold=target.breaker_failures, cooldown=target.breaker_cooldown
            )

    def admit(self, now: float, free: int) -> Admission:
        """How many of ``free`` concurrency slots may be used now."""
        if self.paused:
            return Admission(0, "paused")
        if self.throttle.paused(now):
            return Admission(0, "throttled", self.throttle.until)
        self.breaker = self.breaker.current(now)
        allowance = self.breaker.allowance()
        if allowance == 0:
            if self.breaker.state is BreakerState.OPEN:
                return Admission(0, "breaker_open", self.breaker.reopens_at)
            return Admission(0, "probing")
        count = free if allowance is None else min(free, allowance)
        if self.bucket is not None:
            tokens = self.bucket.available(now)
            if tokens <= 0:
                return Admission(0, "rate_limited", self.bucket.ready_at(now))
            count = min(count, tokens)
        return Admission(count, None if count > 0 else "full")

    def started(self, count: int, now: float) -> None:
        if count <= 0:
            return
        if self.bucket is not None:
            self.bucket = self.bucket.take(count, now)
        self.breaker = self.breaker.started(count)

    def finished(self, outcome: Outcome, now: float, retry_after: float | None) -> None:
        """An attempt ended: update the pause and the breaker."""
        if outcome is Outcome.THROTTLED:
            self.throttle = self.throttle.on_throttled(now, retry_after)
            self.breaker = self.breaker.on_neutral()
            return
        if outcome is Outcome.RELEASED:
            self.breaker = self.breaker.on_neutral()
            return
        self.throttle = self.throttle.on_answer()
        if outcome in _FAILURES:
            self.breaker = self.breaker.on_failure(now)
        elif outcome in _ANSWERS:
            self.breaker = self.breaker.on_success()

    def snapshot(self, target: Target, now: float) -> TargetState:
        """What the store shows of this gate (``relay targets``)."""
        breaker = self.breaker.current(now)
        until = breaker.reopens_at if breaker.state is BreakerState.OPEN else None
        return TargetState(
            target=target.name,
            breaker=breaker.state.value,
            breaker_until=until,
            throttled_until=self.throttle.until if self.throttle.paused(now) else None,
            max_concurrency=target.max_concurrency,
            updated_at=now,
        )
