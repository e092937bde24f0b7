"""Leases that a live instance keeps renewing, so that a dead one's expire soon.

A claim leases a delivery to its owner until ``now + lease_ttl`` (or the worker's
``lease_seconds`` when shorter: the longest an attempt can take). While the attempt runs, the
instance that claimed it extends the lease every ``lease_ttl / 3`` seconds, never past
``claimed_at + lease_seconds``. When the instance dies (kill -9, OOM, lost machine), nobody
extends its leases: within ``lease_ttl`` they are expired, and any instance's sweep
(``recover_expired``) takes the deliveries back. A live instance's lease is never expired,
unless it could not reach the database for two thirds of ``lease_ttl``.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay.clock import Clock
from relay.store._pg_sql import Conn, status_count
from relay.store.base import ClaimedDelivery

__all__ = ["LeaseKeeper"]

_RENEW = """
UPDATE deliveries d
SET lease_expires_at = greatest(d.lease_expires_at, least(u.deadline, $1))
FROM unnest($2::text[], $3::int[], $4::text[], $5::float8[]) AS u(id, number, owner, deadline)
WHERE d.id = u.id AND d.status = 'in_flight' AND d.attempts = u.number
  AND d.lease_owner = u.owner
"""


@dataclass(frozen=True, slots=True)
class _Held:
    number: int
    owner: str
    deadline: float


class LeaseKeeper:
    def __init__(self, ttl: float | None, clock: Clock) -> None:
        if ttl is not None and ttl <= 0:
            raise ValueError("lease_ttl must be > 0")
        self.ttl = ttl
        self._clock = clock
        self._held: dict[str, _Held] = {}

    @property
    def interval(self) -> float | None:
        """Seconds between renewals (None: leases are not renewed)."""
        return None if self.ttl is None else self.ttl / 3.0

    def lease(self, lease_seconds: float) -> float:
        """The first lease of a claim."""
        return lease_seconds if self.ttl is None else min(lease_seconds, self.ttl)

    def hold(self, claimed: list[ClaimedDelivery], owner: str, deadline: float) -> None:
        if self.ttl is None:
            return
        for c in claimed:
            self._held[c.delivery.id] = _Held(c.attempt_number, owner, deadline)

    def release(self, claimed: ClaimedDelivery) -> None:
        held = self._held.get(claimed.delivery.id)
        if held is not None and held.number == claimed.attempt_number:
            del self._held[claimed.delivery.id]

    @property
    def held(self) -> int:
        return len(self._held)

    async def renew(self, conn: Conn) -> int:
        """Extend every lease still held; the number of leases renewed."""
        if self.ttl is None:
            return 0
        now = self._clock.now()
        for delivery_id in [k for k, h in self._held.items() if h.deadline <= now]:
            del self._held[delivery_id]  # past the longest attempt: let it expire
        if not self._held:
            return 0
        items = list(self._held.items())
        status = await conn.execute(
            _RENEW,
            now + self.ttl,
            [k for k, _ in items],
            [h.number for _, h in items],
            [h.owner for _, h in items],
            [h.deadline for _, h in items],
        )
        return status_count(status)
