"""What the delivery worker reports, counted (``/metrics``) and turned into alerts."""

from __future__ import annotations

from typing import Protocol

from relay.alerts.config import AlertKind
from relay.alerts.notifier import Notifier

__all__ = ["AlertingObserver", "AttemptCounter"]

_DEAD = ("dead", "failed")


class AttemptCounter(Protocol):
    """What counts attempts (``RelayMetrics``: ``/metrics``)."""

    def attempt_finished(
        self, *, route: str, target: str, outcome: str, status: str, duration_ms: float
    ) -> None: ...


class AlertingObserver:
    def __init__(self, metrics: AttemptCounter, notifier: Notifier) -> None:
        self._metrics = metrics
        self._notifier = notifier

    def attempt_finished(
        self,
        *,
        route: str,
        target: str,
        outcome: str,
        status: str,
        duration_ms: float,
        delivery_id: str = "",
        error: str | None = None,
    ) -> None:
        self._metrics.attempt_finished(
            route=route, target=target, outcome=outcome, status=status, duration_ms=duration_ms
        )
        kind = (
            AlertKind.DEAD
            if status in _DEAD
            else AlertKind.NEEDS_REVIEW
            if status == "needs_review"
            else None
        )
        if kind is not None:
            fields = {"status": status, "target": target, "delivery_id": delivery_id}
            self._notifier.notify(kind, route, **fields, error=(error or outcome)[:300])

    def breaker_changed(self, target: str, state: str) -> None:
        if state == "open":
            self._notifier.notify(AlertKind.BREAKER_OPEN, target, target=target)
