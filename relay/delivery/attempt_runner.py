"""One attempt's lifecycle: the HTTP exchange, the outcome fed to the target's gate, recorded.

The delivery worker (relay/delivery/worker.py) schedules attempts: it claims deliveries and
runs each as a task through ``AttemptRunner.run``. The runner starts the run (with a two-step
start, creates it first through the ``RunFollower``), frees the target's slot as soon as the
exchange ends, tells the target's gate the outcome (breaker, 429 pause), stores the result
(retrying the store until it answers or the worker stops), logs it and tells the observer.
The decisions themselves are pure functions (relay/delivery/attempt.py).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from typing import Protocol

from relay.clock import Clock
from relay.delivery.attempt import attempt_span, conclude, interrupted, traced
from relay.delivery.breaker import BreakerState
from relay.delivery.follower import RunFollower
from relay.delivery.gate import TargetGate
from relay.delivery.outbound import Sender
from relay.delivery.retry import Outcome
from relay.delivery.sender import SendProgress, SendResult, request_headers, send_run
from relay.faults import Faults
from relay.logs import get_logger
from relay.run_options import RunOptions
from relay.store.base import AttemptResult, ClaimedDelivery, DeliveryStatus, Store
from relay.targets import Target
from relay.tracing import Tracing

__all__ = ["AttemptObserver", "AttemptRunner"]


class AttemptObserver(Protocol):
    """Told of every attempt once recorded (``/metrics``)."""

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
    ) -> None: ...

    def breaker_changed(self, target: str, state: str) -> None:
        """A target's breaker moved to ``state`` (closed, open, half_open)."""
        ...


