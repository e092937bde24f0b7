"""A per-target circuit breaker as a pure state machine: values in, a new value out.

closed ──N consecutive failures──▶ open ──cool-down over──▶ half_open (one probe)
   ▲                                 ▲                          │
   └────────── probe succeeds ───────┼──────── probe fails ─────┘

While open, nothing new is sent (deliveries wait in the store without using attempts);
after the cool-down exactly one probe is allowed; its outcome closes or re-opens.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Breaker", "BreakerState"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Breaker:
    threshold: int = 10
    cooldown: float = 30.0
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0  # consecutive, while closed
    opened_at: float | None = None
    probing: bool = False  # half-open and the probe is out

    def current(self, now: float) -> Breaker:
        """The breaker as of ``now``: an open breaker whose cool-down is over is half-open."""
        if self.state is BreakerState.OPEN and now >= self.reopens_at:
            return dataclasses.replace(self, state=BreakerState.HALF_OPEN, probing=False)
        return self

    @property
    def reopens_at(self) -> float:
        """When an open breaker lets a probe through (``inf`` when not open)."""
        if self.state is not BreakerState.OPEN or self.opened_at is None:
            return float("inf")
        return self.opened_at + self.cooldown

    def allowance(self) -> int | None:
        """How many new attempts may start: ``None`` for no limit (closed)."""
        if self.state is BreakerState.CLOSED:
            return None
        if self.state is BreakerState.HALF_OPEN and not self.probing:
            return 1
        return 0

    def started(self, count: int) -> Breaker:
        """``count`` attempts were sent; in half-open the first is the probe."""
        if self.state is BreakerState.HALF_OPEN and count > 0:
            return dataclasses.replace(self, probing=True)
        return self

    def on_success(self) -> Breaker:
        """The target answered (any answer that is not a retryable failure)."""
        if self.state is BreakerState.OPEN:
            return self  # a straggler from before it opened proves little; wait for the probe
        return dataclasses.replace(
            self, state=BreakerState.CLOSED, failures=0, opened_at=None, probing=False
        )

    def on_failure(self, now: float) -> Breaker:
        """A retryable failure: refused, reset, timed out or a 5xx."""
        if self.state is BreakerState.HALF_OPEN:
            return self._open(now)
        if self.state is BreakerState.OPEN:
            return self
        failures = self.failures + 1
        if failures >= self.threshold:
            return self._open(now)
        return dataclasses.replace(self, failures=failures)

    def on_neutral(self) -> Breaker:
        """An attempt that says nothing about the target's health (a 429, a release): a
        probe slot it held is given back."""
        if self.state is BreakerState.HALF_OPEN:
            return dataclasses.replace(self, probing=False)
        return self

    def _open(self, now: float) -> Breaker:
        return dataclasses.replace(
            self, state=BreakerState.OPEN, failures=0, opened_at=now, probing=False
        )
