"""Identifiers: a prefix, then a hex millisecond timestamp and 64 bits (sortable).

The 64 bits are random for the first id of a millisecond and count up from there for the
next ones of the same millisecond (as ULID's monotonic ids do), so that ids made in one
millisecond sort in the order they were made: two webhooks acknowledged in the same
millisecond are listed newest first, not in a random order. Another process starts from
its own random bits, so ids stay unique across instances.
"""

from __future__ import annotations

import secrets
import threading
import time

__all__ = ["new_id"]

_RANDOM_BITS = 63  # a random start below 2**63 leaves 2**63 ids of room in one millisecond


class _Sequence:
    """The last millisecond an id was made in, and the bits it got."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # ids are made on the event loop and the writer thread
        self._millis = -1
        self._bits = 0

    def next(self, millis: int) -> int:
        with self._lock:
            if millis == self._millis:
                self._bits += 1
            else:
                self._millis = millis
                self._bits = secrets.randbits(_RANDOM_BITS)
            return self._bits


_SEQUENCE = _Sequence()


def new_id(prefix: str, now: float | None = None) -> str:
    millis = int((time.time() if now is None else now) * 1000)
    return f"{prefix}_{millis:012x}{_SEQUENCE.next(millis):016x}"
