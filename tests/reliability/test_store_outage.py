"""The database goes away for a while: SQLite locked by another connection holding its write
lock, PostgreSQL with relay's connections killed (``pg_terminate_backend``; the server itself
is shared and stays up). relay answers 503 for what it cannot store, never a 2xx, recovers by
itself, and loses nothing it acknowledged."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.helpers import github_headers, issue_opened, write_config
from tests.postgres import PgServer, create_schema, drop_schema, with_search_path
from tests.reliability.kit import RelayProcess, db_rows, runner, runner_runs, statuses
from tests.suite_plugin import Figures

# Store outages with relay as a process: the crash tier (`make test-fast` leaves it out).
pytestmark = pytest.mark.crash

ROUTE = """
  - name: outage
    source: github
    function_id: triage_issue
    match: {event_type: issues}
    variables:
      delivery: event_id
    retry: {max_attempts: 20, initial: 0.2, max: 1, jitter: 0}
"""
HOLD = 12.0  # seconds the write lock is held: over two of relay's 5 s busy timeouts


class Poster:
    """Posts webhooks ``prefix-0..count-1``, each until acknowledged, and tallies answers."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self.answers: Counter[str] = Counter()
        self.acked: dict[str, str] = {}  # provider id -> event id

    async def send(self, client: httpx.AsyncClient, n: int) -> None:
        ident = f"{self.prefix}-{n}"
        body = issue_opened(n)
        headers = github_headers(body, delivery=ident)
        for _ in range(400):
            try:
                reply = await client.post(f"{self.url}/hooks/github", content=body, headers=headers)
            except httpx.HTTPError as exc:
                self.answers[type(exc).__name__] += 1
            else:
                self.answers[str(reply.status_code)] += 1
                if reply.status_code == 200:
                    self.acked[ident] = reply.json()["id"]
                    return
                assert reply.status_code == 503, reply.text
                assert reply.headers["retry-after"]
            await asyncio.sleep(0.2)
        raise AssertionError(f"{ident} never acknowledged")


async def _settle(db: Path | str, count: int, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if statuses(db) == {"succeeded": count}:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not all delivered: {statuses(db)}")


async def test_sqlite_write_lock_held_elsewhere_gives_503s_then_recovers_losing_nothing(
    tmp_path: Path, figures: Figures
) -> None:
    with runner(tmp_path) as upstream:
        config = write_config(tmp_path / "relay.yaml", base_url=upstream.url, routes=ROUTE)
        relay = RelayProcess(config, tmp_path / "relay.db", tmp_path)
        relay.start()
        poster = Poster(relay.url, "lock")
        try:
            async with httpx.AsyncClient(timeout=30.0) as client:
                await asyncio.gather(*(poster.send(client, n) for n in range(10)))
                locker = sqlite3.connect(relay.db, isolation_level=None, timeout=30.0)
                locker.execute("BEGIN EXCLUSIVE")  # writers wait, then fail: relay's 503
                sending = asyncio.gather(*(poster.send(client, n) for n in range(10, 40)))
                await asyncio.sleep(HOLD)
                locker.execute("ROLLBACK")
                locker.close()
                await asyncio.wait_for(sending, timeout=120)
                await asyncio.gather(*(poster.send(client, n) for n in range(40, 50)))
            await _settle(relay.db, 50)
            assert relay.alive  # it recovered by itself
            runs = Counter(str(r["variables"]["delivery"]) for r in runner_runs(upstream.url))
        finally:
            relay.kill()
    stored = {str(k): str(v) for k, v in db_rows(relay.db, "SELECT dedupe_key, id FROM events")}
    assert poster.acked == stored  # every acknowledged event is stored, under the id given
    assert runs == Counter(list(poster.acked))  # and run exactly once
    assert poster.answers["503"] >= 1
    assert set(poster.answers) <= {"200", "503"}
    assert "relay.hook.store_unavailable" in relay.output()
    figures(
        f"store outage, SQLite write lock held {HOLD:g} s",
        {"acknowledged": len(poster.acked), "answers": dict(poster.answers), "lost": 0},
    )


async def _terminate(server: str, application_name: str) -> int:
    conn = await asyncpg.connect(server)
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1 AND pid <> pg_backend_pid()",
            application_name,
        )
        return len(rows)
    finally:
        await conn.close()


