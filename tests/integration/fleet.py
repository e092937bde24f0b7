"""Several ``relay serve`` processes on one PostgreSQL database, a sender that retries what
was not acknowledged, and what the database and the runner say happened afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from tests.helpers import free_port, github_headers, issue_opened
from tests.integration.procs import Proc, spawn_relay, wait_ready
from tests.postgres import create_schema, drop_schema, with_search_path

__all__ = [
    "Fleet",
    "Outcome",
    "Sender",
    "fresh_database",
    "read_outcome",
    "wait_settled",
]

HOST = "127.0.0.1"
READY_WITHIN = 60.0  # a start on a busy 2-core machine can take seconds
DELIVERY_HEADER = "X-Relay-Delivery"  # the target's idempotency_header: the runner records it


@contextlib.asynccontextmanager
async def fresh_database(server: str) -> AsyncIterator[str]:
    """A URL on a schema of its own, dropped afterwards."""
    schema = await create_schema(server, prefix="relay_test_fleet")
    try:
        yield with_search_path(server, schema)
    finally:
        await drop_schema(server, schema)


@dataclass
class Fleet:
    """``size`` relay instances on fixed ports (a restarted one gets its port back)."""

    config: Path
    db: str
    logs: Path
    size: int
    extra: Sequence[str] = ()
    procs: list[Proc | None] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    starts: int = 0

    def start(self) -> None:
        """Start every instance at once (they migrate the new schema together)."""
        self.ports = [free_port() for _ in range(self.size)]
        self.procs = [self._spawn(n) for n in range(self.size)]
        for proc in self.procs:
            assert proc is not None
            wait_ready(proc, within=READY_WITHIN)

    def _spawn(self, n: int) -> Proc:
        self.starts += 1
        log = self.logs / f"relay-{n}-{self.starts}.log"
        return spawn_relay(self.config, self.db, log, self.ports[n], *self.extra)

    def restart(self, n: int) -> None:
        self.procs[n] = wait_ready(self._spawn(n), within=READY_WITHIN)

    def kill(self, n: int) -> int:
        """kill -9 instance ``n``; its pid."""
        proc = self.procs[n]
        assert proc is not None
        proc.kill()
        return proc.process.pid

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def stop_one(self, n: int) -> None:
        """Stop instance ``n`` as its service manager would (SIGTERM, drained)."""
        proc = self.procs[n]
        if proc is not None:
            proc.stop()
            self.procs[n] = None

    def stop(self) -> None:
        for proc in self.procs:
            if proc is not None:
                proc.stop()

    def pids(self) -> list[int]:
        return [p.process.pid for p in self.procs if p is not None]


class _Connection:
    """One keep-alive HTTP/1.1 connection (the sender's; far cheaper per request than httpx,
    which matters when the sender shares two cores with three relays and a database)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 5.0)
        return cls(reader, writer)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        lines = [f"POST {path} HTTP/1.1", f"Host: {HOST}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 15.0)
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await asyncio.wait_for(self.reader.readexactly(length), 15.0)
        return status

    def close(self) -> None:
        self.writer.close()


class Sender:
    """Sends webhooks 0..count-1 round-robin from ``concurrency`` tasks; one that is not
    acknowledged (refused, 5xx, cut) goes again to the next instance, up to ``tries``."""

    def __init__(
        self,
        ports: Sequence[int],
        count: int,
        *,
        concurrency: int,
        tries: int = 200,
        first: int = 0,
    ):
        self.ports = list(ports)
        self.count = count
        self.concurrency = concurrency
        self.tries = tries
        self.acknowledged: set[int] = set()
        self.given_up: set[int] = set()
        self.retries = 0
        self.failures: Counter[str] = Counter()
        self._numbers = iter(range(first, first + count))  # webhooks first..first+count-1

    async def run(self) -> None:
        await asyncio.gather(*(self._worker() for _ in range(self.concurrency)))

    async def _worker(self) -> None:
        connections: dict[int, _Connection] = {}
        try:
            for number in self._numbers:
                await self._send(number, connections)
        finally:
            for connection in connections.values():
                connection.close()

    async def _send(self, number: int, connections: dict[int, _Connection]) -> None:
        body = issue_opened(number)
        headers = github_headers(body, delivery=f"d-{number}")
        for attempt in itertools.count():
            port = self.ports[(number + attempt) % len(self.ports)]
            try:
                if port not in connections:
                    connections[port] = await _Connection.open(port)
                status = await connections[port].post("/hooks/github", body, headers)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                self.failures[type(exc).__name__] += 1
                dropped = connections.pop(port, None)
                if dropped is not None:
                    dropped.close()
            else:
                if status == 200:
                    self.acknowledged.add(number)
                    return
                self.failures[f"HTTP {status}"] += 1
            if attempt + 1 >= self.tries:
                self.given_up.add(number)
                return
            self.retries += 1
            await asyncio.sleep(0.02)


@dataclass
class Outcome:
    """What happened, read from the database and the runner."""

    events: dict[str, str]  # dedupe key (d-N) -> event id
    statuses: dict[str, str]  # delivery id -> status
    delivery_of: dict[str, str]  # event id -> its delivery id (one each)
    deliveries_per_event: Counter[str]
    attempts: dict[str, list[tuple[float, float | None, str | None]]]  # started, finished, outcome
    claimers: set[str]  # owners that moved a delivery to in_flight
    runs: Counter[str]  # delivery id -> runs the runner started for it

    def overlapping(self) -> list[str]:
        """Deliveries with two attempts open at the same time."""
        found = []
        for delivery_id, rows in self.attempts.items():
            ordered = sorted(rows)
            for (_, end, _), (start, _, _) in itertools.pairwise(ordered):
                if end is None or end > start:
                    found.append(delivery_id)
                    break
        return found


async def _rows(db: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def wait_settled(db: str, expected: int, *, within: float) -> dict[str, int]:
    """Wait until ``expected`` events are stored and no delivery is waiting or in flight."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    counts: dict[str, int] = {}
    while loop.time() < deadline:
        rows = await _rows(db, "SELECT status, count(*) FROM deliveries GROUP BY status")
        counts = {str(r[0]): int(r[1]) for r in rows}
        events = (await _rows(db, "SELECT count(*) FROM events"))[0][0]
        unsettled = set(counts) - {"succeeded", "needs_review"}
        if events >= expected and sum(counts.values()) >= expected and not unsettled:
            return counts
        await asyncio.sleep(0.25)
    raise AssertionError(f"not settled within {within}s: {counts}")


async def read_outcome(db: str, runner_url: str) -> Outcome:
    events = {str(r[0]): str(r[1]) for r in await _rows(db, "SELECT dedupe_key, id FROM events")}
    deliveries = await _rows(db, "SELECT id, event_id, status FROM deliveries")
    attempts: dict[str, list[tuple[float, float | None, str | None]]] = defaultdict(list)
    for delivery_id, started, finished, outcome in await _rows(
        db, "SELECT delivery_id, started_at, finished_at, outcome FROM attempts"
    ):
        attempts[str(delivery_id)].append((float(started), finished, outcome))
    claimers = {
        str(r[0])
        for r in await _rows(
            db, "SELECT DISTINCT actor FROM transitions WHERE to_status = 'in_flight'"
        )
    }
    async with httpx.AsyncClient(timeout=60.0) as client:
        runs = (await client.get(f"{runner_url}/_local/runs")).json()
    return Outcome(
        events=events,
        statuses={str(d[0]): str(d[2]) for d in deliveries},
        delivery_of={str(d[1]): str(d[0]) for d in deliveries},
        deliveries_per_event=Counter(str(d[1]) for d in deliveries),
        attempts=dict(attempts),
        claimers=claimers,
        # the runs executed (a two-step start's created runs that never started are not)
        runs=Counter(
            str(run["headers"].get(DELIVERY_HEADER.lower()))
            for run in runs
            if int(run.get("start_count", 1)) > 0
        ),
    )
