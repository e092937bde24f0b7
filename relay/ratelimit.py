"""A target's ``rate_limit`` (``count`` sends per ``per`` seconds, bursts up to ``count``)
and its token bucket, as pure values driven by the caller's clock: the worker keeps one
per target (relay/delivery/gate.py), a shared store one per target for every instance
(relay/store/_pg_buckets.py)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

__all__ = ["RateLimit", "TokenBucket"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` sends per ``per`` seconds."""

    count: int
    per: float


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
