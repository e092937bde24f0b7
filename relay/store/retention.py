"""Retention: events (with their deliveries, attempts and transitions) older than the
configured age are purged by a background task, in small batches so that ingest never waits
long; an event is kept while any of its deliveries has not reached a final status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from relay.clock import Clock
from relay.logs import get_logger
from relay.store.base import Store

__all__ = ["DEFAULT_RETENTION", "Purger", "RetentionPolicy"]

DEFAULT_RETENTION = 30 * 86400.0


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    default: float = DEFAULT_RETENTION  # seconds
    per_source: Mapping[str, float] = field(default_factory=dict)

    def cutoffs(self, now: float) -> tuple[float, dict[str, float]]:
        """(cut-off for sources without their own, cut-off per source with one)."""
        return now - self.default, {name: now - age for name, age in self.per_source.items()}


class Purger:
    """Deletes what retention allows, ``batch`` events per transaction, every ``interval``.
    ``policy`` is read at each pass, so a reloaded config applies to the next one."""

    def __init__(
        self,
        store: Store,
        policy: Callable[[], RetentionPolicy],
        clock: Clock,
        *,
        batch: int = 500,
        interval: float = 3600.0,
        pause: float = 0.05,
    ) -> None:
        self._store = store
        self._policy = policy
        self._clock = clock
        self._batch = batch
        self._interval = interval
        self._pause = pause  # between batches: lets queued ingest writes go first
        self._task: asyncio.Task[None] | None = None
        self._log = get_logger()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="relay-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def purge_once(self) -> int:
        """One full pass; returns the number of events purged."""
        default_cutoff, per_source = self._policy().cutoffs(self._clock.now())
        total = 0
        passes: list[tuple[float, str | None]] = [(c, s) for s, c in per_source.items()]
        passes.append((default_cutoff, None))
        for cutoff, source in passes:
            while True:
                deleted = await self._store.purge_expired(
                    cutoff,
                    source=source,
                    exclude_sources=() if source is not None else tuple(per_source),
                    limit=self._batch,
                )
                total += deleted
                if deleted < self._batch:
                    break
                await asyncio.sleep(self._pause)
        if total:
            self._log.info("relay.retention.purged", events=total)
        return total

    async def _run(self) -> None:
        while True:
            try:
                await self.purge_once()
            except Exception as exc:  # the next pass tries again
                self._log.error("relay.retention.failed", error=str(exc))
            await asyncio.sleep(self._interval)
