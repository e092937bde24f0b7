"""Graceful shutdown: stop claiming, let attempts in flight finish within the grace period,
then cut the rest short as released (never sent: back to pending) or ambiguous (maybe sent:
needs_review unless the route is idempotent)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from relay.delivery.outbound import CONNECTING, Reply, Request
from relay.store.base import AttemptRecord, DeliveryRecord, DeliveryStatus, TransitionRecord
from tests.harness import running_relay
from tests.helpers import write_config
from tests.unit.delivery.engine_kit import attempts, only_delivery, post_issue, route, run_answer

pytestmark = pytest.mark.usefixtures("backend")  # each backend: see conftest.py

S = DeliveryStatus


async def test_attempt_finishing_within_the_grace_period_is_recorded(tmp_path: Path) -> None:
    started = asyncio.Event()

    async def slow(request: Request) -> Reply:
        started.set()
        await asyncio.sleep(0.2)
        return run_answer(request)

    config = write_config(tmp_path / "relay.yaml", routes=route())
    async with running_relay(config, handler=slow) as relay:
        await post_issue(relay, 1)
        await started.wait()
        await relay.worker.stop(grace=5.0)
        delivery = await only_delivery(relay)
    assert delivery.status is S.SUCCEEDED


async def _cut_short(
    tmp_path: Path, *, idempotent: bool, connecting: bool
) -> tuple[DeliveryRecord, AttemptRecord, TransitionRecord]:
    started = asyncio.Event()

    async def hang(request: Request) -> Reply:
        if connecting and request.progress is not None:  # what a sender tells while connecting
            await request.progress(CONNECTING)
        started.set()
        await asyncio.sleep(60)
        return Reply(200)

    # one step: the run id comes with the answer, so a cut attempt cannot be asked about
    # (a two-step start's is: tests/unit/delivery/test_worker_runs.py)
    routes = route(idempotent=idempotent, start="one_step")
    config = write_config(tmp_path / "relay.yaml", routes=routes)
    async with running_relay(config, handler=hang) as relay:
        await post_issue(relay, 1)
        await started.wait()
        await relay.worker.stop(grace=0.1)
        delivery = await only_delivery(relay)
        (attempt,) = await attempts(relay, delivery)
        moves = await relay.store.list_transitions(delivery.id)
    return delivery, attempt, moves[-1]


async def test_attempt_maybe_sent_at_the_end_of_grace_is_held_for_review(tmp_path: Path) -> None:
    delivery, attempt, last = await _cut_short(tmp_path, idempotent=False, connecting=False)
    assert delivery.status is S.NEEDS_REVIEW
    assert attempt.outcome == "ambiguous"
    assert "relay stopped during the attempt" in (last.reason or "")


async def test_attempt_maybe_sent_on_an_idempotent_route_goes_back_to_the_queue(
    tmp_path: Path,
) -> None:
    delivery, attempt, _ = await _cut_short(tmp_path, idempotent=True, connecting=False)
    assert delivery.status is S.RETRY_SCHEDULED
    assert delivery.budget_used == 1
    assert attempt.outcome == "ambiguous"


async def test_attempt_not_sent_yet_is_released_to_pending_without_using_the_budget(
    tmp_path: Path,
) -> None:
    delivery, attempt, last = await _cut_short(tmp_path, idempotent=False, connecting=True)
    assert delivery.status is S.PENDING
    assert delivery.budget_used == 0
    assert attempt.outcome == "released"
    assert last.actor != "sweep"


async def test_stop_claims_nothing_new(tmp_path: Path) -> None:
    calls = 0

    async def count(request: Request) -> Reply:
        nonlocal calls
        calls += 1
        return run_answer(request)

    config = write_config(tmp_path / "relay.yaml", routes=route())
    async with running_relay(config, handler=count) as relay:
        await relay.worker.stop(grace=1.0)
        await post_issue(relay, 1)
        await asyncio.sleep(0.3)
        delivery = await only_delivery(relay)
    assert calls == 0
    assert delivery.status is S.PENDING