async def test_postgres_connections_killed_under_load_recovers_losing_nothing(
    tmp_path: Path, figures: Figures, pg_server: PgServer
) -> None:
    server = pg_server.require()
    schema = await create_schema(server, prefix="relay_test_outage")
    # relay's own connections carry this name: only they are terminated (the server is shared)
    application_name = f"relay_outage_{secrets.token_hex(4)}"
    url = with_search_path(server, schema) + f"&application_name={application_name}"
    killed = 0
    try:
        with runner(tmp_path) as upstream:
            config = write_config(tmp_path / "relay.yaml", base_url=upstream.url, routes=ROUTE)
            relay = RelayProcess(config, url, tmp_path)
            relay.start()
            poster = Poster(relay.url, "pg")
            try:
                async with httpx.AsyncClient(timeout=30.0) as client:
                    sending = asyncio.gather(*(poster.send(client, n) for n in range(60)))
                    for _ in range(6):
                        await asyncio.sleep(0.5)
                        killed += await _terminate(server, application_name)
                    await asyncio.wait_for(sending, timeout=120)
                runs = await _wait_runs(upstream.url, len(poster.acked))
                assert relay.alive
            finally:
                relay.kill()
        stored = await _stored(url)
    finally:
        await drop_schema(server, schema)
    assert killed >= 1
    assert poster.acked == stored
    assert runs == Counter(list(poster.acked))
    assert set(poster.answers) <= {"200", "503"}
    figures(
        "store outage, PostgreSQL connections terminated 6 times",
        {
            "connections killed": killed,
            "acknowledged": len(poster.acked),
            "lost": 0,
            "answers": dict(poster.answers),
        },
    )


async def _wait_runs(runner_url: str, count: int, within: float = 120.0) -> Counter[str]:
    deadline = time.monotonic() + within
    runs: Counter[str] = Counter()
    while time.monotonic() < deadline:
        runs = Counter(str(r["variables"]["delivery"]) for r in runner_runs(runner_url))
        if len(runs) >= count:
            await asyncio.sleep(1.0)  # a duplicate would show up now
            return Counter(str(r["variables"]["delivery"]) for r in runner_runs(runner_url))
        await asyncio.sleep(0.2)
    raise AssertionError(f"only {len(runs)} of {count} delivered")


async def _stored(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    try:
        return {str(r[0]): str(r[1]) for r in await conn.fetch("SELECT dedupe_key, id FROM events")}
    finally:
        await conn.close()


def _readyz(url: str) -> httpx.Response:
    return httpx.get(f"{url}/readyz", timeout=30.0)


def test_readyz_is_not_ready_while_writes_fail_and_ready_again_when_they_work(
    tmp_path: Path,
) -> None:
    """A load balancer must move webhooks away from an instance whose store cannot write
    (here SQLite's write lock held by another process; a full disk fails the same way), and
    back once it can: readiness follows the writes, found out again by a probe write while
    no webhook comes."""
    config = write_config(tmp_path / "relay.yaml", routes=ROUTE)
    relay = RelayProcess(config, tmp_path / "relay.db", tmp_path)
    relay.start()
    try:
        assert _readyz(relay.url).status_code == 200
        body = issue_opened(1)
        post = f"{relay.url}/hooks/github"
        locker = sqlite3.connect(relay.db, isolation_level=None, timeout=30.0)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            refused = httpx.post(post, content=body, headers=github_headers(body), timeout=60.0)
            assert refused.status_code == 503
            for _ in range(3):  # stays so while the lock is held, probes or not
                ready = _readyz(relay.url)
                assert ready.status_code == 503, ready.text
                assert ready.json()["store_writes"] is False
                assert ready.json()["store"] is True  # reads still work: only writes fail
                time.sleep(1.5)
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        deadline = time.monotonic() + 60.0
        while _readyz(relay.url).status_code != 200:  # no webhook needed to find out
            assert time.monotonic() < deadline, "not ready again after the lock went"
            time.sleep(0.5)
        accepted = httpx.post(post, content=body, headers=github_headers(body), timeout=60.0)
        assert accepted.status_code == 200
    finally:
        relay.kill()
    assert db_rows(relay.db, "SELECT count(*) FROM events")[0][0] == 1
    assert "relay.store.writes_failing" in relay.output()
    assert "relay.store.writes_recovered" in relay.output()
