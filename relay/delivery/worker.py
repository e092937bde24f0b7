"""The delivery worker: claims due deliveries per target, sends them, records the outcome.

One loop per target holds at most ``max_concurrency`` attempts in flight. A loop sleeps
until the earliest due delivery, a new event (``notify``) or a finished attempt wakes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Mapping

import httpx

from relay.clock import Clock
from relay.delivery.retry import Outcome, RetryPolicy, decide
from relay.delivery.sender import SendResult, Target, send_run
from relay.logs import get_logger
from relay.store.base import AttemptResult, ClaimedDelivery, DeliveryStatus, Store

__all__ = ["DeliveryWorker"]

_LEASE_MARGIN = 60.0


class DeliveryWorker:
    def __init__(
        self,
        *,
        store: Store,
        targets: Callable[[], Mapping[str, Target]],
        http_client: httpx.AsyncClient,
        clock: Clock,
        owner: str,
        rng: random.Random | None = None,
        poll_interval: float = 1.0,
        recover_interval: float = 30.0,
        exclusive: bool = False,
    ) -> None:
        self._store = store
        self._targets = targets
        self._client = http_client
        self._clock = clock
        self._owner = owner
        self._rng = rng or random.Random()
        self._poll = poll_interval
        self._recover_interval = recover_interval
        self._exclusive = exclusive
        self._wake: dict[str, asyncio.Event] = {}
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._in_flight: dict[str, set[asyncio.Task[None]]] = {}
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None
        self._log = get_logger()
        self.alive = False

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        recovered = await self._store.recover_expired(
            self._clock.now(), owner=self._owner if self._exclusive else None
        )
        if recovered:
            self._log.warning("relay.delivery.recovered", count=len(recovered))
        self._supervisor = asyncio.create_task(self._supervise(), name="relay-worker")
        self.alive = True

    async def stop(self, grace: float = 10.0) -> None:
        self._stopping = True
        for event in self._wake.values():
            event.set()
        tasks = [t for group in self._in_flight.values() for t in group]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        for loop in [*self._loops.values(), *([self._supervisor] if self._supervisor else [])]:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        self.alive = False

    def notify(self, target: str | None = None) -> None:
        """Wake the loop of ``target`` (or every loop): new work may be due."""
        events = [self._wake[target]] if target in self._wake else list(self._wake.values())
        for event in events:
            event.set()

    def in_flight(self, target: str) -> int:
        return len(self._in_flight.get(target, ()))

    # loops -------------------------------------------------------------------------------

    async def _supervise(self) -> None:
        last_recover = self._clock.monotonic()
        while not self._stopping:
            for name in self._targets():
                if name not in self._loops or self._loops[name].done():
                    self._wake.setdefault(name, asyncio.Event())
                    self._in_flight.setdefault(name, set())
                    self._loops[name] = asyncio.create_task(
                        self._target_loop(name), name=f"relay-target-{name}"
                    )
            if self._clock.monotonic() - last_recover >= self._recover_interval:
                last_recover = self._clock.monotonic()
                try:
                    handled = await self._store.recover_expired(self._clock.now())
                except Exception as exc:
                    self._log.error("relay.delivery.recover_failed", error=str(exc))
                else:
                    if handled:
                        self._log.warning("relay.delivery.lease_expired", count=len(handled))
                        self.notify()
            await asyncio.sleep(min(self._poll, 1.0))

    async def _target_loop(self, name: str) -> None:
        wake = self._wake[name]
        running = self._in_flight[name]
        while not self._stopping:
            wake.clear()
            target = self._targets().get(name)
            if target is None:
                return
            free = target.max_concurrency - len(running)
            timeout = self._poll
            if free > 0:
                try:
                    claimed = await self._store.claim(
                        name,
                        free,
                        self._clock.now(),
                        self._owner,
                        target.timeout + target.connect_timeout + _LEASE_MARGIN,
                    )
                except Exception as exc:
                    self._log.error("relay.delivery.claim_failed", target=name, error=str(exc))
                    claimed = []
                for item in claimed:
                    task = asyncio.create_task(self._attempt(target, item))
                    running.add(task)
                    task.add_done_callback(self._finished(name, running))
                if len(claimed) < free:
                    due = await self._safe_next_due(name)
                    if due is not None:
                        timeout = max(0.0, min(self._poll, due - self._clock.now()))
                else:
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=timeout)

    def _finished(
        self, name: str, running: set[asyncio.Task[None]]
    ) -> Callable[[asyncio.Task[None]], None]:
        def callback(task: asyncio.Task[None]) -> None:
            running.discard(task)
            self._wake[name].set()

        return callback

    async def _safe_next_due(self, name: str) -> float | None:
        try:
            return await self._store.next_due_at(name)
        except Exception:
            return None

    # one attempt -------------------------------------------------------------------------

    async def _attempt(self, target: Target, claimed: ClaimedDelivery) -> None:
        try:
            await self._attempt_once(target, claimed)
        except Exception as exc:  # a bug must not kill the loop; the lease recovers it
            self._log.exception(
                "relay.delivery.attempt_crashed", delivery_id=claimed.delivery.id, error=str(exc)
            )

    async def _attempt_once(self, target: Target, claimed: ClaimedDelivery) -> None:
        delivery = claimed.delivery
        sent = await send_run(
            self._client,
            target,
            function_id=delivery.function_id,
            variables=delivery.variables or {},
            stream=delivery.stream,
            clock=self._clock,
        )
        now = self._clock.now()
        decision = decide(
            sent.outcome,
            attempt_number=claimed.attempt_number,
            max_attempts=delivery.max_attempts,
            policy=RetryPolicy.from_mapping(delivery.retry_policy),
            now=now,
            rng=self._rng,
            idempotent=delivery.idempotent,
            retry_after=sent.retry_after,
        )
        result = _attempt_result(sent, decision.status, decision.next_attempt_at, now)
        await self._record(claimed, result)
        self._log_attempt(target, claimed, sent, result)

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
            "run_status": sent.run_status,
        }
        if result.new_status is DeliveryStatus.SUCCEEDED:
            self._log.info("relay.delivery.succeeded", **fields)
        elif result.new_status is DeliveryStatus.RETRY_SCHEDULED:
            self._log.warning(
                "relay.delivery.retry_scheduled",
                error=sent.error,
                next_attempt_at=result.next_attempt_at,
                **fields,
            )
        elif result.new_status is DeliveryStatus.DEAD:
            self._log.error("relay.delivery.dead_lettered", error=sent.error, **fields)
        else:
            self._log.warning(
                f"relay.delivery.{result.new_status.value}", error=sent.error, **fields
            )


def _attempt_result(
    sent: SendResult, status: DeliveryStatus, next_at: float | None, now: float
) -> AttemptResult:
    error = sent.error
    if sent.outcome is Outcome.RUN_FAILED and error is None:
        error = "the function run failed"
    return AttemptResult(
        finished_at=now,
        duration_ms=sent.duration_ms,
        outcome=sent.outcome.value,
        new_status=status,
        next_attempt_at=next_at,
        status_code=sent.status_code,
        error=error,
        function_run_id=sent.function_run_id,
        session_id=sent.session_id,
        run_status=sent.run_status,
        result=sent.result,
        logs=sent.logs,
    )
