"""relay's metrics: what is counted as it happens (events, rejections, attempts, reloads) and
what is read at scrape time (queue depth and lag, in-flight against the limit, breakers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from relay.metrics.registry import Registry

if TYPE_CHECKING:
    from relay.delivery.worker import DeliveryWorker
    from relay.routing.reloader import ConfigState, ReloadResult
    from relay.store.base import Store
    from relay.targets import Target

__all__ = ["RelayMetrics"]

_BREAKER_STATES = ("closed", "open", "half_open")
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class RelayMetrics:
    def __init__(self) -> None:
        r = self.registry = Registry()
        self.received = r.counter(
            "relay_events_received_total",
            "Events stored, by source and status (routed, unrouted, unprocessable).",
            ("source", "status"),
        )
        self.duplicates = r.counter(
            "relay_events_duplicate_total",
            "Re-deliveries of a stored provider event id, answered and not forwarded.",
            ("source",),
        )
        self.rejected = r.counter(
            "relay_events_rejected_total",
            "Requests refused with a 401, by source and reason code.",
            ("source", "reason"),
        )
        self.rejections_dropped = r.counter(
            "relay_rejections_dropped_total",
            "Rejected requests counted but not stored (the store refused the write).",
        )
        self.mapping_failures = r.counter(
            "relay_mapping_failures_total",
            "Deliveries created as mapping_failed (their variables could not be resolved).",
            ("source", "route"),
        )
        self.store_write_errors = r.counter(
            "relay_store_write_errors_total",
            "Writes the store refused (the webhook was answered 503 and not acknowledged).",
            ("operation",),
        )
        self.attempts = r.counter(
            "relay_attempts_total",
            "Attempts to start a run, by route, target and outcome.",
            ("route", "target", "outcome"),
        )
        self.deliveries = r.counter(
            "relay_deliveries_total",
            "Delivery status after each attempt (succeeded, retry_scheduled, dead, ...).",
            ("route", "status"),
        )
        self.latency = r.histogram(
            "relay_attempt_duration_seconds",
            "How long an attempt took, from sending to the run's answer.",
            ("target",),
            _LATENCY_BUCKETS,
        )
        self.queue_depth = r.gauge(
            "relay_queue_depth",
            "Deliveries waiting to be sent (pending, retry_scheduled or paused).",
            ("target",),
        )
        self.queue_lag = r.gauge(
            "relay_queue_oldest_due_seconds",
            "How long the most overdue delivery has been due (0 when none is overdue).",
            ("target",),
        )
        self.in_flight = r.gauge(
            "relay_target_in_flight", "Attempts in flight from this instance.", ("target",)
        )
        self.limit = r.gauge(
            "relay_target_max_concurrency", "The target's max_concurrency.", ("target",)
        )
        self.breaker = r.gauge(
            "relay_target_breaker_state",
            "1 for the breaker's current state (closed, open, half_open), else 0.",
            ("target", "state"),
        )
        self.paused = r.gauge(
            "relay_target_paused", "1 when an operator paused the target.", ("target",)
        )
        self.reloads = r.counter(
            "relay_config_reloads_total",
            "Config reloads by result (success, failure).",
            ("result",),
        )
        self.loaded_at = r.gauge(
            "relay_config_loaded_timestamp_seconds", "When the config in force was loaded."
        )
        self.reload_ok = r.gauge(
            "relay_config_last_reload_successful", "0 when the last reload was refused, else 1."
        )

    # counted as it happens -------------------------------------------------------------

    def event_received(self, source: str, status: str, duplicate: bool) -> None:
        if duplicate:
            self.duplicates.inc(source=source)
        else:
            self.received.inc(source=source, status=status)

    def event_rejected(self, source: str, reason: str) -> None:
        self.rejected.inc(source=source, reason=reason[:64])

    def mapping_failed(self, source: str, route: str) -> None:
        self.mapping_failures.inc(source=source, route=route)

    def store_write_failed(self, operation: str) -> None:
        self.store_write_errors.inc(operation=operation)

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
        self.attempts.inc(route=route, target=target, outcome=outcome)
        self.deliveries.inc(route=route, status=status)
        self.latency.observe(max(0.0, duration_ms / 1000.0), target=target)

    def breaker_changed(self, target: str, state: str) -> None:
        """Nothing to count: breaker states are read at scrape time."""

    def reload_finished(self, result: ReloadResult) -> None:
        self.reloads.inc(result="success" if result.ok else "failure")

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
        Series = list[tuple[dict[str, str], float]]
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
        self.queue_depth.set_all(depth)
        self.queue_lag.set_all(lag)
        self.in_flight.set_all(flying)
        self.limit.set_all(limits)
        self.breaker.set_all(breakers)
        self.paused.set_all(paused)
        self.loaded_at.set_all([({}, config.table.loaded_at)])
        self.reload_ok.set_all([({}, 0.0 if config.last_error else 1.0)])

    def render(self) -> str:
        return self.registry.render()
