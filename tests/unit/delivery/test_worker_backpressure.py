"""Per-target backpressure in the running worker: 429 pauses, rate limits, the circuit
breaker and the operator's pause. Wall time is a ``FakeClock``: nothing waits for real."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import pytest

from relay.delivery.outbound import Reply, Request
from relay.store.base import DeliveryStatus
from tests.harness import Relay, Upstream, running_relay
from tests.helpers import FakeClock, write_config
from tests.unit.delivery.engine_kit import attempts, deliveries, post_issue, route

pytestmark = pytest.mark.usefixtures("backend")  # each backend: see conftest.py

QUIET = 0.3  # real seconds: several worker polls (0.05 s) in which nothing may be sent


def _sent(upstream: Upstream, count: int) -> bool:
    return len(upstream.requests) == count


def _429(retry_after: str | None = None) -> Reply:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return Reply(429, headers=headers, json={"detail": "Too many concurrent runs"})


async def test_429_pauses_the_whole_target_for_retry_after_without_using_the_budget(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    config = write_config(tmp_path / "relay.yaml", routes=route("{max_attempts: 1}"))
    upstream = Upstream(answers=[_429("30")])
    async with running_relay(config, upstream, clock=clock) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.PAUSED))
        (paused,) = await deliveries(relay)
        assert paused.next_attempt_at == clock.now() + 30
        await post_issue(relay, 2)
        await asyncio.sleep(QUIET)
        assert len(upstream.requests) == 1  # the other delivery waits for the same pause
        clock.advance(31)
        await relay.wait_for(lambda: _all(relay, DeliveryStatus.SUCCEEDED))
        first, _ = await deliveries(relay)
        tried = await attempts(relay, first)
    assert [a.status_code for a in tried] == [429, 200]
    assert [a.outcome for a in tried] == ["throttled", "succeeded"]
    # max_attempts is 1: the 429 was recorded but did not use it up.
    assert (first.attempts, first.budget_used, first.max_attempts) == (2, 1, 1)


async def _all(relay: Relay, status: DeliveryStatus) -> bool:
    found = await deliveries(relay)
    return bool(found) and all(d.status is status for d in found)


async def test_429_without_retry_after_pauses_exponentially(tmp_path: Path) -> None:
    clock = FakeClock()
    config = write_config(tmp_path / "relay.yaml", routes=route())
    upstream = Upstream(answers=[_429(), _429()])
    async with running_relay(config, upstream, clock=clock) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: len(upstream.requests) == 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.PAUSED))
        (first,) = await deliveries(relay)
        assert first.next_attempt_at == clock.now() + 1.0
        clock.advance(1.0)
        await relay.wait_for(lambda: len(upstream.requests) == 2)
        await relay.wait_for(lambda: _next_at(relay, clock.now() + 2.0))
        clock.advance(1.5)
        await asyncio.sleep(QUIET)
        assert len(upstream.requests) == 2
        clock.advance(0.5)
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        (done,) = await deliveries(relay)
    assert done.budget_used == 1


async def _next_at(relay: Relay, expected: float) -> bool:
    (record,) = await deliveries(relay)
    return record.next_attempt_at == expected


async def test_rate_limit_spaces_run_starts_by_the_token_bucket(tmp_path: Path) -> None:
    clock = FakeClock()
    config = write_config(
        tmp_path / "relay.yaml",
        routes=route(),
        target_extra="rate_limit: {count: 2, per: minute}",
    )
    upstream = Upstream()
    async with running_relay(config, upstream, clock=clock) as relay:
        for n in range(4):
            await post_issue(relay, n)
        await relay.wait_for(lambda: len(upstream.requests) == 2)
        await asyncio.sleep(QUIET)
        assert len(upstream.requests) == 2  # a burst of `count`, then one per 30 s
        clock.advance(30)
        await relay.wait_for(lambda: len(upstream.requests) == 3)
        await asyncio.sleep(QUIET)
        assert len(upstream.requests) == 3
        clock.advance(30)
        await relay.wait_for(lambda: len(upstream.requests) == 4)


async def test_breaker_opens_after_consecutive_failures_and_probes_after_the_cooldown(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    config = write_config(
        tmp_path / "relay.yaml",
        routes=route("{max_attempts: 5, initial: 3600, jitter: 0}"),
        target_extra="breaker: {failures: 3, cooldown: 30}",
    )
    upstream = Upstream(answers=[Reply(503) for _ in range(3)])
    async with running_relay(config, upstream, clock=clock) as relay:
        for n in range(3):
            await post_issue(relay, n)
            await relay.wait_for(partial(_sent, upstream, n + 1))
        await relay.wait_for(lambda: _breaker_saved(relay, "open"))
        await post_issue(relay, 3)
        await asyncio.sleep(QUIET)
        assert len(upstream.requests) == 3  # open: the new delivery waits...
        waiting = (await deliveries(relay))[3]
        assert waiting.status is DeliveryStatus.PENDING
        assert waiting.attempts == 0  # ...without using an attempt
        clock.advance(31)
        await relay.wait_for(lambda: len(upstream.requests) == 4)  # the one probe
        await relay.wait_for(lambda: _breaker_saved(relay, "closed"))
        await post_issue(relay, 4)
        await relay.wait_for(lambda: len(upstream.requests) == 5)


async def _breaker_saved(relay: Relay, state: str) -> bool:
    return any(s.breaker == state for s in await relay.store.list_target_states())


async def test_breaker_probe_failure_reopens_it(tmp_path: Path) -> None:
    clock = FakeClock()
    config = write_config(
        tmp_path / "relay.yaml",
        routes=route("{max_attempts: 5, initial: 3600, jitter: 0}"),
        target_extra="breaker: {failures: 2, cooldown: 30}",
    )
    upstream = Upstream(answers=[Reply(502) for _ in range(3)])
    async with running_relay(config, upstream, clock=clock) as relay:
        for n in range(2):
            await post_issue(relay, n)
        await relay.wait_for(lambda: len(upstream.requests) == 2)
        await relay.wait_for(lambda: _breaker_saved(relay, "open"))
        await post_issue(relay, 2)
        await asyncio.sleep(QUIET)
        assert len(upstream.requests) == 2
        clock.advance(31)
        await relay.wait_for(lambda: len(upstream.requests) == 3)  # probe: 502 again
        await asyncio.sleep(QUIET)
        await post_issue(relay, 3)
        await asyncio.sleep(QUIET)
        assert len(upstream.requests) == 3  # re-opened: no second probe before the cooldown
        clock.advance(31)
        await relay.wait_for(lambda: len(upstream.requests) == 4)
        await relay.wait_for(lambda: _breaker_saved(relay, "closed"))


async def test_operator_pause_in_the_store_holds_the_target_until_resumed(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "relay.yaml", routes=route())
    upstream = Upstream()
    async with running_relay(config, upstream) as relay:
        await relay.store.set_target_paused("notte", True, 0.0, actor="ops")
        await relay.wait_for(lambda: _gate_paused(relay))
        await post_issue(relay, 1)
        await asyncio.sleep(QUIET)
        assert upstream.requests == []
        assert await relay.status_is("new-issues", DeliveryStatus.PENDING)
        await relay.store.set_target_paused("notte", False, 0.0, actor="ops")
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        audit = await relay.store.list_audit()
    assert [(a.action, a.actor) for a in audit] == [("resume", "ops"), ("pause", "ops")]


def _gate_paused(relay: Relay) -> bool:
    gate = relay.worker.gate("notte")
    return gate is not None and gate.paused


async def test_target_state_shows_limit_in_flight_and_queue(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml", routes=route(), max_concurrency=1)
    release = asyncio.Event()

    async def slow(request: Request) -> Reply:
        await release.wait()
        return Reply(200, json={"status": "closed"})

    async with running_relay(config, handler=slow) as relay:
        for n in range(3):
            await post_issue(relay, n)
        await relay.wait_for(lambda: _overview_is(relay, in_flight=1, queued=2, limit=1))
        release.set()
        await relay.wait_for(lambda: _overview_is(relay, in_flight=0, queued=0, limit=1))


async def _overview_is(relay: Relay, *, in_flight: int, queued: int, limit: int) -> bool:
    (target,) = await relay.store.target_overview()
    return (target.in_flight, target.queued, target.state.max_concurrency) == (
        in_flight,
        queued,
        limit,
    )
