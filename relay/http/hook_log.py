"""What ``/hooks/{source}`` reports beyond its answer: accepted events and rejections are
counted for ``/metrics``, and each rejection is stored (source, time, reason code, client
address) for ``relay events --status rejected``, off the request path.

Rejections are not acknowledged to anyone, so storing them must never slow a hook down nor
let a flood of bad requests queue writes without bound: at most ``max_pending`` writes wait
at a time; beyond that a rejection is only counted (``relay_rejections_dropped_total``).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from relay.alerts.config import AlertKind
from relay.alerts.notifier import Notifier
from relay.ids import new_id
from relay.logs import get_logger
from relay.metrics.relay_metrics import RelayMetrics
from relay.store.base import Store
from relay.store.log_queries import RejectionRecord

__all__ = ["HookLog", "HookObserver"]


class HookObserver(Protocol):
    def received(self, source: str, status: str, duplicate: bool) -> None:
        """An event was stored (or recognised as a re-delivery)."""
        ...

    def rejected(self, source: str, reason: str, client_ip: str | None, now: float) -> None:
        """A request was refused with a 401 for ``reason`` (a verification reason code)."""
        ...

    def mapping_failed(
        self, source: str, route: str, event_id: str, delivery_id: str, error: str
    ) -> None:
        """A delivery was stored as ``mapping_failed`` (its variables could not be resolved)."""
        ...

    def store_failed(self, source: str, operation: str, error: str) -> None:
        """The store refused a write; the webhook was answered 503."""
        ...


class HookLog:
    def __init__(
        self,
        store: Store,
        metrics: RelayMetrics,
        *,
        max_pending: int = 256,
        alerts: Notifier | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._alerts = alerts
        self._max_pending = max_pending
        self._pending: set[asyncio.Task[None]] = set()
        self._log = get_logger()

    def received(self, source: str, status: str, duplicate: bool) -> None:
        self._metrics.event_received(source, status, duplicate)

    def mapping_failed(
        self, source: str, route: str, event_id: str, delivery_id: str, error: str
    ) -> None:
        self._metrics.mapping_failed(source, route)
        if self._alerts is not None:
            self._alerts.notify(
                AlertKind.MAPPING_FAILED,
                route,
                source=source,
                event_id=event_id,
                delivery_id=delivery_id,
                error=error[:300],
            )

    def store_failed(self, source: str, operation: str, error: str) -> None:
        self._metrics.store_write_failed(operation)

    def rejected(self, source: str, reason: str, client_ip: str | None, now: float) -> None:
        self._metrics.event_rejected(source, reason)
        if len(self._pending) >= self._max_pending:
            self._metrics.rejection_dropped()
            return
        record = RejectionRecord(new_id("rej", now), source, now, reason[:64], client_ip)
        task = asyncio.get_running_loop().create_task(self._store_one(record))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _store_one(self, record: RejectionRecord) -> None:
        try:
            await self._store.record_rejection(record)
        except Exception as exc:  # counted and logged; the 401 was answered already
            self._metrics.rejection_dropped()
            self._log.warning(
                "relay.hook.rejection_not_stored", source=record.source, error=str(exc)
            )

    async def drain(self) -> None:
        """Wait for the rejection writes under way (before the store closes)."""
        if self._pending:
            await asyncio.wait(list(self._pending))
