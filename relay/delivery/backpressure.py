"""Per-target backpressure as pure values driven by the caller's clock.

``TokenBucket``: the target's ``rate_limit`` (``count`` per ``per`` seconds, bursts up to
``count``). ``Throttle``: a 429 pauses the whole target until its ``Retry-After`` (or an
exponential pause when the answer names none).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from relay.store.base import RateLimit

__all__ = ["RateLimit", "Throttle", "TokenBucket"]


@dataclass(frozen=True, slots=True)
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, limit: RateLimit, now: float) -> TokenBucket:
        count = float(limit.count)
        return cls(rate=count / limit.per, capacity=count, tokens=count, updated=now)

    def refill(self, now: float) -> TokenBucket:
        elapsed = max(0.0, now - self.updated)  # a clock stepping back adds nothing
        tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        return dataclasses.replace(self, tokens=tokens, updated=max(now, self.updated))

    def available(self, now: float) -> int:
        """Whole sends allowed at ``now``."""
        return math.floor(self.refill(now).tokens + 1e-9)

    def take(self, count: int, now: float) -> TokenBucket:
        bucket = self.refill(now)
        return dataclasses.replace(bucket, tokens=bucket.tokens - count)

    def ready_at(self, now: float) -> float:
        """When the next whole token is there (``now`` if one already is)."""
        bucket = self.refill(now)
        missing = 1.0 - bucket.tokens
        return now if missing <= 1e-9 else now + missing / self.rate


@dataclass(frozen=True, slots=True)
class Throttle:
    """The target asked relay to slow down (429): nothing new is sent before ``until``."""

    until: float = 0.0
    strikes: int = 0  # consecutive 429s
    base: float = 1.0
    cap: float = 300.0

    def pause_for(self, retry_after: float | None) -> float:
        """Seconds to pause after one more 429: ``Retry-After`` when given, else
        ``base * 2**strikes`` capped."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return min(self.cap, self.base * 2.0**self.strikes)

    def on_throttled(self, now: float, retry_after: float | None) -> Throttle:
        until = max(self.until, now + self.pause_for(retry_after))
        return dataclasses.replace(self, until=until, strikes=self.strikes + 1)

    def on_answer(self) -> Throttle:
        """Any answer that is not a 429 ends the streak (a pause under way still holds)."""
        return self if self.strikes == 0 else dataclasses.replace(self, strikes=0)

    def paused(self, now: float) -> bool:
        return now < self.until
