"""An upstream outage of five minutes, compressed by a fake clock: the target answers 503
until it recovers. Every delivery succeeds afterwards; retries keep to the backoff schedule;
none is dead-lettered early; the breaker opens during the outage (only probes go out) and
closes after it."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from pathlib import Path

from structlog.testing import capture_logs

from relay.delivery.outbound import Reply, Request
from relay.store.base import DeliveryStatus
from relay.store.log_queries import AttemptQuery, DeliveryQuery
from tests.harness import running_relay
from tests.helpers import FakeClock, github_headers, issue_opened, write_config
from tests.suite_plugin import Figures

OUTAGE = 300.0  # fake seconds
EVENTS = 10
INITIAL, CAP, MAX_ATTEMPTS = 5.0, 60.0, 20
FAILURES, COOLDOWN = 3, 30.0
ROUTE = f"""
  - name: outage
    source: github
    function_id: triage_issue
    match: {{event_type: issues}}
    variables:
      number: body.issue.number
    retry: {{max_attempts: {MAX_ATTEMPTS}, initial: {INITIAL}, max: {CAP}, jitter: 0}}
"""


def _delay(budget_used: int) -> float:
    """The schedule: the wait after the ``budget_used``-th counted attempt (no jitter)."""
    return min(CAP, INITIAL * 2.0 ** (budget_used - 1))


async def test_deliveries_survive_a_five_minute_outage_on_schedule_behind_the_breaker(
    tmp_path: Path, figures: Figures
) -> None:
    clock = FakeClock()
    start = clock.now()
    recovers_at = start + OUTAGE
    sent: list[tuple[float, int, int]] = []  # (fake time, issue number, status answered)

    async def upstream(request: Request) -> Reply:
        number = json.loads(request.content)["variables"]["number"]
        if clock.now() < recovers_at:
            sent.append((clock.now(), number, 503))
            return Reply(503, json={"detail": "down for maintenance"})
        sent.append((clock.now(), number, 200))
        return Reply(200, json={"function_run_id": f"run_{number}", "status": "closed"})

    config = write_config(
        tmp_path / "relay.yaml",
        routes=ROUTE,
        target_extra=f"breaker: {{failures: {FAILURES}, cooldown: {COOLDOWN:g}}}",
    )
    with capture_logs() as logs:
        async with running_relay(config, handler=upstream, clock=clock) as relay:
            for n in range(EVENTS):
                body = issue_opened(n)
                reply = await relay.post(body, github_headers(body, delivery=f"outage-{n}"))
                assert reply.status_code == 200
            # Drive the fake clock one second at a time until everything succeeded.
            for _ in range(int(OUTAGE) + 600):
                found = await relay.store.query_deliveries(DeliveryQuery())
                if len(found) == EVENTS and all(
                    d.status is DeliveryStatus.SUCCEEDED for d in found
                ):
                    break
                assert not any(d.status is DeliveryStatus.DEAD for d in found)
                clock.advance(1.0)
                relay.worker.notify()
                await asyncio.sleep(0.01)
            done_at = clock.now()
            found = await relay.store.query_deliveries(DeliveryQuery())
            tried = {
                d.id: await relay.store.query_attempts(
                    AttemptQuery(delivery_id=d.id, whole_delivery=True)
                )
                for d in found
            }

    assert [d.status for d in found] == [DeliveryStatus.SUCCEEDED] * EVENTS
    for d in found:
        attempts = tried[d.id]
        assert d.budget_used <= MAX_ATTEMPTS
        for counted, (before, after) in enumerate(itertools.pairwise(attempts), start=1):
            assert before.finished_at is not None
            # never earlier than the schedule (the breaker may hold it longer)
            assert after.started_at - before.finished_at >= _delay(counted) - 1e-6
        assert attempts[-1].status_code == 200
    during = [t for t, _, code in sent if code == 503]
    by_number: dict[int, int] = defaultdict(int)
    for _, number, code in sent:
        if code == 200:
            by_number[number] += 1
    assert dict(by_number) == {n: 1 for n in range(EVENTS)}  # one run each
    events = [e["event"] for e in logs]
    assert "relay.target.breaker_opened" in events
    assert "relay.target.breaker_closed" in events
    assert events.index("relay.target.breaker_opened") < events.index("relay.target.breaker_closed")
    # Behind the open breaker only one probe per cool-down reaches the failing target.
    assert len(during) <= FAILURES + OUTAGE / COOLDOWN + 2
    # After the recovery, everything went through within a probe and the longest backoff.
    assert done_at - recovers_at <= COOLDOWN + CAP + 5
    figures(
        "upstream outage (300 fake s of 503)",
        {
            "deliveries": EVENTS,
            "requests during the outage": len(during),
            "succeeded": len(found),
            "dead": 0,
            "all done s after recovery": round(done_at - recovers_at, 1),
        },
    )
