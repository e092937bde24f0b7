"""Disk per stored webhook on SQLite: what a million events take at the default retention.

One ``relay serve`` on a fresh SQLite file and ``relay local-runner``; ``--events`` signed
GitHub ``issues`` webhooks of ``--size`` bytes (one route matches: one delivery and one
attempt each), sent 16 at a time, all delivered; then relay is stopped (SIGTERM: the WAL is
checkpointed) and the files measured: the database per event (the WAL is reported apart:
checkpoints bound it, it does not grow with the events), and per event after ``VACUUM``.
Bounded: a fixed count, every process stopped at the end. Results: bench/results/disk.json
(docs/operations.md: Sizing).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench import _common as c

NAME = "disk"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = c.base_parser(NAME, __doc__.splitlines()[0] if __doc__ else NAME)
    parser.add_argument("--events", type=int, default=20_000, help="webhooks to store")
    parser.add_argument("--size", type=int, default=2048, help="bytes of each webhook body")
    args = parser.parse_args(argv)
    if args.quick:
        args.events = min(args.events, 500)
    return args


def _send(url: str, body: bytes, first: int, count: int) -> int:
    ok = 0
    with httpx.Client(timeout=30) as client:
        for i in range(first, first + count):
            headers = c.github_headers(body, f"disk-{i}")
            if client.post(url, content=body, headers=headers).status_code == 200:
                ok += 1
    return ok


def _finished(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        row = conn.execute("SELECT count(*) FROM deliveries WHERE status = 'succeeded'").fetchone()
    return int(row[0])


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    c.use_relay_source(args.relay_src)
    workdir = c.new_workdir(NAME)
    try:
        runner = c.start_runner(workdir)
        config = workdir / "relay.yaml"
        c.write_relay_config(config, base_url=runner.url, tag="disk")
        db = workdir / "relay.db"
        relay = c.start_relay(workdir, config, str(db))
        body = c.issue_payload(size=args.size)
        url = f"{relay.url}/hooks/github"
        workers, started = 16, time.monotonic()
        share = [args.events // workers + (w < args.events % workers) for w in range(workers)]
        firsts = [sum(share[:w]) for w in range(workers)]
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            stored = sum(pool.map(lambda w: _send(url, body, firsts[w], share[w]), range(workers)))
        deadline = time.monotonic() + 600
        while _finished(db) < stored and time.monotonic() < deadline:
            time.sleep(1)
        delivered = _finished(db)
        relay.stop()
        runner.stop()
        files = {p.name: _size(p) for p in sorted(workdir.glob("relay.db*"))}
        wal = files.get("relay.db-wal", 0)
        with sqlite3.connect(db) as conn:
            conn.execute("VACUUM")
        vacuumed = _size(db)
        per_event = files["relay.db"] / max(stored, 1)
        row = {
            "events": stored,
            "delivered": delivered,
            "body_bytes": len(body),
            "files": files,
            "wal_bytes": wal,  # bounded by checkpoints: a constant, not per event
            "bytes_per_event": round(per_event),
            "bytes_per_event_vacuumed": round(vacuumed / max(stored, 1)),
            "gib_per_million_events": round(per_event * 1e6 / 2**30, 2),
            "seconds": round(time.monotonic() - started, 1),
        }
        columns = [
            ("events", "events", "d"),
            ("body_bytes", "body bytes", "d"),
            ("bytes_per_event", "bytes/event", "d"),
            ("bytes_per_event_vacuumed", "after VACUUM", "d"),
            ("gib_per_million_events", "GiB per million", ".2f"),
        ]
        c.print_table("disk per stored webhook (SQLite)", columns, [row])
        c.write_results(
            NAME,
            params={"events": args.events, "size": args.size, "quick": args.quick},
            rows=[row],
            notes=["one delivery and one attempt per event; the runner's answer is stored"],
            results_dir=args.results,
        )
    finally:
        c.stop_all()
        if not args.keep:
            c.remove_workdir(workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
