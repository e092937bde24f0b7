"""A flood of unsigned requests: database and log growth per 100,000 rejections, and what
the signed webhooks sent meanwhile got.

``--requests`` POSTs with a wrong signature (closed loop, ``--connections`` keep-alive
connections against 127.0.0.1, every one answered 401) while one client sends signed
webhooks, one at a time, ``--signed-gap`` apart: their answers and ack times tell whether the
flood pushed them out (compared with the same webhooks sent before the flood). Growth is
measured over a flood with nothing else sent: the database files (SQLite: the file, ``-wal``
and ``-shm``; PostgreSQL: the ``rejections`` table with its indexes) and relay's log, each
scaled to 100,000 rejected requests. ``--relay-src git:REV`` measures another commit (e.g. before a
change).
"""

from __future__ import annotations

import argparse
import http.client
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import _common as c

NAME = "rejections"
COLUMNS = (
    ("row", "row", ""),
    ("rejected", "401s", "d"),
    ("flood_rps", "flood req/s", ".0f"),
    ("db_bytes_per_100k", "db B/100k", ",d"),
    ("log_bytes_per_100k", "log B/100k", ",d"),
    ("rejection_rows", "rows", "d"),
    ("rejections_counted", "counted", "d"),
    ("signed_ok", "signed 200", "d"),
    ("signed_sent", "signed sent", "d"),
    ("signed_p50_ms", "signed p50 ms", ".1f"),
    ("signed_p99_ms", "signed p99 ms", ".1f"),
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = c.base_parser(NAME, __doc__.splitlines()[0] if __doc__ else NAME)
    parser.add_argument("--requests", type=int, help="unsigned requests (default 100,000)")
    parser.add_argument("--connections", type=int, default=32, help="flood connections")
    parser.add_argument("--signed-gap", type=float, default=0.05, help="s between signed")
    parser.add_argument("--db", default="sqlite", help="'sqlite' or a PostgreSQL URL")
    args = parser.parse_args(argv)
    c.use_relay_source(args.relay_src)
    c.quiet_wait_default(args)
    args.requests = args.requests or (10_000 if args.quick else 100_000)
    return args


def _db_bytes(url: str) -> int:
    """SQLite: the database files; PostgreSQL: the rejections table and its indexes."""
    if c.db_kind(url) == "sqlite":
        return sum(p.stat().st_size for p in Path(url).parent.glob(Path(url).name + "*"))

    async def size() -> int:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SELECT pg_total_relation_size('rejections')"))
        finally:
            await conn.close()

    result: int = c.run_async(size())
    return result


def _rejection_rows(url: str) -> tuple[int, int]:
    """(rows, requests they stand for) in the rejections table."""
    sql = "SELECT count(*), {} FROM rejections"
    if c.db_kind(url) == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url)
        try:
            columns = {r[1] for r in conn.execute("PRAGMA table_info(rejections)")}
            total = "sum(count)" if "count" in columns else "count(*)"
            rows, requests = conn.execute(sql.format(total)).fetchone()
        finally:
            conn.close()
        return int(rows), int(requests or 0)

    async def count() -> tuple[int, int]:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            has_count = await conn.fetchval(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'rejections' "
                "AND column_name = 'count' AND table_schema = current_schema()"
            )
            row = await conn.fetchrow(sql.format("sum(count)" if has_count else "count(*)"))
            return (0, 0) if row is None else (int(row[0]), int(row[1] or 0))
        finally:
            await conn.close()

    result: tuple[int, int] = c.run_async(count())
    return result


