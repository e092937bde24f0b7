"""The delivery worker: claims due deliveries per target, sends them, records the outcome.

One loop per target holds at most ``max_concurrency`` attempts in flight and asks the
target's gate (operator pause, 429 pause, circuit breaker, rate limit) how many may start.
A loop sleeps until the earliest due delivery, the gate's next opening, a new event
(``notify``) or a finished attempt wakes it. A supervisor starts the loops, re-reads the
operator's pauses from the store, saves the gates' state for ``relay targets``, and sweeps
expired leases (a crashed worker's attempts) so that nothing stalls; on a shared store, it
also asks every few seconds for the leases of instances known to be gone (relay/delivery/
reaper.py), as does a loop that finds its target's slots held elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Mapping
from typing import Protocol

from relay.clock import Clock
from relay.delivery.attempt import attempt_span, conclude, interrupted, traced
from relay.delivery.breaker import BreakerState
from relay.delivery.follower import RunFollower
from relay.delivery.gate import TargetGate
from relay.delivery.outbound import Sender
from relay.delivery.reaper import DeadOwnerReaper
from relay.delivery.retry import Outcome
from relay.delivery.sender import SendProgress, SendResult, request_headers, send_run
from relay.faults import Faults
from relay.logs import get_logger
from relay.run_options import RunOptions
from relay.store.base import AttemptResult, ClaimedDelivery, DeliveryStatus, Store, TargetState
from relay.targets import Target
from relay.tracing import Tracing

__all__ = ["AttemptObserver", "DeliveryWorker"]

_LEASE_MARGIN = 60.0
_RECHECK = 0.5  # seconds between checks for gone instances asked by target loops


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


class DeliveryWorker:
    def __init__(
        self,
        *,
        store: Store,
        targets: Callable[[], Mapping[str, Target]],
        http_client: Sender,
        clock: Clock,
        owner: str,
        rng: random.Random | None = None,
        poll_interval: float = 1.0,
        recover_interval: float = 30.0,
        liveness_interval: float = 2.0,
        exclusive: bool = False,
        observer: AttemptObserver | None = None,
        faults: Faults | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._tracing = tracing or Tracing.off()
        self._faults = faults or Faults()
        self._observer = observer
        self._store = store
        self._targets = targets
        self._client = http_client
        self._clock = clock
        self._owner = owner
        self._rng = rng or random.Random()
        self._poll = poll_interval
        self._recover_interval = recover_interval
        self._exclusive = exclusive
        self._liveness_interval = liveness_interval
        # the only instance on its store (exclusive) has no other owner to judge
        self._reaper = None if exclusive else DeadOwnerReaper(store, clock, owner)
        self._wake: dict[str, asyncio.Event] = {}
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._in_flight: dict[str, set[asyncio.Task[None]]] = {}
        # per target, the attempts whose HTTP exchange is still open: what its
        # max_concurrency caps (recording the outcome afterwards takes no slot)
        self._exchanging: dict[str, set[asyncio.Task[None]]] = {}
        self._gates: dict[str, TargetGate] = {}
        self._paused: set[str] = set()
        self._saved: dict[str, TargetState] = {}
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None
        self._log = get_logger()
        self._runs = RunFollower(
            store=store,
            http_client=http_client,
            clock=clock,
            owner=owner,
            faults=self._faults,
            tracing=self._tracing,
        )
        self.alive = False

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        recovered = await self._store.recover_expired(
            self._clock.now(), owner=self._owner if self._exclusive else None
        )
        if recovered:
            self._log.warning("relay.delivery.recovered", count=len(recovered))
        if self._reaper is not None:
            await self._reaper.check(0.0)
        await self._refresh_pauses()
        self._supervisor = asyncio.create_task(self._supervise(), name="relay-worker")
        self.alive = True

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming; let attempts in flight finish for up to ``grace`` seconds, then
        cut the rest short: each is recorded as released (not sent yet: back to pending) or
        ambiguous (maybe sent: needs_review unless the route is idempotent)."""
        deadline = self._clock.monotonic() + grace
        self._stopping = True
        for event in self._wake.values():
            event.set()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        loops = list(self._loops.values())
        if loops:  # they exit once their current claim is spawned; never cut a claim short
            _, stuck = await asyncio.wait(loops, timeout=max(grace, 1.0))
            for loop in stuck:
                loop.cancel()
            if stuck:
                await asyncio.wait(stuck)
        tasks = [t for group in self._in_flight.values() for t in group]
        if tasks:
            self._log.info("relay.worker.draining", in_flight=len(tasks), grace=grace)
            remaining = max(0.0, deadline - self._clock.monotonic())
            _, pending = await asyncio.wait(tasks, timeout=remaining)
            if pending:
                self._log.warning("relay.worker.cutting_short", count=len(pending))
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending)
        await self._runs.stop()
        self.alive = False

    def notify(self, target: str | None = None) -> None:
        """Wake the loop of ``target`` (or every loop): new work may be due."""
        events = [self._wake[target]] if target in self._wake else list(self._wake.values())
        for event in events:
            event.set()

    def in_flight(self, target: str) -> int:
        """Runs of ``target`` in progress (HTTP exchanges open)."""
        return len(self._exchanging.get(target, ()))

    def gate(self, target: str) -> TargetGate | None:
        return self._gates.get(target)

    # supervision -------------------------------------------------------------------------

    async def _supervise(self) -> None:
        last_recover = self._clock.monotonic()
        while not self._stopping:
            for name, target in self._targets().items():
                self._gate_for(target)
                if name not in self._loops or self._loops[name].done():
                    self._wake.setdefault(name, asyncio.Event())
                    self._in_flight.setdefault(name, set())
                    self._exchanging.setdefault(name, set())
                    self._loops[name] = asyncio.create_task(
                        self._target_loop(name), name=f"relay-target-{name}"
                    )
            await self._refresh_pauses()
            await self._save_gates()
            targets = dict(self._targets())
            await self._runs.follow(targets)
            await self._runs.carry_out_stops(targets)
            if self._clock.monotonic() - last_recover >= self._recover_interval:
                last_recover = self._clock.monotonic()
                await self._sweep()
            if self._reaper is not None and await self._reaper.check(self._liveness_interval):
                self.notify()
            await asyncio.sleep(min(self._poll, 1.0))

    async def _sweep(self) -> None:
        try:
            handled = await self._store.recover_expired(self._clock.now())
        except Exception as exc:
            self._log.error("relay.delivery.recover_failed", error=str(exc))
            return
        if handled:
            self._log.warning("relay.delivery.lease_expired", count=len(handled))
            self.notify()

    async def _refresh_pauses(self) -> None:
        """Read the operator's pauses (``relay targets pause``) from the store."""
        try:
            states = await self._store.list_target_states()
        except Exception as exc:
            self._log.error("relay.target.state_read_failed", error=str(exc))
            return
        self._paused = {s.target for s in states if s.paused}
        for name, gate in self._gates.items():
            paused = name in self._paused
            if paused != gate.paused:
                gate.paused = paused
                self._log.warning(
                    "relay.target.paused" if paused else "relay.target.resumed", target=name
                )
                self.notify(name)

    async def _save_gates(self) -> None:
        now = self._clock.now()
        for name, target in self._targets().items():
            gate = self._gates.get(name)
            if gate is None:
                continue
            state = gate.snapshot(target, now)
            last = self._saved.get(name)
            if last is not None and _same_health(last, state):
                continue
            try:
                await self._store.save_target_health(state)
            except Exception as exc:
                self._log.error("relay.target.state_write_failed", target=name, error=str(exc))
            else:
                self._saved[name] = state

    def _gate_for(self, target: Target) -> TargetGate:
        gate = self._gates.get(target.name)
        if gate is None:
            gate = self._gates[target.name] = TargetGate(target, self._clock.now())
            gate.paused = target.name in self._paused
        else:
            gate.reconfigure(target, self._clock.now())
        return gate

    # loops -------------------------------------------------------------------------------

    async def _target_loop(self, name: str) -> None:
        wake = self._wake[name]
        running = self._in_flight[name]
        exchanging = self._exchanging[name]
        while not self._stopping:
            wake.clear()
            target = self._targets().get(name)
            if target is None:
                return
            gate = self._gate_for(target)
            now = self._clock.now()
            admission = gate.admit(now, target.max_concurrency - len(exchanging))
            wait_until = admission.until
            if admission.count > 0:
                claimed = await self._claim(target, admission.count)
                gate.started(len(claimed), self._clock.now())
                for item in claimed:
                    task = asyncio.create_task(self._attempt(target, item))
                    running.add(task)
                    exchanging.add(task)
                    task.add_done_callback(self._finished(name, running))
                if len(claimed) == admission.count:
                    continue  # there may be more due: ask the gate again
                wait_until = await self._safe_next_due(name)
                if wait_until is not None and wait_until <= self._clock.now():
                    # Due but not claimed: other instances hold the target's slots (or the
                    # rows), maybe a dead one. A finished attempt, new work, the poll, or
                    # the dead one's leases taken back wake this loop.
                    wait_until = None
                    if self._reaper is not None and await self._reaper.check(_RECHECK):
                        self.notify()
            timeout = self._poll
            if wait_until is not None:
                timeout = max(0.0, min(self._poll, wait_until - self._clock.now()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):  # no task per wait, unlike wait_for
                    await wake.wait()

    async def _claim(self, target: Target, limit: int) -> list[ClaimedDelivery]:
        try:
            return await self._store.claim(
                target.name,
                limit,
                self._clock.now(),
                self._owner,
                target.timeout + target.connect_timeout + _LEASE_MARGIN,
                max_in_flight=target.max_concurrency,
                rate=target.rate_limit,  # held across instances by a shared store
            )
        except Exception as exc:
            self._log.error("relay.delivery.claim_failed", target=target.name, error=str(exc))
            return []

    def _finished(
        self, name: str, running: set[asyncio.Task[None]]
    ) -> Callable[[asyncio.Task[None]], None]:
        def callback(task: asyncio.Task[None]) -> None:
            running.discard(task)
            self._exchange_over(name, task)
            # again once the outcome is stored: a claim made as the exchange ended may have
            # found the attempt still in flight in the store (a shared one counts it there)
            self._wake[name].set()

        return callback

    def _exchange_over(self, name: str, task: asyncio.Task[None] | None) -> None:
        """An attempt's HTTP exchange ended: its slot is free, the loop may claim again (in
        the same store batch as the attempt's outcome, when both come in one turn)."""
        exchanging = self._exchanging.get(name)
        if exchanging is not None and task in exchanging:
            exchanging.discard(task)
            self._wake[name].set()

    async def _safe_next_due(self, name: str) -> float | None:
        try:
            return await self._store.next_due_at(name)
        except Exception:
            return None

    # one attempt -------------------------------------------------------------------------

    async def _attempt(self, target: Target, claimed: ClaimedDelivery) -> None:
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
            self.notify(target.name)
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
                if self._stopping:
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


def _same_health(a: TargetState, b: TargetState) -> bool:
    return (a.breaker, a.breaker_until, a.throttled_until, a.max_concurrency) == (
        b.breaker,
        b.breaker_until,
        b.throttled_until,
        b.max_concurrency,
    )
