"""Scale-out capacity: acknowledged webhooks/s of one instance (SQLite, PostgreSQL) and of
three instances on one PostgreSQL, with deliveries flowing to ``relay local-runner``.

Each row: fresh database (a file, or a throwaway schema), runner (no latency,
``max_concurrency: 50``), ``relay serve`` x N, then wrk (one per instance, at once) posting
signed ~2 KB GitHub webhooks for ``--duration`` seconds after a warm-up. Reported: the sum of
2xx answers per second, the deliveries that succeeded per second in the same window, the
cores relay and PostgreSQL used. Bounded: every load has a duration and a request cap, every
process is stopped at the end. Results: bench/results/scaleout.json (deploy/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

from bench import _common as c

NAME = "scaleout"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = c.base_parser(NAME, __doc__.splitlines()[0] if __doc__ else NAME)
    parser.add_argument("--duration", type=float, help="seconds measured per row (default 15)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=16, help="per instance")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    c.use_relay_source(args.relay_src)
    args.duration = args.duration or (5.0 if args.quick else 15.0)
    return args


async def _schema(url: str, drop: str | None = None) -> str:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        if drop is not None:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{drop}" CASCADE')
            return drop
        name = f"relay_bench_{int(time.time() * 1000) % 10**9}"
        await conn.execute(f'CREATE SCHEMA "{name}"')
        return name
    finally:
        await conn.close()


def _cpu(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def _postgres_pids() -> list[int]:
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]


def _row(
    args: argparse.Namespace, work: Path, label: str, db: str, instances: int
) -> dict[str, Any]:
    runner = c.start_runner(work, max_concurrency=50)
    config = work / f"{label}.yaml"
    route = c.write_relay_config(config, base_url=runner.url, tag=label.replace(" ", "-"))
    relays = [c.start_relay(work, config, db, label=f"relay-{n}") for n in range(instances)]
    body = c.issue_payload(7)
    try:

        def load(duration: float, phase: str) -> list[c.LoadResult]:
            with concurrent.futures.ThreadPoolExecutor(len(relays)) as pool:
                futures = [
                    pool.submit(
                        c.run_load,
                        "wrk" if c.pick_loadgen("auto") == "wrk" else "python",
                        relay.port,
                        body,
                        f"{label}-{phase}-{n}",
                        work,
                        connections=args.connections,
                        duration=duration,
                        max_requests=2_000_000,
                    )
                    for n, relay in enumerate(relays)
                ]
                return [f.result() for f in futures]

        load(args.warmup, "warm")
        pids = [r.pid for r in relays]
        pg_pids = _postgres_pids() if db.startswith("postgresql") else []
        delivered_before = c.delivery_counts(db, route).get("succeeded", 0)
        before, pg_before, started = _cpu(pids), _cpu(pg_pids), time.monotonic()
        results = load(args.duration, "run")
        elapsed = time.monotonic() - started
        relay_cores = (_cpu(pids) - before) / elapsed
        pg_cores = (_cpu(pg_pids) - pg_before) / elapsed if pg_pids else None
        delivered = c.delivery_counts(db, route).get("succeeded", 0) - delivered_before
    finally:
        for relay in relays:
            relay.stop()
        runner.stop()
    ok = sum(r.ok for r in results)
    return {
        "row": label,
        "instances": instances,
        "rps": round(sum(r.rps for r in results), 1),
        "rps_per_instance": round(sum(r.rps for r in results) / instances, 1),
        "p50_ms": max((r.latency.get("p50_ms") or 0.0) for r in results),
        "p99_ms": max((r.latency.get("p99_ms") or 0.0) for r in results),
        "acknowledged": ok,
        "delivered_per_s": round(delivered / elapsed, 1),
        "errors": sum(r.errors for r in results),
        "relay_cores": round(relay_cores, 2),
        "rps_per_relay_core": round(sum(r.rps for r in results) / relay_cores, 1)
        if relay_cores > 0
        else None,
        "postgres_cores": None if pg_cores is None else round(pg_cores, 2),
        "load_avg": round(psutil.getloadavg()[0], 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    work = c.new_workdir(NAME)
    rows: list[dict[str, Any]] = []
    try:
        rows.append(_row(args, work, "sqlite x1", str(work / "relay.db"), 1))
        for instances in (1, 3):
            schema = asyncio.run(_schema(args.pg))
            db = f"{args.pg}{'&' if '?' in args.pg else '?'}search_path={schema}"
            try:
                rows.append(_row(args, work, f"postgresql x{instances}", db, instances))
            finally:
                asyncio.run(_schema(args.pg, drop=schema))
    finally:
        c.stop_all()
        if not args.keep:
            c.remove_workdir(work)
    c.print_table(
        "scale-out: acknowledged webhooks/s with deliveries flowing",
        (
            ("row", "row", ""),
            ("rps", "webhooks/s", ".0f"),
            ("rps_per_instance", "per instance", ".0f"),
            ("delivered_per_s", "delivered/s", ".0f"),
            ("relay_cores", "relay cores", ".2f"),
            ("rps_per_relay_core", "per relay core", ".0f"),
            ("postgres_cores", "pg cores", ".2f"),
            ("load_avg", "load", ".1f"),
        ),
        rows,
    )
    c.write_results(
        NAME,
        params={
            "duration": args.duration,
            "warmup": args.warmup,
            "connections_per_instance": args.connections,
        },
        rows=rows,
        notes=["load: the machine's 1-minute load average at the end of the row (2 cores)"],
        results_dir=args.results,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
