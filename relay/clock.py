"""Time as a dependency: wall-clock seconds for records, monotonic for durations."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> float:
        """Unix time in seconds (wall clock), used for stored timestamps and windows."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds, used for durations and deadlines."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()
