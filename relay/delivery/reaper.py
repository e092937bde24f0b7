"""Take back the leases of instances that are gone, soon after they went.

On a store several instances share, an instance that dies (kill -9, OOM, lost machine)
leaves its deliveries in flight, holding its targets' ``max_concurrency`` slots. Its leases
would expire after the lease ttl; the store can tell sooner (PostgreSQL: the instance's
liveness token was released, relay/store/_pg_liveness.py). The worker asks it every few
seconds, and whenever a target's loop finds due work it cannot claim (the slots are held
elsewhere, maybe by the dead): one cheap query when nobody died.
"""

from __future__ import annotations

from relay.clock import Clock
from relay.logs import get_logger
from relay.store.base import Store

__all__ = ["DeadOwnerReaper"]


class DeadOwnerReaper:
    def __init__(self, store: Store, clock: Clock, owner: str) -> None:
        self._store = store
        self._clock = clock
        self._owner = owner
        self._last: float | None = None
        self._busy = False
        self._log = get_logger()

    async def check(self, gap: float) -> list[str]:
        """Recover the leases of gone owners, unless a check runs or began less than ``gap``
        seconds ago; the delivery ids recovered."""
        started = self._clock.monotonic()
        if self._busy or (self._last is not None and started - self._last < gap):
            return []
        self._busy, self._last = True, started
        try:
            recovered = await self._store.recover_dead(self._clock.now(), self._owner)
        except Exception as exc:
            self._log.error("relay.delivery.liveness_check_failed", error=str(exc))
            return []
        finally:
            self._busy = False
        return recovered  # the store logs the owners it found gone
