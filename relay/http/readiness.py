"""Whether the store takes writes, for ``/readyz``: a load balancer should send webhooks to an
instance that can store them.

The receive path reports each webhook's write (``succeeded``/``failed``). After a failure
relay is not ready until a write succeeds again: a webhook's, or the probe ``check`` makes
(``Store.probe_write``, one row rewritten) at most every ``probe_interval`` seconds, so that
an instance the load balancer stopped sending to still finds out when its disk has room or
its database lock is free again. ``check`` answers within ``probe_wait`` seconds: a probe
still waiting for a lock is answered "not ready" and, when it ends, counts all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from relay.clock import Clock
from relay.logs import get_logger
from relay.store.base import Store

__all__ = ["WriteHealth", "WriteStatus"]


@dataclass(frozen=True, slots=True)
class WriteStatus:
    ok: bool
    failing_since: float | None = None
    error: str | None = None


class WriteHealth:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        probe_interval: float = 2.0,
        probe_wait: float = 1.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._probe_interval = probe_interval
        self._probe_wait = probe_wait
        self._failing_since: float | None = None
        self._error: str | None = None
        self._last_probe = -float("inf")  # monotonic
        self._probe: asyncio.Task[None] | None = None
        self._log = get_logger()

    def succeeded(self) -> None:
        if self._failing_since is not None:
            self._log.info(
                "relay.store.writes_recovered",
                failing_seconds=round(self._clock.now() - self._failing_since, 3),
            )
        self._failing_since = None
        self._error = None

    def failed(self, error: str) -> None:
        if self._failing_since is None:
            self._failing_since = self._clock.now()
            self._log.error("relay.store.writes_failing", error=error)
        self._error = error

    @property
    def status(self) -> WriteStatus:
        return WriteStatus(self._failing_since is None, self._failing_since, self._error)

    async def check(self) -> WriteStatus:
        """The status, after a probe write when writes were failing and none was made for
        ``probe_interval`` seconds."""
        if self._failing_since is None:
            return self.status
        now = self._clock.monotonic()
        if self._probe is None and now - self._last_probe >= self._probe_interval:
            self._last_probe = now
            self._probe = asyncio.get_running_loop().create_task(self._run_probe())
        if self._probe is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._probe), self._probe_wait)
        return self.status

    async def _run_probe(self) -> None:
        try:
            await self._store.probe_write(self._clock.now())
        except Exception as exc:  # any failure to write is what readiness reports
            self.failed(str(exc) or type(exc).__name__)
        else:
            self.succeeded()
        finally:
            self._probe = None
