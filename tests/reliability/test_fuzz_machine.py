"""A hypothesis state machine over receive -> verify -> store -> deliver, in process, with a
fake clock and a target that misbehaves by the machine's choice (answers, 5xx, 429, refused
connections, timeouts after the run started, failed runs, 404s).

Invariants: every acknowledged event is stored; every delivery is in a valid state within its
budget; no run is started twice for a delivery; a delivery whose run started without a
complete answer is flagged; once idle, nothing is in flight and every retry is in the future.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from relay.delivery.outbound import AnswerTimeout, NotSent, Reply, Request
from relay.store.base import CLAIMABLE, DeliveryRecord, DeliveryStatus
from relay.store.log_queries import DeliveryQuery, EventQuery
from tests.harness import Relay, running_relay
from tests.helpers import FakeClock, github_headers, issue_opened, write_config

S = DeliveryStatus
T = TypeVar("T")
MODES = ("ok", "503", "429", "refused", "timeout_after_start", "run_failed", "404")
# one-step starts: this machine's target answers each start as it likes, and a start cut
# after the run started is flagged; the two-step start (its create, its looks through the
# API) is tests/unit/delivery/test_worker_runs.py's and tests/integration/test_runs_followed.py's
ROUTE = """
  - name: fuzz
    source: github
    function_id: triage_issue
    start: one_step
    match: {event_type: issues}
    variables:
      number: body.issue.number
    retry: {max_attempts: 4, initial: 5, max: 60, jitter: 0.2}
"""
KEY = "idempotency-key"


class RelayMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="relay-fuzz-"))
        self.clock = FakeClock()
        self.mode = "ok"
        self.started: Counter[str] = Counter()  # delivery id -> runs started upstream
        self.unanswered: set[str] = set()  # deliveries whose run started, answer lost
        self.acked: dict[str, str] = {}  # provider id -> event id
        self.numbers = iter(range(10**6))
        config = write_config(
            self.tmp / "relay.yaml",
            routes=ROUTE,
            target_extra="idempotency_header: Idempotency-Key\nbreaker: {failures: 1000}",
        )
        self.context = running_relay(config, handler=self._upstream, clock=self.clock)
        self.relay: Relay = self.loop.run_until_complete(self.context.__aenter__())

    def teardown(self) -> None:
        try:
            self.loop.run_until_complete(self.context.__aexit__(None, None, None))
        finally:
            self.loop.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    async def _upstream(self, request: Request) -> Reply:
        delivery = request.headers[KEY]
        mode = self.mode
        if mode == "503":
            return Reply(503)
        if mode == "429":
            return Reply(429, headers={"Retry-After": "7"})
        if mode == "404":
            return Reply(404, json={"detail": "Function not found"})
        if mode == "refused":
            raise NotSent("connection refused")
        self.started[delivery] += 1
        if mode == "timeout_after_start":
            self.unanswered.add(delivery)
            raise AnswerTimeout("no answer")
        status = "failed" if mode == "run_failed" else "closed"
        return Reply(200, json={"function_run_id": f"run_{delivery}", "status": status})

    # rules ------------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        self.mode = "ok"

    @rule(mode=st.sampled_from(MODES))
    def target_behaves(self, mode: str) -> None:
        self.mode = mode

    @rule()
    def a_signed_webhook_is_acknowledged(self) -> None:
        number = next(self.numbers)
        body = issue_opened(number)
        reply = self._post(body, github_headers(body, delivery=f"fz-{number}"))
        assert reply.status_code == 200
        assert reply.json()["duplicate"] is False
        self.acked[f"fz-{number}"] = reply.json()["id"]

    @precondition(lambda self: bool(self.acked))
    @rule(data=st.data())
    def a_redelivery_is_acknowledged_as_duplicate(self, data: st.DataObject) -> None:
        ident = data.draw(st.sampled_from(sorted(self.acked)))
        number = int(ident.removeprefix("fz-"))
        body = issue_opened(number)
        reply = self._post(body, github_headers(body, delivery=ident))
        assert reply.status_code == 200
        assert reply.json() == {"id": self.acked[ident], "duplicate": True}

    @rule(body=st.binary(max_size=64))
    def a_forged_webhook_is_refused(self, body: bytes) -> None:
        before = self._count_events()
        reply = self._post(body, github_headers(body, delivery="forged", secret="nope"))
        assert reply.status_code == 401
        assert self._count_events() == before

    @rule(seconds=st.sampled_from([0.5, 3, 7, 30, 120, 900]))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.relay.worker.notify()
        self._run(asyncio.sleep(0.02))

    @rule()
    def relay_goes_idle(self) -> None:
        self._run(self._settle())
        deliveries = self._deliveries()
        now = self.clock.now()
        gate = self.relay.worker.gate("notte")
        throttled = gate is not None and gate.throttle.paused(now)
        for d in deliveries:
            assert d.status is not S.IN_FLIGHT, d
            if d.status in (S.RETRY_SCHEDULED, S.PAUSED):
                assert d.next_attempt_at is not None
                assert d.next_attempt_at > now or throttled, d
            if d.status in CLAIMABLE and not throttled:
                assert d.next_attempt_at is not None
                assert d.next_attempt_at > now, d

    # invariants -------------------------------------------------------------------------

    @invariant()
    def every_acknowledged_event_is_stored(self) -> None:
        for ident, event_id in self.acked.items():
            event = self._run(self.relay.store.get_event(event_id))
            assert event is not None
            assert event.provider_event_id == ident

    @invariant()
    def deliveries_are_valid_and_runs_start_at_most_once(self) -> None:
        # What the upstream saw, copied before the store is read: a run recorded here was
        # claimed (and committed) before the read, so the read shows its claim or later.
        unanswered = set(self.unanswered)
        deliveries = self._deliveries()
        assert len(deliveries) == len(self.acked)  # one route: one delivery per event
        for d in deliveries:
            assert d.status in set(S)
            assert d.budget_used <= d.max_attempts
            assert self.started[d.id] <= 1, d
            if d.id in unanswered and d.status is not S.IN_FLIGHT:
                assert d.status is S.NEEDS_REVIEW, d  # flagged, never re-run

    # helpers ----------------------------------------------------------------------------

    def _post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self._run(self.relay.post(body, headers))

    def _deliveries(self) -> list[DeliveryRecord]:
        return self._run(self.relay.store.query_deliveries(DeliveryQuery(limit=10_000)))

    def _count_events(self) -> int:
        return len(self._run(self.relay.store.query_events(EventQuery(limit=10_000))))

    async def _settle(self) -> None:
        """Let the worker run until nothing is in flight and nothing due is left unclaimed
        (twice in a row), bounded."""
        quiet = 0
        for _ in range(500):
            await asyncio.sleep(0.01)
            now = self.clock.now()
            gate = self.relay.worker.gate("notte")
            throttled = gate is not None and gate.throttle.paused(now)
            busy = any(
                d.status is S.IN_FLIGHT
                or (
                    d.status in CLAIMABLE
                    and not throttled
                    and d.next_attempt_at is not None
                    and d.next_attempt_at <= now
                )
                for d in await self.relay.store.query_deliveries(DeliveryQuery(limit=10_000))
            )
            quiet = 0 if busy else quiet + 1
            if quiet >= 2:
                return
        raise AssertionError("relay did not go idle")


RelayMachine.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_receive_store_deliver_state_machine = RelayMachine.TestCase
