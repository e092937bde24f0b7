"""Test-only crash points: ``RELAY_FAULT`` makes the process SIGKILL itself at a named point.

``RELAY_FAULT=after_commit:40,after_send:7`` kills relay the 40th time an event's commit is
done but its answer not yet sent, or the 7th time a run start was sent but its outcome not
yet recorded, whichever comes first (``after_commit`` alone means the first time). Unset,
every ``hit`` is a no-op. The reliability suite (tests/reliability/) uses it to crash relay
exactly between the steps that must survive a crash.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

__all__ = ["FAULT_POINTS", "Faults"]

#: after_commit: an event is durable, its 2xx not sent. after_send: a run start was sent,
#: its outcome not recorded. after_create: a two-step start's run was created and its id
#: stored, the start not sent yet.
FAULT_POINTS = ("after_commit", "after_send", "after_create")


def _parse(spec: str) -> dict[str, int]:
    points: dict[str, int] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, count = item.partition(":")
        name = name.strip()
        if name not in FAULT_POINTS:
            raise ValueError(f"RELAY_FAULT: unknown point {name!r} (known: {FAULT_POINTS})")
        count = count.strip() or "1"
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"RELAY_FAULT: {name} needs a count >= 1, not {count!r}")
        nth = int(count)
        points[name] = nth
    return points


class Faults:
    """Where and when to crash; one instance per process, built from its environment."""

    def __init__(self, points: Mapping[str, int] | None = None) -> None:
        self._at = dict(points or {})
        self._seen = dict.fromkeys(self._at, 0)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Faults:
        return cls(_parse(env.get("RELAY_FAULT", "")))

    @property
    def armed(self) -> dict[str, int]:
        """The points that will crash, with the hit that crashes (empty: none)."""
        return dict(self._at)

    def hit(self, point: str) -> None:
        """Pass ``point``; the configured hit of an armed point kills the process."""
        nth = self._at.get(point)
        if nth is None:
            return
        self._seen[point] += 1
        if self._seen[point] >= nth:
            os.kill(os.getpid(), signal.SIGKILL)