class _Signed(threading.Thread):
    """Signed webhooks one at a time until stopped: answers and ack times."""

    def __init__(self, port: int, gap: float, tag: str) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.gap = gap
        self.tag = tag
        self.stop = threading.Event()
        self.answers: Counter[str] = Counter()
        self.acks: list[float] = []

    def run(self) -> None:
        conn = http.client.HTTPConnection(c.HOST, self.port, timeout=30)
        i = 0
        while not self.stop.is_set():
            body = c.issue_payload(200_000 + i)
            headers = c.github_headers(body, f"{self.tag}-{i}")
            i += 1
            started = time.perf_counter()
            try:
                conn.request("POST", "/hooks/github", body=body, headers=headers)
                reply = conn.getresponse()
                reply.read()
            except (OSError, http.client.HTTPException) as exc:
                self.answers[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection(c.HOST, self.port, timeout=30)
            else:
                self.answers[str(reply.status)] += 1
                if reply.status == 200:
                    self.acks.append(time.perf_counter() - started)
            self.stop.wait(self.gap)
        conn.close()


def _unsigned_factory(port: int) -> Any:
    body = c.issue_payload(1)
    headers = {**c.github_headers(body, "flood"), "X-Hub-Signature-256": "sha256=" + "0" * 64}
    request = c.request_bytes(port, "/hooks/github", body, headers)
    return lambda i: request


def _flood(args: argparse.Namespace, port: int) -> c.LoadResult:
    return c.run_python_load(
        port,
        _unsigned_factory(port),
        connections=args.connections,
        duration=3600.0,
        max_requests=args.requests,
    )


def _signed_while(port: int, gap: float, tag: str, work: Any) -> tuple[_Signed, Any]:
    """Signed webhooks sent one at a time while ``work()`` runs; (their tally, its result)."""
    signed = _Signed(port, gap, tag)
    signed.start()
    try:
        result = work()
    finally:
        signed.stop.set()
        signed.join()
    return signed, result


def _signed_row(signed: _Signed) -> dict[str, Any]:
    latency = c.latency_summary(signed.acks)
    return {
        "signed_sent": sum(signed.answers.values()),
        "signed_ok": signed.answers.get("200", 0),
        "signed_answers": dict(signed.answers),
        "signed_p50_ms": latency.get("p50_ms"),
        "signed_p99_ms": latency.get("p99_ms"),
    }


def _measure(args: argparse.Namespace, workdir: Path, label: str) -> list[dict[str, Any]]:
    """Three phases on one relay: signed webhooks alone (their ack times at rest), the flood
    alone (growth: nothing else is written meanwhile), the flood with signed webhooks."""
    runner = c.start_runner(workdir)
    config = workdir / "relay.yaml"
    tag = f"rej-{int(time.time())}"
    c.write_relay_config(config, base_url=runner.url, tag=tag, max_concurrency=10)
    url = c.database_url(args.db, workdir, "relay")
    relay = c.start_relay(workdir, config, url)
    c.wait_quiet(args.quiet_wait)
    quiet, _ = _signed_while(relay.port, args.signed_gap, f"{tag}-q", lambda: time.sleep(10.0))
    time.sleep(2.0)  # the quiet phase's deliveries done, its rows written
    c.wait_quiet(args.quiet_wait)
    db_before, log_before = _db_bytes(url), relay.log.stat().st_size
    alone = _flood(args, relay.port)
    time.sleep(2.0)  # the last flush
    db_after, log_after = _db_bytes(url), relay.log.stat().st_size
    c.wait_quiet(args.quiet_wait)
    signed, both = _signed_while(
        relay.port, args.signed_gap, f"{tag}-f", lambda: _flood(args, relay.port)
    )
    relay.stop(timeout=60.0)  # SIGTERM: pending writes flushed
    rows, stands_for = _rejection_rows(url)
    rejected = alone.statuses.get("401", 0)
    scale = 100_000 / rejected if rejected else 0.0
    flood = {
        "rejected": rejected,
        "flood_statuses": alone.statuses,
        "flood_errors": alone.errors,
        "flood_rps": round(alone.requests / alone.duration, 1) if alone.duration else None,
        "db_bytes_per_100k": round((db_after - db_before) * scale),
        "log_bytes_per_100k": round((log_after - log_before) * scale),
    }
    return [
        {"row": f"{label}: signed alone", **_signed_row(quiet)},
        {"row": f"{label}: flood alone", **flood},
        {
            "row": f"{label}: flood + signed",
            "rejected": both.statuses.get("401", 0),
            "flood_rps": round(both.requests / both.duration, 1) if both.duration else None,
            "rejection_rows": rows,
            "rejections_counted": stands_for,
            **_signed_row(signed),
        },
    ]


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = c.new_workdir(NAME)
    source = args.relay_src if args.relay_src != "worktree" else "work tree"
    label = f"{source}, {c.db_kind(args.db)}"
    try:
        rows = _measure(args, workdir, label)
    finally:
        c.stop_all()
        if not args.keep:
            c.remove_workdir(workdir)
    notes = [
        f"{args.requests} unsigned POSTs on {args.connections} connections (twice: alone, then "
        f"with signed webhooks one at a time {args.signed_gap * 1000:g} ms apart)",
        "growth: database files (PostgreSQL: the rejections table) and log, over the flood "
        "alone and 2 s after it, scaled to 100,000 rejected requests",
        "rows / counted: rejection rows at the end of the run and the requests they count",
    ]
    table = c.print_table("unsigned flood: growth per 100,000 rejections", COLUMNS, rows)
    growth = rows[1]
    goals = [
        c.Goal("database growth per 100,000 rejections", growth["db_bytes_per_100k"], 1 << 20,
               higher_is_better=False, unit="B"),
        c.Goal("log growth per 100,000 rejections", growth["log_bytes_per_100k"], 1 << 20,
               higher_is_better=False, unit="B"),
    ]  # fmt: skip
    return c.finish(NAME, args, rows=rows, goals=goals, notes=notes, table=table)


def main(argv: Sequence[str] | None = None) -> int:
    run(parse(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
