"""The delivery worker end to end in-process: retries, dead letters, replay, concurrency."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from relay.delivery.outbound import Reply, Request
from relay.store import SqliteStore
from relay.store.base import DeliveryStatus
from relay.store.log_queries import AttemptQuery, DeliveryQuery
from tests.harness import Upstream, running_relay
from tests.helpers import github_headers, issue_opened, write_config

pytestmark = pytest.mark.usefixtures("backend")  # each backend: see conftest.py


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "relay.yaml")


def _unavailable() -> Reply:
    return Reply(503, text="upstream busy")


async def test_retries_a_503_then_succeeds(config: Path) -> None:
    upstream = Upstream(answers=[_unavailable()])
    async with running_relay(config, upstream) as relay:
        body = issue_opened()
        await relay.post(body, github_headers(body))
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        (delivery,) = await relay.store.query_deliveries(DeliveryQuery())
        attempts = await relay.store.query_attempts(
            AttemptQuery(delivery_id=delivery.id, whole_delivery=True)
        )
        assert [a.status_code for a in attempts] == [503, 200]
        assert [a.outcome for a in attempts] == ["retryable", "succeeded"]
        assert attempts[1].function_run_id == "run_2"
        assert delivery.function_run_id == "run_2"
        assert delivery.run_status == "closed"


async def test_dead_letters_after_max_attempts(config: Path) -> None:
    upstream = Upstream(answers=[_unavailable() for _ in range(3)])
    async with running_relay(config, upstream) as relay:
        body = issue_opened()
        await relay.post(body, github_headers(body))
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.DEAD))
        (delivery,) = await relay.store.query_deliveries(
            DeliveryQuery(statuses=(DeliveryStatus.DEAD,))
        )
        assert delivery.attempts == 3
        assert delivery.last_error is not None
        assert "HTTP 503" in delivery.last_error
        assert len(upstream.requests) == 3


async def test_client_error_is_final_at_once(config: Path) -> None:
    upstream = Upstream(answers=[Reply(422, json={"detail": "bad"})])
    async with running_relay(config, upstream) as relay:
        body = issue_opened()
        await relay.post(body, github_headers(body))
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.DEAD))
        assert len(upstream.requests) == 1


async def test_replay_requeues_a_dead_delivery_with_a_fresh_budget(config: Path) -> None:
    upstream = Upstream(answers=[_unavailable() for _ in range(3)])
    async with running_relay(config, upstream) as relay:
        body = issue_opened()
        await relay.post(body, github_headers(body))
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.DEAD))
        (dead,) = await relay.store.query_deliveries(DeliveryQuery())
        replayed = await relay.store.replay(dead.id, relay.app.state.services.clock.now())
        assert replayed.status is DeliveryStatus.PENDING
        relay.app.state.services.worker.notify()
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        attempts = await relay.store.query_attempts(
            AttemptQuery(delivery_id=dead.id, whole_delivery=True)
        )
        assert [a.number for a in attempts] == [1, 2, 3, 4]
        assert attempts[-1].outcome == "succeeded"


async def test_run_reported_failed_is_recorded_as_function_failure(config: Path) -> None:
    failed = Reply(
        200,
        json={
            "function_id": "triage_issue",
            "function_run_id": "run_x",
            "session_id": "s",
            "result": "ValueError: boom",
            "status": "failed",
        },
    )
    upstream = Upstream(answers=[failed])
    async with running_relay(config, upstream) as relay:
        body = issue_opened()
        await relay.post(body, github_headers(body))
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.FAILED))
        assert len(upstream.requests) == 1


async def test_never_more_runs_in_flight_than_max_concurrency(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml", max_concurrency=3)
    in_flight = peak = 0
    seen: list[int] = []

    async def slow_upstream(request: Request) -> Reply:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        seen.append(json.loads(request.content)["variables"]["number"])
        return Reply(200, json={"status": "closed", "function_run_id": "r"})

    async with running_relay(config, handler=slow_upstream) as relay:
        for n in range(30):
            body = issue_opened(n)
            await relay.post(body, github_headers(body, delivery=f"d-{n}"))
        await relay.wait_for(lambda: len(seen) == 30, within=10)
    assert peak == 3
    assert sorted(seen) == list(range(30))


async def test_a_freed_slot_is_claimed_in_the_same_commit_as_the_outcome(tmp_path: Path) -> None:
    """The slot frees when the run answered: the next claim joins the outcome's transaction
    (one commit per delivery, not two, when runs go one at a time)."""
    # one step: a two-step start adds one write per delivery (its run id, stored before the
    # start), which this count is not about
    config = write_config(tmp_path / "relay.yaml", max_concurrency=1, start="one_step")
    store = SqliteStore(tmp_path / "relay.db")
    seen: list[int] = []

    async def upstream(request: Request) -> Reply:
        seen.append(json.loads(request.content)["variables"]["number"])
        return Reply(200, json={"status": "closed", "function_run_id": "r"})

    async with running_relay(config, handler=upstream, store=store) as relay:
        await store.set_target_paused("notte", True, 0.0, actor="test")
        for n in range(20):
            body = issue_opened(n)
            await relay.post(body, github_headers(body, delivery=f"d-{n}"))
        before = store.group_commit_stats[0]
        await store.set_target_paused("notte", False, 0.0, actor="test")
        relay.worker.notify()
        await relay.wait_for(lambda: len(seen) == 20, within=10)

        async def all_succeeded() -> bool:
            rows = await store.query_deliveries(DeliveryQuery())
            return [d.status for d in rows] == [DeliveryStatus.SUCCEEDED] * 20

        await relay.wait_for(all_succeeded, within=10)
        commits = store.group_commit_stats[0] - before
    # measured: 11-12 commits; 29 when each claim waited for the outcome's own commit
    assert commits <= 20, commits
