"""The worker's part that deals with runs rather than requests: a two-step start's create
(or, when a created run's start is unknown, the question to the API), the looks at running
runs until they end, and the stops operators ask for.

``prepare`` runs inside an attempt, before the start is sent. ``follow`` and ``carry_out_stops``
run from the worker's supervisor (about once a second): a look at a run is a short ``GET``
that holds no run slot, so it is not subject to the target's gate.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

from relay.clock import Clock
from relay.delivery.follow import Clockwork, after_look, after_stop
from relay.delivery.outbound import Sender
from relay.delivery.retry import Outcome
from relay.delivery.runs_api import ApiFailure, RunState, create_run, get_run, stop_run
from relay.delivery.sender import SendProgress, SendResult
from relay.faults import Faults
from relay.logs import get_logger
from relay.run_options import RunOptions
from relay.store.base import CheckResult, ClaimedDelivery, DeliveryRecord, DeliveryStatus, Store
from relay.store.lifecycle import RUN_CREATED
from relay.store.log_queries import DeliveryQuery
from relay.targets import Target
from relay.tracing import Tracing

__all__ = ["RunFollower"]

_CHECKS_PER_ROUND = 100
#: How a followed run ended, as ``relay.run_end``'s ``relay.outcome`` says it.
_RUN_END = {
    DeliveryStatus.SUCCEEDED: "closed",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.TIMED_OUT: "timed_out",
    DeliveryStatus.STOPPED: "stopped",
}
_CHECK_LEASE = 120.0  # a look is two API calls of at most 30 s each, with room to record it


class RunFollower:
    def __init__(
        self,
        *,
        store: Store,
        http_client: Sender,
        clock: Clock,
        owner: str,
        faults: Faults,
        tracing: Tracing | None = None,
    ) -> None:
        self._tracing = tracing or Tracing.off()
        self._store = store
        self._client = http_client
        self._clock = clock
        self._owner = owner
        self._faults = faults
        self._checks: set[asyncio.Task[None]] = set()
        self._stops: dict[str, str] = {}  # in-flight delivery id -> who stopped its run
        self._log = get_logger()

    # two-step start ------------------------------------------------------------------------

    async def prepare(
        self, target: Target, claimed: ClaimedDelivery, progress: SendProgress
    ) -> str | SendResult:
        """The id of the run to start, or the attempt's result without a start: the created
        run had started already (followed, or ended), or it could not be created or asked
        about."""
        d = claimed.delivery
        started = self._clock.monotonic()

        def ms() -> float:
            return (self._clock.monotonic() - started) * 1000.0

        api = {"base_url": target.base_url, "api_key": target.api_key, "function_id": d.function_id}
        if d.function_run_id is not None and d.run_status == RUN_CREATED:
            look = await get_run(self._client, run_id=d.function_run_id, **api)
            if isinstance(look, RunState) and not look.started:
                progress.run_id = d.function_run_id
                return d.function_run_id  # created, never started: start it now
            if isinstance(look, RunState):
                return _already_started(look, ms())
            if look.status_code != 404:
                return SendResult(
                    Outcome.UNSETTLED,
                    ms(),
                    status_code=look.status_code,
                    error=f"asking the API whether run {d.function_run_id} started: {look.error}",
                    function_run_id=d.function_run_id,
                )
            # the API does not know the created run: it cannot have started; create another
        created = await create_run(self._client, **api)
        if isinstance(created, ApiFailure):
            return SendResult(
                created.outcome,
                ms(),
                status_code=created.status_code,
                error=f"creating the run: {created.error}",
                retry_after=created.retry_after,
            )
        if not await self._store.note_run_created(claimed, created, self._clock.now()):
            return SendResult(
                Outcome.RELEASED, ms(), error="the attempt's lease was lost before the start"
            )
        progress.run_id = created
        self._faults.hit("after_create")
        return created

    # stops of runs whose start's answer is still coming -----------------------------------

    def stopped_by(self, delivery_id: str) -> str | None:
        return self._stops.pop(delivery_id, None)

    async def _stop_requests(self) -> list[DeliveryRecord]:
        """``in_flight`` deliveries leased to this worker whose run's stop was asked for: every
        page of them, oldest first."""
        query = DeliveryQuery(
            statuses=(DeliveryStatus.IN_FLIGHT,),
            lease_owner=self._owner,
            stop_requested=True,
            after="",
        )
        found: list[DeliveryRecord] = []
        while True:
            page = await self._store.query_deliveries(query)
            found.extend(page)
            if len(page) < query.limit:
                return found
            query = dataclasses.replace(query, after=page[-1].id)

    async def carry_out_stops(self, targets: dict[str, Target]) -> None:
        try:
            wanted = await self._stop_requests()
        except Exception as exc:
            self._log.error("relay.run.stop_requests_failed", error=str(exc))
            return
        for d in wanted:
            target = targets.get(d.target)
            if d.id in self._stops or target is None or d.function_run_id is None:
                continue
            self._stops[d.id] = d.stop_requested_by or "operator"
            failure = await stop_run(
                self._client,
                base_url=target.base_url,
                api_key=target.api_key,
                function_id=d.function_id,
                run_id=d.function_run_id,
            )
            self._log.warning(
                "relay.run.stop_sent",
                delivery_id=d.id,
                function_run_id=d.function_run_id,
                requested_by=d.stop_requested_by,
                error=None if failure is None else failure.error,
            )

    # following running runs ----------------------------------------------------------------

    async def follow(self, targets: dict[str, Target]) -> None:
        """Start a look at every running run whose next look is due."""
        now = self._clock.now()
        for name, target in targets.items():
            try:
                due = await self._store.claim_checks(
                    name, _CHECKS_PER_ROUND, now, self._owner, _CHECK_LEASE
                )
            except Exception as exc:
                self._log.error("relay.run.check_claim_failed", target=name, error=str(exc))
                continue
            for record in due:
                task = asyncio.create_task(self._check(target, record))
                self._checks.add(task)
                task.add_done_callback(self._checks.discard)

    async def stop(self) -> None:
        """Cut the looks in progress short (their leases expire and they are due again)."""
        for task in list(self._checks):
            task.cancel()
        for task in list(self._checks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _check(self, target: Target, d: DeliveryRecord) -> None:
        try:
            check = await self._look(target, d)
            await self._store.finish_check(d, self._owner, check)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the lease brings the run back
            self._log.exception("relay.run.check_crashed", delivery_id=d.id, error=str(exc))
            return
        self._log_check(target, d, check)
        if check.new_status is not DeliveryStatus.RUNNING:
            self._trace_end(d, check)

    def _trace_end(self, d: DeliveryRecord, check: CheckResult) -> None:
        """``relay.run_end``: the followed run settled, in the trace of its event's request."""
        outcome = _RUN_END.get(check.new_status, check.new_status.value)
        with self._tracing.span(
            "relay.run_end",
            parent={"traceparent": d.traceparent} if d.traceparent else {},
            attributes={
                "relay.delivery_id": d.id,
                "relay.route": d.route,
                "relay.outcome": outcome,
            },
        ) as span:
            span.set("relay.run_id", d.function_run_id)
            span.set("relay.run_status", check.run_status)
            if check.new_status is not DeliveryStatus.SUCCEEDED:
                span.error(outcome)

    async def _look(self, target: Target, d: DeliveryRecord) -> CheckResult:
        now = self._clock.now()
        run_id = d.function_run_id
        if run_id is None:  # defensive: nothing to follow
            return CheckResult(
                at=now, new_status=DeliveryStatus.NEEDS_REVIEW, error="running without a run id"
            )
        options = RunOptions.from_mapping(d.run_options)
        started_at = d.run_started_at if d.run_started_at is not None else now
        deadline = started_at + (options.run_timeout or target.run_timeout)
        api = {
            "base_url": target.base_url,
            "api_key": target.api_key,
            "function_id": d.function_id,
            "run_id": run_id,
        }
        if d.stop_requested_by is None and now < deadline:
            look = await get_run(self._client, **api)
            return after_look(look, run_id, Clockwork(self._clock.now(), started_at, deadline))
        stopped = await stop_run(self._client, **api)
        after = await get_run(self._client, **api)
        t = Clockwork(self._clock.now(), started_at, deadline)
        return after_stop(stopped, after, run_id, t, requested_by=d.stop_requested_by)

    def _log_check(self, target: Target, d: DeliveryRecord, check: CheckResult) -> None:
        fields = {
            "delivery_id": d.id,
            "route": d.route,
            "target": target.name,
            "function_run_id": d.function_run_id,
            "status": check.new_status.value,
            "run_status": check.run_status,
        }
        if check.new_status is DeliveryStatus.RUNNING:
            if check.error is not None:
                self._log.warning("relay.run.look_failed", error=check.error, **fields)
            return
        event = {
            DeliveryStatus.SUCCEEDED: "relay.run.closed",
            DeliveryStatus.FAILED: "relay.run.failed",
            DeliveryStatus.TIMED_OUT: "relay.run.timed_out",
            DeliveryStatus.STOPPED: "relay.run.stopped",
        }.get(check.new_status, "relay.run.needs_review")
        level = (
            self._log.info if check.new_status is DeliveryStatus.SUCCEEDED else self._log.warning
        )
        level(event, error=check.error, **fields)


def _already_started(look: RunState, duration_ms: float) -> SendResult:
    """The attempt's result when the run it was to start had started already."""
    if look.status == "closed":
        outcome, error = Outcome.SUCCEEDED, None
    elif look.status == "failed":
        outcome, error = Outcome.RUN_FAILED, None
    else:
        outcome = Outcome.RUN_ACTIVE
        error = f"run {look.run_id} had started already: following it"
    return SendResult(
        outcome,
        duration_ms,
        error=error,
        function_run_id=look.run_id,
        session_id=look.session_id,
        run_status=look.status,
        result=look.result,
        logs=look.logs or (),
    )
