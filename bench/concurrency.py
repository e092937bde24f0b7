"""Concurrency use: how much of a target's allowed concurrency relay keeps busy.

For each limit L (10 and 50, Notte's Free and Pro plans): a ``relay local-runner`` whose runs
take ``--run-duration`` seconds (fixed 2 s; real runs vary, say 1-5 s, but the runner has one
duration) and that refuses more than L runs at once (429), relay with ``max_concurrency: L``
and a backlog large enough to outlast the window. ``/_local/stats`` is sampled every 50 ms;
use = mean(in_flight) / L over the window that starts with the first run.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import _common as c

NAME = "concurrency"
COLUMNS = (
    ("row", "row", ""),
    ("use_pct", "use %", ".1f"),
    ("use_after_ramp_pct", "use % after 1st run", ".1f"),
    ("at_limit_pct", "samples at L %", ".1f"),
    ("peak", "peak", "d"),
    ("refused_429", "429s", "d"),
    ("relay_cores", "relay cores", ".2f"),
    ("other_cores", "noise cores", ".2f"),
    ("note", "note", ""),
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = c.base_parser(NAME, __doc__.splitlines()[0] if __doc__ else NAME)
    parser.add_argument("--limits", default="10,50", help="comma-separated (default 10,50)")
    parser.add_argument("--run-duration", type=float, default=2.0)
    parser.add_argument("--window", type=float, help="seconds sampled (default 30)")
    parser.add_argument("--interval", type=float, default=0.05, help="sampling period, s")
    parser.add_argument("--db", default="sqlite", help="'sqlite' or a database URL")
    args = parser.parse_args(argv)
    c.use_relay_source(args.relay_src)
    c.quiet_wait_default(args)
    args.window = args.window or (8.0 if args.quick else 30.0)
    args.limits = [int(x) for x in str(args.limits).split(",") if x.strip()]
    return args


def measure(args: argparse.Namespace, workdir: Path, limit: int) -> dict[str, Any]:
    label = f"relay-l{limit}"
    runner = c.start_runner(workdir, run_duration=args.run_duration, max_concurrency=limit)
    config = workdir / f"{label}.yaml"
    tag = f"{label}-{int(time.time())}"
    route = c.write_relay_config(config, base_url=runner.url, tag=tag, max_concurrency=limit)
    url = c.database_url(args.db, workdir, label)
    # queue the whole backlog first (target paused) when relay can pause a target, so the
    # window measures relay's dispatching, not how fast the backlog arrives
    pause = c.can_pause()
    try:
        if pause:
            c.set_target_paused(url, True)
        relay = c.start_relay(workdir, config, url, label=label)
    except c.RelayRefused as exc:
        runner.stop()
        reason = str(exc).strip().splitlines()[-1]
        return {"row": f"L = {limit}", "skipped": True, "note": f"skipped: {reason}"}
    # enough runs to keep L busy for the whole window, with a margin
    backlog = math.ceil(limit * (args.window + 3.0) / args.run_duration * 1.3) + limit
    client = httpx.Client(timeout=2.0)
    busy_before = c.wait_quiet(args.quiet_wait)
    try:
        with c.Sampler(lambda: c.runner_stats(runner, client)["in_flight"], args.interval) as s:
            c.run_load(
                "python",
                relay.port,
                c.issue_payload(),
                f"{tag}-d",
                workdir,
                connections=min(20, backlog),
                duration=120.0,
                max_requests=backlog,
            )
            if pause:
                c.set_target_paused(url, False)
            deadline = time.monotonic() + 30.0
            while time.monotonic() < deadline and not any(v > 0 for _, v in s.samples):
                time.sleep(args.interval)
            started = next((t for t, v in s.samples if v > 0), time.time())
            window = c.CpuWindow(relay)
            time.sleep(max(0.0, started + args.window - time.time()))
            cpu = window.finish()
        stats = c.runner_stats(runner, client)
        counts = c.delivery_counts(url, route)
    finally:
        client.close()
        relay.stop()
        runner.stop()
    inside = [v for t, v in s.samples if started <= t <= started + args.window]
    ramp = [v for t, v in s.samples if started + args.run_duration <= t <= started + args.window]

    def pct(values: list[int]) -> float | None:
        return round(100.0 * sum(values) / (len(values) * limit), 2) if values else None

    retried = counts.get("retry_scheduled", 0)
    return {
        "row": f"L = {limit}",
        "limit": limit,
        "run_duration_s": args.run_duration,
        "window_s": args.window,
        "backlog": backlog,
        "samples": len(inside),
        "use_pct": pct(inside),
        "use_after_ramp_pct": pct(ramp),
        "at_limit_pct": round(100.0 * sum(v >= limit for v in inside) / len(inside), 1)
        if inside
        else None,
        "min_in_window": min(inside) if inside else None,
        "peak": stats.get("peak_in_flight"),
        "runs_started": stats.get("total"),
        "refused_429": retried,
        "deliveries": counts,
        "in_flight_series": [v for t, v in s.samples if started <= t <= started + args.window],
        "busy_cores_before": busy_before,
        "relay_cores": cpu["server_cores"],
        "other_cores": cpu["other_cores"],
        "note": "" if stats.get("peak_in_flight", 0) <= limit else "over the limit!",
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = c.new_workdir(NAME)
    rows: list[dict[str, Any]] = []
    try:
        for limit in args.limits:
            rows.append(measure(args, workdir, limit))
    finally:
        c.stop_all()
        if not args.keep:
            c.remove_workdir(workdir)
    title = f"concurrency use (runs of {args.run_duration:g}s, {args.window:g}s window)"
    table = c.print_table(title, COLUMNS, rows)
    goals = [
        c.Goal(
            f"use of the allowed concurrency, L = {r['limit']}", r.get("use_pct"), 95.0, unit="%"
        )
        for r in rows
        if "limit" in r
    ]
    notes = [
        f"in_flight sampled from the runner's /_local/stats every {args.interval * 1000:g} ms",
        "use % counts from the first run started; the second figure skips the first run's "
        "duration (the ramp-up)",
        "the backlog is queued with the target paused (relay targets pause), then resumed"
        if c.can_pause()
        else "the backlog is ingested while relay dispatches (no target pause in this relay)",
        "429s = deliveries left retry_scheduled (the runner refused a run over its limit)",
        f"runs last a fixed {args.run_duration:g}s (the runner has no random duration)",
    ]
    return c.finish(NAME, args, rows=rows, goals=goals, notes=notes, table=table)


def main(argv: Sequence[str] | None = None) -> int:
    run(parse(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
