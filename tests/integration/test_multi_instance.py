"""Three ``relay serve`` processes on one PostgreSQL database and one ``relay local-runner``:
webhooks sent round-robin (again to the next instance when not acknowledged), one instance
killed with SIGKILL mid-run and started again. Every acknowledged webhook is delivered
exactly once, or held for review when its attempt was cut by the kill; the target's limit
holds across the instances; no delivery is ever in flight on two instances at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import pytest

from tests.helpers import write_config
from tests.integration.fleet import (
    DELIVERY_HEADER,
    Fleet,
    Sender,
    fresh_database,
    read_outcome,
    wait_settled,
)
from tests.integration.procs import relay_cli, start_runner
from tests.suite_plugin import Figures

AFTERWARDS = 20  # webhooks sent to the restarted instances once they run alone
LIMIT = 8  # the target's max_concurrency, and the runner's: one run more would get a 429
ROUTE = """
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {event_type: issues}
    variables:
      number: body.issue.number
    retry: {max_attempts: 5, initial: 0.1, max: 0.5, jitter: 0}
"""


async def _until(condition: Callable[[], bool], *, within: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _run(
    tmp_path: Path,
    server: str,
    figures: Figures,
    *,
    count: int,
    kills: Sequence[float],
    settle_within: float,
) -> None:
    started = time.monotonic()
    async with fresh_database(server) as db:
        runner_args = ("--max-concurrency", str(LIMIT), "--run-duration", "0.02")
        with start_runner(tmp_path, *runner_args) as runner:
            config = write_config(
                tmp_path / "relay.yaml",
                base_url=runner.url,
                routes=ROUTE,
                max_concurrency=LIMIT,
                target_extra=f"idempotency_header: {DELIVERY_HEADER}",
            )
            fleet = Fleet(config, db, tmp_path, 3, extra=("--lease-ttl", "3"))
            try:
                await asyncio.to_thread(fleet.start)
                sender = Sender(fleet.ports, count, concurrency=24)
                sending_from = time.monotonic()
                sending = asyncio.create_task(sender.run())
                for n, fraction in enumerate(kills):
                    await _until(
                        lambda f=fraction: len(sender.acknowledged) >= count * f,  # type: ignore[misc]
                        within=120,
                        what=f"{fraction:.0%} acknowledged",
                    )
                    victim = 1 + n % 2
                    await asyncio.to_thread(fleet.kill, victim)
                    await asyncio.sleep(0.3)
                    await asyncio.to_thread(fleet.restart, victim)
                await asyncio.wait_for(sending, timeout=180)
                sent_at = time.monotonic()
                await wait_settled(db, count, within=settle_within)
                # The restarted instances work on their own: the instances never killed stop
                # (drained), and webhooks sent to the restarted ones are delivered by them.
                # (While all ran, one instance may have held the target's slots throughout.)
                restarted = {1 + n % 2 for n in range(len(kills))}
                for n in set(range(3)) - restarted:
                    await asyncio.to_thread(fleet.stop_one, n)
                alone = Sender(
                    [fleet.ports[n] for n in sorted(restarted)],
                    AFTERWARDS,
                    concurrency=4,
                    first=count,
                )
                await asyncio.wait_for(alone.run(), timeout=60)
                settled = await wait_settled(db, count + AFTERWARDS, within=settle_within)
                settled_at = time.monotonic()
                outcome = await read_outcome(db, runner.url)
                async with httpx.AsyncClient() as client:
                    stats = (await client.get(f"{runner.url}/_local/stats")).json()
            finally:
                await asyncio.to_thread(fleet.stop)

    figures(
        f"multi-instance ({count} webhooks, 3 instances, {len(kills)} kill -9)",
        {
            "sent": count,
            "acknowledged": len(sender.acknowledged),
            "resent": sender.retries,
            "succeeded": settled.get("succeeded", 0),
            "needs_review": settled.get("needs_review", 0),
            "runs": stats["total"],
            "peak_in_flight": stats["peak_in_flight"],
            "sending_s": round(sent_at - sending_from, 1),
            "settling_s": round(settled_at - sent_at, 1),
            "total_s": round(time.monotonic() - started, 1),
        },
    )
    # Every webhook was acknowledged in the end (the sender tries the next instance).
    assert sender.given_up == set()
    assert sender.acknowledged == set(range(count))
    assert alone.given_up == set()
    assert alone.acknowledged == set(range(count, count + AFTERWARDS))
    # ... and stored once: one event per provider delivery id, one delivery per event.
    assert set(outcome.events) == {f"d-{n}" for n in range(count + AFTERWARDS)}
    assert set(outcome.deliveries_per_event.values()) == {1}
    # Delivered exactly once, or held for review when an attempt was cut by the kill.
    statuses = outcome.statuses
    assert set(statuses.values()) <= {"succeeded", "needs_review"}
    flagged = {d for d, s in statuses.items() if s == "needs_review"}
    assert len(flagged) <= LIMIT * len(kills)  # at most what the dead instance had in flight
    for delivery_id, status in statuses.items():
        runs = outcome.runs.get(delivery_id, 0)
        assert runs == 1 if status == "succeeded" else runs <= 1, (delivery_id, status, runs)
    assert set(outcome.runs) <= set(statuses)  # every run came from a stored delivery
    # Never two attempts of one delivery at once, never more runs at once than the limit.
    assert outcome.overlapping() == []
    assert stats["peak_in_flight"] <= LIMIT
    assert stats["throttled"] == 0
    assert stats["total"] == sum(outcome.runs.values())
    # The work was shared: the three first instances and the restarted one all claimed (the
    # restarted one at the latest when it ran alone).
    assert len(outcome.claimers) >= 3 + len(kills)


@pytest.mark.crash
async def test_three_instances_deliver_each_webhook_once_through_a_kill_9(
    tmp_path: Path, pg_server_url: str, figures: Figures
) -> None:
    await _run(tmp_path, pg_server_url, figures, count=2000, kills=[0.35], settle_within=60)


@pytest.mark.crash
@pytest.mark.long
async def test_three_instances_through_three_kills_under_ten_thousand_webhooks(
    tmp_path: Path, pg_server_url: str, figures: Figures
) -> None:
    await _run(
        tmp_path,
        pg_server_url,
        figures,
        count=10_000,
        kills=[0.2, 0.5, 0.8],
        settle_within=240,
    )


async def test_two_instances_share_the_targets_rate_limit(
    tmp_path: Path, pg_server_url: str
) -> None:
    """4 runs a minute for the fleet, not 4 per instance: a backlog released at once to two
    instances that both see it starts 4 runs (each instance alone would have started 4)."""
    async with fresh_database(pg_server_url) as db:
        with start_runner(tmp_path) as runner:
            config = write_config(
                tmp_path / "relay.yaml",
                base_url=runner.url,
                routes=ROUTE,
                max_concurrency=LIMIT,
                target_extra="rate_limit: {count: 4, per: minute}",
            )
            fleet = Fleet(config, db, tmp_path, 2)
            try:
                await asyncio.to_thread(fleet.start)
                paused = await asyncio.to_thread(relay_cli, "targets", "pause", "notte", "--db", db)
                assert paused.returncode == 0, paused.stderr
                sender = Sender(fleet.ports, 12, concurrency=4)
                await asyncio.wait_for(sender.run(), timeout=60)
                assert sender.acknowledged == set(range(12))
                resumed = await asyncio.to_thread(
                    relay_cli, "targets", "resume", "notte", "--db", db
                )
                assert resumed.returncode == 0, resumed.stderr
                async with httpx.AsyncClient() as client:

                    async def runs() -> int:
                        stats = (await client.get(f"{runner.url}/_local/stats")).json()
                        return int(stats["total"])

                    for _ in range(200):  # the first instance to claim starts 4 at once
                        if await runs() >= 4:
                            break
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(3.0)  # both instances saw the resume (1 s poll)
                    assert await runs() == 4
            finally:
                await asyncio.to_thread(fleet.stop)
