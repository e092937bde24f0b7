"""Per-target backpressure as a pure value driven by the caller's clock.

``Throttle``: a 429 pauses the whole target until its ``Retry-After`` (or an exponential
pause when the answer names none). The ``rate_limit``'s token bucket is relay/ratelimit.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

__all__ = ["Throttle"]


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
