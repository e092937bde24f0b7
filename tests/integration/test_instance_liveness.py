"""Two ``relay serve`` processes on one PostgreSQL database: one holds every slot of the
target (long runs at the local runner), and is killed with SIGKILL. The other takes its
leases back and starts the waiting deliveries' runs at once, not after the lease ttl: the
ttl (and the attempt's deadline) is 600 s here, so within the test's wait only the dead
instance's released liveness token can explain it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.helpers import free_port, github_headers, issue_opened, write_config
from tests.integration.fleet import DELIVERY_HEADER, fresh_database
from tests.integration.procs import Proc, spawn_relay, start_runner, wait_ready
from tests.suite_plugin import Figures

# An instance SIGKILLed: the crash tier (`make test-fast` leaves it out).
pytestmark = pytest.mark.crash

LIMIT = 2  # the target's max_concurrency
LONG = 600.0  # the runs' duration, the lease ttl, the target's timeout
WITHIN = 60.0  # how long the test waits for the survivor: a tenth of the ttl
ROUTE = """
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {event_type: issues}
    variables:
      number: body.issue.number
"""


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + WITHIN
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WITHIN}s: {what}")
        await asyncio.sleep(0.05)


async def _rows(db: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def _post(client: httpx.AsyncClient, proc: Proc, number: int) -> None:
    body = issue_opened(number)
    answer = await client.post(
        f"{proc.url}/hooks/github",
        content=body,
        headers=github_headers(body, delivery=f"d-{number}"),
    )
    assert answer.status_code == 200, answer.text


async def _deliveries(db: str) -> dict[str, tuple[str, str, str | None]]:
    """dedupe key (d-N) -> (delivery id, status, lease owner)."""
    rows = await _rows(
        db,
        "SELECT e.dedupe_key, d.id, d.status, d.lease_owner FROM deliveries d "
        "JOIN events e ON e.id = d.event_id",
    )
    return {str(r[0]): (str(r[1]), str(r[2]), r[3]) for r in rows}


async def test_a_killed_instances_slots_go_to_the_survivor_long_before_its_leases_expire(
    tmp_path: Path, pg_server_url: str, figures: Figures
) -> None:
    async with fresh_database(pg_server_url) as db:
        with start_runner(tmp_path, "--run-duration", str(LONG)) as runner:
            config = write_config(
                tmp_path / "relay.yaml",
                base_url=runner.url,
                routes=ROUTE,
                max_concurrency=LIMIT,
                timeout=LONG,
                target_extra=f"idempotency_header: {DELIVERY_HEADER}",
            )
            extra = ("--lease-ttl", str(LONG), "--shutdown-grace", "1")
            procs: list[Proc] = []

            def start(name: str) -> Proc:
                log = tmp_path / f"relay-{name}.log"
                proc = spawn_relay(config, db, log, free_port(), *extra)
                procs.append(proc)
                return wait_ready(proc, within=60.0)

            async with httpx.AsyncClient(timeout=30.0) as client:

                async def runs() -> list[str]:
                    listed = (await client.get(f"{runner.url}/_local/runs")).json()
                    return [str(r["headers"].get(DELIVERY_HEADER.lower())) for r in listed]

                try:
                    doomed = await asyncio.to_thread(start, "doomed")
                    for number in range(LIMIT):
                        await _post(client, doomed, number)
                    await _until(lambda: _count(runs, LIMIT), "the first instance's runs")
                    first = await _deliveries(db)
                    owners = {owner for _, status, owner in first.values()}
                    assert {s for _, s, _ in first.values()} == {"in_flight"}
                    assert len(owners) == 1  # every slot is held by the first instance

                    survivor = await asyncio.to_thread(start, "survivor")
                    for number in range(LIMIT, 2 * LIMIT):
                        await _post(client, survivor, number)
                    # a few of the survivor's checks: the live instance's leases stay
                    await asyncio.sleep(3.0)
                    assert len(await runs()) == LIMIT
                    held = await _deliveries(db)
                    assert all(held[k][1] == "in_flight" for k in first)

                    await asyncio.to_thread(doomed.kill)
                    killed_at = time.monotonic()
                    await _until(lambda: _count(runs, 2 * LIMIT), "the survivor's runs")
                    taken_back_s = time.monotonic() - killed_at
                    after = await _deliveries(db)
                    started = await runs()
                    moves = await _rows(
                        db,
                        "SELECT delivery_id, from_status, to_status, actor FROM transitions "
                        "ORDER BY id",
                    )
                finally:
                    for proc in procs:
                        await asyncio.to_thread(proc.stop)
                    await asyncio.to_thread(runner.kill)  # its 600 s runs: no need to wait

    figures(
        "liveness (2 instances on PostgreSQL, lease ttl 600 s, kill -9 of the one holding "
        "every slot)",
        {"slots": LIMIT, "taken_back_s": round(taken_back_s, 1)},
    )
    waiting = {f"d-{n}" for n in range(LIMIT, 2 * LIMIT)}
    # The dead instance's deliveries were taken back by a sweep, not by an expired lease ...
    for key in first:
        delivery_id = first[key][0]
        assert after[key][1] != "in_flight" or after[key][2] not in owners, after[key]
        assert (delivery_id, "in_flight", "sweep") in {(m[0], m[1], m[3]) for m in moves}
    # ... and the waiting ones were claimed by the survivor, whose runs then started.
    claimers = {m[3] for m in moves if m[2] == "in_flight" and m[0] in _ids(after, waiting)}
    assert len(claimers) == 1
    assert claimers.isdisjoint(owners)
    assert set(_ids(after, waiting)) <= set(started)


def _ids(deliveries: dict[str, tuple[str, str, str | None]], keys: set[str]) -> list[str]:
    return [deliveries[k][0] for k in sorted(keys)]


async def _count(runs: Callable[[], Awaitable[list[str]]], at_least: int) -> bool:
    return len(await runs()) >= at_least