class AttemptRunner:
    """Runs one claimed delivery's attempt for the worker that owns it.

    The worker lends what the attempt touches of its scheduling: the target's gate
    (``gate_for``), a wake-up for the target's loop (``notify``), the release of the
    target's slot once the exchange ends (``exchange_over``), and whether it is stopping.
    """

    def __init__(
        self,
        *,
        store: Store,
        http_client: Sender,
        clock: Clock,
        rng: random.Random,
        runs: RunFollower,
        gate_for: Callable[[Target], TargetGate],
        notify: Callable[[str], None],
        exchange_over: Callable[[str, asyncio.Task[None] | None], None],
        stopping: Callable[[], bool],
        observer: AttemptObserver | None,
        faults: Faults,
        tracing: Tracing,
    ) -> None:
        self._store = store
        self._client = http_client
        self._clock = clock
        self._rng = rng
        self._runs = runs
        self._gate_for = gate_for
        self._notify = notify
        self._exchange_over = exchange_over
        self._stopping = stopping
        self._observer = observer
        self._faults = faults
        self._tracing = tracing
        self._log = get_logger()

    async def run(self, target: Target, claimed: ClaimedDelivery) -> None:
        """One attempt, from the HTTP exchange to the recorded outcome; run as its own task
        (the task the worker counts in the target's slots)."""
        progress = SendProgress()
        started = self._clock.monotonic()
        # relay.attempt: its context goes to the target as traceparent (none when off)
        with attempt_span(self._tracing, target, claimed) as span:
            try:
                sent = await self._exchange(target, claimed, progress, span.headers())
            except asyncio.CancelledError:  # shutdown after the grace period
                cut = interrupted(progress, (self._clock.monotonic() - started) * 1000.0)
                traced(span, cut)
                await self._conclude(target, claimed, cut)
                raise
            except Exception as exc:  # a bug must not kill the loop; the lease recovers it
                self._log.exception(
                    "relay.delivery.attempt_crashed",
                    delivery_id=claimed.delivery.id,
                    error=str(exc),
                )
                return
            traced(span, sent)
        self._faults.hit("after_send")
        await self._conclude(target, claimed, sent)

    async def _exchange(
        self,
        target: Target,
        claimed: ClaimedDelivery,
        progress: SendProgress,
        trace: Mapping[str, str],
    ) -> SendResult:
        """The run start's HTTP exchange, which holds one of the target's slots (with a
        two-step start, the create before it too)."""
        try:
            options = RunOptions.from_mapping(claimed.delivery.run_options)
            run_id = None
            if options.two_step:
                prepared = await self._runs.prepare(target, claimed, progress)
                if isinstance(prepared, SendResult):
                    return prepared
                run_id = prepared
            return await send_run(
                self._client,
                target,
                function_id=claimed.delivery.function_id,
                variables=claimed.delivery.variables or {},
                stream=claimed.delivery.stream,
                clock=self._clock,
                extra_headers={**trace, **request_headers(target, claimed.delivery.id)},
                progress=progress,
                run_id=run_id,
                runtime=options.runtime,
                callback_url=options.callback_url,
            )
        finally:
            self._exchange_over(target.name, asyncio.current_task())

    async def _conclude(self, target: Target, claimed: ClaimedDelivery, sent: SendResult) -> None:
        try:
            now = self._clock.now()
            pause_until = self._update_gate(target, sent, now)
            result = conclude(
                sent,
                claimed,
                now=now,
                rng=self._rng,
                pause_until=pause_until,
                stopped_by=self._runs.stopped_by(claimed.delivery.id),
            )
            await self._record(claimed, result)
            self._log_attempt(target, claimed, sent, result)
            if self._observer is not None:
                self._observer.attempt_finished(
                    route=claimed.delivery.route,
                    target=target.name,
                    outcome=sent.outcome.value,
                    status=result.new_status.value,
                    duration_ms=sent.duration_ms,
                    delivery_id=claimed.delivery.id,
                    error=result.error,
                )
        except Exception as exc:
            self._log.exception(
                "relay.delivery.attempt_crashed", delivery_id=claimed.delivery.id, error=str(exc)
            )

    def _update_gate(self, target: Target, sent: SendResult, now: float) -> float | None:
        """Feed the outcome to the target's gate; the target's pause end after a 429."""
        gate = self._gate_for(target)
        before = gate.breaker.state
        gate.finished(sent.outcome, now, sent.retry_after)
        after = gate.breaker.state
        if after is not before:
            event = {
                BreakerState.OPEN: "relay.target.breaker_opened",
                BreakerState.CLOSED: "relay.target.breaker_closed",
                BreakerState.HALF_OPEN: "relay.target.breaker_half_open",
            }[after]
            self._log.warning(
                event,
                target=target.name,
                failures=gate.breaker.threshold,
                cooldown=gate.breaker.cooldown,
            )
            self._notify(target.name)
            if self._observer is not None:
                self._observer.breaker_changed(target.name, after.value)
        if sent.outcome is not Outcome.THROTTLED:
            return None
        self._log.warning(
            "relay.target.throttled",
            target=target.name,
            retry_after=sent.retry_after,
            paused_until=gate.throttle.until,
            strikes=gate.throttle.strikes,
        )
        return gate.throttle.until

    async def _record(self, claimed: ClaimedDelivery, result: AttemptResult) -> None:
        delay = 0.05
        while True:
            try:
                await self._store.finish_attempt(claimed, result)
                return
            except Exception as exc:
                self._log.error(
                    "relay.delivery.record_failed",
                    delivery_id=claimed.delivery.id,
                    error=str(exc),
                )
                if self._stopping():
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _log_attempt(
        self, target: Target, claimed: ClaimedDelivery, sent: SendResult, result: AttemptResult
    ) -> None:
        d = claimed.delivery
        fields = {
            "event_id": d.event_id,
            "route": d.route,
            "target": target.name,
            "delivery_id": d.id,
            "attempt": claimed.attempt_number,
            "status_code": sent.status_code,
            "outcome": sent.outcome.value,
            "duration_ms": round(sent.duration_ms, 1),
            "function_run_id": sent.function_run_id,
            "session_id": sent.session_id,
            "run_status": sent.run_status,
            "counted": result.counts_toward_budget,
        }
        status = result.new_status
        if status is DeliveryStatus.SUCCEEDED:
            self._log.info("relay.delivery.succeeded", **fields)
        elif status is DeliveryStatus.RUNNING:
            self._log.info("relay.delivery.running", note=sent.error, **fields)
        elif status in (DeliveryStatus.RETRY_SCHEDULED, DeliveryStatus.PAUSED):
            event = "retry_scheduled" if status is DeliveryStatus.RETRY_SCHEDULED else "paused"
            self._log.warning(
                f"relay.delivery.{event}",
                error=sent.error,
                next_attempt_at=result.next_attempt_at,
                **fields,
            )
        elif status is DeliveryStatus.DEAD:
            self._log.error("relay.delivery.dead_lettered", error=sent.error, **fields)
        elif status is DeliveryStatus.PENDING:
            self._log.warning("relay.delivery.released", error=sent.error, **fields)
        else:
            self._log.warning(f"relay.delivery.{status.value}", error=sent.error, **fields)
