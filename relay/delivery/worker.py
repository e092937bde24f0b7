"""The delivery worker: claims due deliveries per target, sends them, records the outcome.

One loop per target holds at most ``max_concurrency`` attempts in flight and asks the
target's gate (operator pause, 429 pause, circuit breaker, rate limit) how many may start.
A loop sleeps until the earliest due delivery, the gate's next opening, a new event
(``notify``) or a finished attempt wakes it. A supervisor starts the loops, re-reads the
operator's pauses from the store, saves the gates' state for ``relay targets``, and sweeps
expired leases (a crashed worker's attempts) so that nothing stalls; on a shared store, it
also asks every few seconds for the leases of instances known to be gone (relay/delivery/
reaper.py), as does a loop that finds its target's slots held elsewhere. Each claimed
delivery's attempt runs as its own task through an ``AttemptRunner`` (relay/delivery/
attempt_runner.py): the exchange, the outcome fed to the gate, the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Mapping

from relay.clock import Clock
from relay.delivery.attempt_runner import AttemptObserver, AttemptRunner
from relay.delivery.follower import RunFollower
from relay.delivery.gate import TargetGate
from relay.delivery.outbound import Sender
from relay.delivery.reaper import DeadOwnerReaper
from relay.faults import Faults
from relay.logs import get_logger
from relay.store.base import ClaimedDelivery, Store, TargetState
from relay.targets import Target
from relay.tracing import Tracing

__all__ = ["AttemptObserver", "DeliveryWorker"]

_LEASE_MARGIN = 60.0
_RECHECK = 0.5  # seconds between checks for gone instances asked by target loops


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
        self._attempts = AttemptRunner(
            store=store,
            http_client=http_client,
            clock=clock,
            rng=self._rng,
            runs=self._runs,
            gate_for=self._gate_for,
            notify=self.notify,
            exchange_over=self._exchange_over,
            stopping=lambda: self._stopping,
            observer=observer,
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
                    task = asyncio.create_task(self._attempts.run(target, item))
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


def _same_health(a: TargetState, b: TargetState) -> bool:
    return (a.breaker, a.breaker_until, a.throttled_until, a.max_concurrency) == (
        b.breaker,
        b.breaker_until,
        b.throttled_until,
        b.max_concurrency,
    )
