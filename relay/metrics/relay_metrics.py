"""relay's metrics: what is counted as it happens (events, rejections, attempts, reloads) and
what is read at scrape time (queue depth and lag, in-flight against the limit, breakers).

prometheus-client's counters and histogram, on a ``CollectorRegistry`` each ``RelayMetrics``
owns (one per app; never the library's process-wide ``REGISTRY``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram

from relay.metrics.exposition import GaugeSpec, ScrapedGauges, Series, render

if TYPE_CHECKING:
    from relay.delivery.worker import DeliveryWorker
    from relay.routing.reloader import ConfigState, ReloadResult
    from relay.store.base import Store
    from relay.targets import Target

__all__ = ["RelayMetrics"]

_BREAKER_STATES = ("closed", "open", "half_open")
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


_QUEUE_DEPTH = GaugeSpec(
    "relay_queue_depth",
    "Deliveries waiting to be sent (pending, retry_scheduled or paused).",
    ("target",),
)
_QUEUE_LAG = GaugeSpec(
    "relay_queue_oldest_due_seconds",
    "How long the most overdue delivery has been due (0 when none is overdue).",
    ("target",),
)
_IN_FLIGHT = GaugeSpec(
    "relay_target_in_flight", "Attempts in flight from this instance.", ("target",)
)
_LIMIT = GaugeSpec("relay_target_max_concurrency", "The target's max_concurrency.", ("target",))
_BREAKER = GaugeSpec(
    "relay_target_breaker_state",
    "1 for the breaker's current state (closed, open, half_open), else 0.",
    ("target", "state"),
)
_PAUSED = GaugeSpec("relay_target_paused", "1 when an operator paused the target.", ("target",))
_LOADED_AT = GaugeSpec(
    "relay_config_loaded_timestamp_seconds", "When the config in force was loaded."
)
_RELOAD_OK = GaugeSpec(
    "relay_config_last_reload_successful", "0 when the last reload was refused, else 1."
)
_SCRAPED = (_QUEUE_DEPTH, _QUEUE_LAG, _IN_FLIGHT, _LIMIT, _BREAKER, _PAUSED, _LOADED_AT, _RELOAD_OK)


class RelayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = CollectorRegistry() if registry is None else registry
        self.received = Counter(
            "relay_events_received_total",
            "Events stored, by source and status (routed, unrouted, unprocessable).",
            ("source", "status"),
            registry=r,
        )
        self.duplicates = Counter(
            "relay_events_duplicate_total",
            "Re-deliveries of a stored provider event id, answered and not forwarded.",
            ("source",),
            registry=r,
        )
        self.rejected = Counter(
            "relay_events_rejected_total",
            "Requests refused with a 401, by source and reason code.",
            ("source", "reason"),
            registry=r,
        )
        self.rejections_dropped = Counter(
            "relay_rejections_dropped_total",
            "Rejected requests counted but not stored (the store refused the write).",
            registry=r,
        )
        self.mapping_failures = Counter(
            "relay_mapping_failures_total",
            "Deliveries created as mapping_failed (their variables could not be resolved).",
            ("source", "route"),
            registry=r,
        )
        self.store_write_errors = Counter(
            "relay_store_write_errors_total",
            "Writes the store refused (the webhook was answered 503 and not acknowledged).",
            ("operation",),
            registry=r,
        )
        self.attempts = Counter(
            "relay_attempts_total",
            "Attempts to start a run, by route, target and outcome.",
            ("route", "target", "outcome"),
            registry=r,
        )
        self.deliveries = Counter(
            "relay_deliveries_total",
            "Delivery status after each attempt (succeeded, retry_scheduled, dead, ...).",
            ("route", "status"),
            registry=r,
        )
        self.latency = Histogram(
            "relay_attempt_duration_seconds",
            "How long an attempt took, from sending to the run's answer.",
            ("target",),
            registry=r,
            buckets=_LATENCY_BUCKETS,
        )
        self.reloads = Counter(
            "relay_config_reloads_total",
            "Config reloads by result (success, failure).",
            ("result",),
            registry=r,
        )
        self.scraped = ScrapedGauges(_SCRAPED)
        r.register(self.scraped)

    # counted as it happens -------------------------------------------------------------

    def event_received(self, source: str, status: str, duplicate: bool) -> None:
        if duplicate:
            self.duplicates.labels(source=source).inc()
        else:
            self.received.labels(source=source, status=status).inc()

    def event_rejected(self, source: str, reason: str) -> None:
        self.rejected.labels(source=source, reason=reason[:64]).inc()

    def mapping_failed(self, source: str, route: str) -> None:
        self.mapping_failures.labels(source=source, route=route).inc()

    def store_write_failed(self, operation: str) -> None:
        self.store_write_errors.labels(operation=operation).inc()

    def rejection_dropped(self, count: int = 1) -> None:
        self.rejections_dropped.inc(count)

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
        self.attempts.labels(route=route, target=target, outcome=outcome).inc()
        self.deliveries.labels(route=route, status=status).inc()
        self.latency.labels(target=target).observe(max(0.0, duration_ms / 1000.0))

    def breaker_changed(self, target: str, state: str) -> None:
        """Nothing to count: breaker states are read at scrape time."""

    def reload_finished(self, result: ReloadResult) -> None:
        self.reloads.labels(result="success" if result.ok else "failure").inc()

    # read at scrape time ---------------------------------------------------------------

    async def refresh(
        self,
        *,
        store: Store,
        targets: Mapping[str, Target],
        worker: DeliveryWorker,
        config: ConfigState,
        now: float,
    ) -> None:
        overview = {t.state.target: t for t in await store.target_overview()}
        names = sorted({*targets, *overview})
        depth: Series = []
        lag: Series = []
        flying: Series = []
        limits: Series = []
        breakers: Series = []
        paused: Series = []
        for name in names:
            labels = {"target": name}
            known = overview.get(name)
            depth.append((labels, float(known.queued if known else 0)))
            due = await store.next_due_at(name)
            lag.append((labels, max(0.0, now - due) if due is not None else 0.0))
            flying.append((labels, float(worker.in_flight(name))))
            if name in targets:
                limits.append((labels, float(targets[name].max_concurrency)))
            gate = worker.gate(name)
            state = gate.breaker.current(now).state.value if gate else "closed"
            if gate is None and known is not None:
                state = known.state.breaker
            breakers.extend(
                ({"target": name, "state": s}, 1.0 if s == state else 0.0) for s in _BREAKER_STATES
            )
            paused.append((labels, 1.0 if known is not None and known.state.paused else 0.0))
        self.scraped.set(
            {
                _QUEUE_DEPTH.name: depth,
                _QUEUE_LAG.name: lag,
                _IN_FLIGHT.name: flying,
                _LIMIT.name: limits,
                _BREAKER.name: breakers,
                _PAUSED.name: paused,
                _LOADED_AT.name: [({}, config.table.loaded_at)],
                _RELOAD_OK.name: [({}, 0.0 if config.last_error else 1.0)],
            }
        )

    def render(self) -> str:
        """Every series in the Prometheus text format (version 0.0.4)."""
        return render(self.registry)
