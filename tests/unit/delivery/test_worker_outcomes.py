"""What each kind of attempt outcome does to a delivery, in the running worker: retried,
final at once, held for review, or retried because the route is idempotent; the
idempotency header; the lease sweep; and the transitions every move leaves behind."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from relay.delivery.outbound import NotSent, Reply, Request
from relay.store.base import DeliveryStatus
from tests.harness import Relay, Upstream, running_relay
from tests.helpers import FakeClock, write_config
from tests.unit.delivery.engine_kit import (
    SSE,
    attempts,
    cut_stream,
    full_stream,
    only_delivery,
    post_issue,
    route,
    run_answer,
)

pytestmark = pytest.mark.usefixtures("backend")  # each backend: see conftest.py

S = DeliveryStatus


async def test_connection_refused_is_retried_then_delivered(tmp_path: Path) -> None:
    calls = 0

    async def refuse_once(request: Request) -> Reply:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise NotSent("[Errno 111] Connection refused")
        return run_answer(request)

    config = write_config(tmp_path / "relay.yaml", routes=route())
    async with running_relay(config, handler=refuse_once) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.SUCCEEDED))
        tried = await attempts(relay, await only_delivery(relay))
    assert [a.outcome for a in tried] == ["retryable", "succeeded"]
    assert tried[0].error is not None
    assert tried[0].error.startswith("not sent: NotSent")


async def test_500_is_retried(tmp_path: Path) -> None:
    upstream = Upstream(answers=[Reply(500, text="boom")])
    config = write_config(tmp_path / "relay.yaml", routes=route())
    async with running_relay(config, upstream) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.SUCCEEDED))
    assert len(upstream.requests) == 2


@pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
async def test_client_error_is_dead_at_once_with_the_reason_shown(
    tmp_path: Path, code: int
) -> None:
    upstream = Upstream(answers=[Reply(code, json={"detail": "Function not found"})])
    config = write_config(tmp_path / "relay.yaml", routes=route())
    async with running_relay(config, upstream) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.DEAD))
        dead = await only_delivery(relay)
        moves = await relay.store.list_transitions(dead.id)
        await asyncio.sleep(0.2)
    assert len(upstream.requests) == 1
    assert dead.last_error == f'HTTP {code}: {{"detail":"Function not found"}}'
    assert moves[-1].to_status is S.DEAD
    assert moves[-1].reason is not None
    assert moves[-1].reason.endswith("final, not retried")


async def test_hang_past_the_timeout_is_held_for_review_not_retried(tmp_path: Path) -> None:
    calls = 0

    async def hang(request: Request) -> Reply:
        nonlocal calls
        calls += 1
        await asyncio.sleep(60)
        return Reply(200)

    routes = route(start="one_step")  # a two-step start's lost answer is asked of the API
    config = write_config(tmp_path / "relay.yaml", routes=routes, timeout=0.1, connect_timeout=0.1)
    async with running_relay(config, handler=hang) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.NEEDS_REVIEW))
        (attempt,) = await attempts(relay, await only_delivery(relay))
        await asyncio.sleep(0.3)
    assert calls == 1
    assert attempt.outcome == "ambiguous"


async def test_stream_cut_mid_run_is_held_for_review(tmp_path: Path) -> None:
    async def cut(request: Request) -> Reply:
        return cut_stream()

    config = write_config(tmp_path / "relay.yaml", routes=route(start="one_step"))
    async with running_relay(config, handler=cut) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.NEEDS_REVIEW))
        (attempt,) = await attempts(relay, await only_delivery(relay))
    assert attempt.outcome == "ambiguous"
    assert attempt.session_id == "sess_cut"  # what was read before the cut is kept
    assert attempt.logs == ("working",)


async def test_stream_cut_on_an_idempotent_route_is_retried(tmp_path: Path) -> None:
    calls = 0

    async def cut_once(request: Request) -> Reply:
        nonlocal calls
        calls += 1
        if calls == 1:
            return cut_stream()
        return Reply(200, headers=SSE, content=full_stream())

    routes = route(idempotent=True, start="one_step")
    config = write_config(tmp_path / "relay.yaml", routes=routes)
    async with running_relay(config, handler=cut_once) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.SUCCEEDED))
        tried = await attempts(relay, await only_delivery(relay))
    assert [a.outcome for a in tried] == ["ambiguous", "succeeded"]
    assert tried[1].session_id == "sess_ok"


@pytest.mark.parametrize(("on_run_failure", "requests"), [(False, 1), (True, 2)])
async def test_failed_run_is_retried_only_when_the_route_asks(
    tmp_path: Path, on_run_failure: bool, requests: int
) -> None:
    calls = 0

    async def fail_once(request: Request) -> Reply:
        nonlocal calls
        calls += 1
        return run_answer(request, "failed" if calls == 1 else "closed")

    retry = f"{{max_attempts: 3, initial: 0.05, jitter: 0, on_run_failure: {on_run_failure}}}"
    config = write_config(tmp_path / "relay.yaml", routes=route(retry.lower()))
    final = S.SUCCEEDED if on_run_failure else S.FAILED
    async with running_relay(config, handler=fail_once) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", final))
        await asyncio.sleep(0.2)
    assert calls == requests


async def test_idempotency_header_carries_the_stable_delivery_id_when_configured(
    tmp_path: Path,
) -> None:
    upstream = Upstream(answers=[Reply(503)])
    config = write_config(
        tmp_path / "relay.yaml", routes=route(), target_extra="idempotency_header: Idempotency-Key"
    )
    async with running_relay(config, upstream) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.SUCCEEDED))
        delivery = await only_delivery(relay)
    keys = [r.headers.get("idempotency-key") for r in upstream.requests]
    assert keys == [delivery.id, delivery.id]
    for request in upstream.requests:
        assert set(json.loads(request.content)) == {"workflow_id", "variables", "stream"}
        assert delivery.id not in request.content.decode()


async def test_no_idempotency_header_by_default(tmp_path: Path) -> None:
    upstream = Upstream()
    config = write_config(tmp_path / "relay.yaml", routes=route())
    async with running_relay(config, upstream) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.SUCCEEDED))
    (request,) = upstream.requests
    assert "idempotency-key" not in request.headers


async def test_every_move_is_recorded_as_a_transition_with_its_actor(tmp_path: Path) -> None:
    upstream = Upstream(answers=[Reply(503)])
    config = write_config(tmp_path / "relay.yaml", routes=route())
    async with running_relay(config, upstream) as relay:
        await post_issue(relay, 1)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.SUCCEEDED))
        delivery = await only_delivery(relay)
        moves = await relay.store.list_transitions(delivery.id)
        owner = relay.services.settings.instance_id
    assert [(m.from_status, m.to_status) for m in moves] == [
        (None, S.PENDING),
        (S.PENDING, S.IN_FLIGHT),
        (S.IN_FLIGHT, S.RETRY_SCHEDULED),
        (S.RETRY_SCHEDULED, S.IN_FLIGHT),
        (S.IN_FLIGHT, S.SUCCEEDED),
    ]
    assert [m.actor for m in moves] == ["receiver", owner, owner, owner, owner]
    assert moves[2].reason is not None
    assert moves[2].reason.startswith("HTTP 503")
    assert "1/3 attempts used" in moves[2].reason
    assert moves[2].at < (delivery.updated_at or 0) + 1


async def test_sweep_recovers_a_stalled_lease_of_a_crashed_worker(tmp_path: Path) -> None:
    clock = FakeClock()
    upstream = Upstream()
    config = write_config(tmp_path / "relay.yaml", routes=route(idempotent=True))
    async with running_relay(
        config, upstream, clock=clock, recover_interval=0.05, exclusive_store=False
    ) as relay:
        store = relay.store
        await store.set_target_paused("notte", True, clock.now(), actor="test")
        await relay.wait_for(lambda: _paused(relay))
        await post_issue(relay, 1)
        # Another worker claims it, then dies: its lease is all that is left.
        (crashed,) = await store.claim("notte", 1, clock.now(), "crashed-worker", 30.0)
        await store.set_target_paused("notte", False, clock.now(), actor="test")
        await asyncio.sleep(0.3)
        assert upstream.requests == []  # the lease holds while it is live
        clock.advance(31)
        await relay.wait_for(lambda: relay.status_is("new-issues", S.SUCCEEDED))
        tried = await attempts(relay, crashed.delivery)
        moves = await store.list_transitions(crashed.delivery.id)
    assert [a.outcome for a in tried] == ["ambiguous", "succeeded"]
    assert (S.IN_FLIGHT, S.PENDING, "sweep") in [
        (m.from_status, m.to_status, m.actor) for m in moves
    ]


def _paused(relay: Relay) -> bool:
    gate = relay.worker.gate("notte")
    return gate is not None and gate.paused
