"""Ingest: signed ~2 KB GitHub webhooks posted to ``relay serve`` vs a bare Starlette endpoint.

Rows (each measured after a warm-up, with the same load generator and connections):

- ``baseline``: a bare Starlette endpoint on uvicorn (uvloop + httptools, one worker) that
  reads the body and answers 200. Measured before and after every relay row; each relay row
  is compared with the mean of the two baselines around it (the machine is shared and noisy).
- ``relay <db> paused``: signature check, dedupe (unique delivery ids), three routes (one
  matches), the event and its delivery stored before the 200. The target is *paused*: a TCP
  listener that never answers, with ``max_concurrency: 1``, so one attempt hangs and every
  other delivery waits in the store: the delivery worker does not compete for the CPU.
- ``relay <db> flowing``: the same, with deliveries going to ``relay local-runner`` (zero
  latency, ``max_concurrency: 50``) while ingesting.

PostgreSQL rows are skipped, with relay's own message, while relay refuses the URL.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import _common as c

NAME = "ingest"
COLUMNS = (
    ("row", "row", ""),
    ("rps", "req/s", ".0f"),
    ("p50_ms", "p50 ms", ".2f"),
    ("p99_ms", "p99 ms", ".2f"),
    ("ratio", "x baseline", ".3f"),
    ("server_cores", "server cores", ".2f"),
    ("other_cores", "noise cores", ".2f"),
    ("errors", "errors", "d"),
    ("note", "note", ""),
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = c.base_parser(NAME, __doc__.splitlines()[0] if __doc__ else NAME)
    parser.add_argument("--duration", type=float, help="seconds measured per row (default 15)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per row (default 3)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--max-requests", type=int, default=2_000_000, help="cap per row")
    parser.add_argument(
        "--loadgen", choices=("auto", "wrk", "python"), default="auto", help="auto: wrk if found"
    )
    parser.add_argument(
        "--db",
        action="append",
        help=f"'sqlite' (a fresh file) or a database URL; repeatable (default: sqlite, "
        f"{c.PG_DEFAULT})",
    )
    parser.add_argument("--no-flowing", action="store_true", help="skip the 'flowing' rows")
    parser.add_argument(
        "--asyncio-baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the bare endpoint on the stdlib asyncio loop",
    )
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--profile-seconds", type=float, help="py-spy pass length (default 8)")
    args = parser.parse_args(argv)
    c.use_relay_source(args.relay_src)
    c.quiet_wait_default(args)
    args.duration = args.duration or (4.0 if args.quick else 15.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    args.profile_seconds = args.profile_seconds or (3.0 if args.quick else 8.0)
    args.db = args.db or ["sqlite", c.PG_DEFAULT]
    args.loadgen = c.pick_loadgen(args.loadgen)
    return args


class Ingest:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.body = c.issue_payload()
        self.seq = 0

    def prefix(self) -> str:
        self.seq += 1
        return f"bench-{int(time.time())}-{self.seq}"

    def load(self, port: int, duration: float) -> c.LoadResult:
        return c.run_load(
            self.args.loadgen,
            port,
            self.body,
            self.prefix(),
            self.workdir,
            connections=self.args.connections,
            duration=duration,
            max_requests=self.args.max_requests,
        )

    def measure(self, proc: c.Proc) -> dict[str, Any]:
        if self.args.warmup > 0:
            self.load(proc.port, self.args.warmup)
        busy_before = c.wait_quiet(self.args.quiet_wait)
        window = c.CpuWindow(proc)
        result = self.load(proc.port, self.args.duration)
        row = {**result.to_json(), **window.finish(), "busy_cores_before": busy_before}
        row["rss_mb"] = round(proc.rss_bytes() / 2**20, 1)
        return row

    def baseline(self, loop: str = "uvloop") -> dict[str, Any]:
        proc = c.start_baseline(self.workdir, loop)
        name = "baseline (bare Starlette)" if loop == "uvloop" else f"bare Starlette, {loop} loop"
        try:
            return {"row": name, **self.measure(proc)}
        finally:
            proc.stop()

    @contextlib.contextmanager
    def relay(self, db: str, flowing: bool, label: str) -> Iterator[tuple[c.Proc, str, str]]:
        tag = f"{label}-{int(time.time())}"
        config = self.workdir / f"{label}.yaml"
        with contextlib.ExitStack() as stack:
            if flowing:
                runner = c.start_runner(self.workdir)
                stack.callback(runner.stop)
                route = c.write_relay_config(
                    config, base_url=runner.url, tag=tag, max_concurrency=50
                )
            else:
                # `relay targets pause` when relay has it (the worker sends nothing), else a
                # target that never answers with max_concurrency 1 (one attempt hangs)
                pause = c.can_pause()
                port = stack.enter_context(c.blackhole())
                route = c.write_relay_config(
                    config,
                    base_url=f"http://127.0.0.1:{port}",
                    tag=tag,
                    max_concurrency=50 if pause else 1,
                    timeout=3600,
                )
            url = c.database_url(db, self.workdir, label)
            if not flowing and c.can_pause():
                c.set_target_paused(url, True)
            proc = c.start_relay(self.workdir, config, url, label=label)
            stack.callback(proc.stop)
            yield proc, url, route

    def relay_row(self, db: str, flowing: bool) -> dict[str, Any]:
        kind = c.db_kind(db)
        mode = "flowing" if flowing else "paused"
        label = f"relay-{kind}-{mode}"
        name = f"relay {kind}, target {mode}"
        try:
            with self.relay(db, flowing, label) as (proc, url, route):
                before = c.delivery_counts(url, route)
                row = {"row": name, **self.measure(proc)}
                after = c.delivery_counts(url, route)
                stored = sum(after.values())
                row["deliveries"] = after
                row["stored_during_run"] = stored - sum(before.values())
                if flowing:
                    done = after.get("succeeded", 0) - before.get("succeeded", 0)
                    row["delivered_per_s"] = round(done / row["elapsed_s"], 1)
                    row["note"] = f"{row['delivered_per_s']:.0f} deliveries/s meanwhile"
                if self.args.profile:
                    row["profile"] = self.profile(proc, label)
                return row
        except c.RelayRefused as exc:
            reason = str(exc).strip().splitlines()[-1]
            return {"row": name, "skipped": True, "note": f"skipped: {reason}"}
        except c.ProcessFailed as exc:
            return {"row": name, "skipped": True, "error": str(exc), "note": "failed, see JSON"}

    def profile(self, proc: c.Proc, label: str) -> dict[str, Any]:
        out = self.args.results / "profiles" / f"{NAME}-{label}.txt"
        spy = c.py_spy_attach(proc.pid, self.args.profile_seconds, out)
        self.load(proc.port, self.args.profile_seconds + 0.5)
        spy.wait(timeout=60)
        summary = c.summarize_profile(out)
        summary["file"] = str(out.relative_to(c.ROOT)) if out.is_relative_to(c.ROOT) else str(out)
        return summary


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = c.new_workdir(NAME)
    bench = Ingest(args, workdir)
    rows: list[dict[str, Any]] = []
    notes = [
        f"load generator: {args.loadgen}, {args.connections} connections, closed loop, "
        f"{args.warmup:g}s warm-up then {args.duration:g}s measured per row",
        (
            "paused target = `relay targets pause notte` before the start: deliveries are "
            "stored, the worker sends nothing"
            if c.can_pause()
            else "paused target = a TCP listener that never answers (max_concurrency 1): "
            "deliveries are stored, one attempt hangs, the worker stays idle"
        ),
        "flowing = relay local-runner, zero latency, max_concurrency 50",
        "ratio = relay req/s / mean of the baselines measured just before and after it",
        "noise cores = CPU used by other processes on the machine during the window",
    ]
    try:
        rows.append(bench.baseline())
        for db in args.db:
            for flowing in (False, True):
                if flowing and args.no_flowing:
                    continue
                row = bench.relay_row(db, flowing)
                rows.append(row)
                if row.get("skipped"):
                    continue
                rows.append(bench.baseline())
                around = [rows[-3]["rps"], rows[-1]["rps"]]
                row["baseline_rps"] = round(sum(around) / 2, 1)
                row["ratio"] = round(row["rps"] / row["baseline_rps"], 3)
        if args.asyncio_baseline:
            # relay serve runs on uvloop when installed (relay/serve.py), as the baseline does;
            # this row shows what the stdlib loop alone would cost
            row = bench.baseline("asyncio")
            last = [r for r in rows if r["row"].startswith("baseline") and "rps" in r][-1]
            row["ratio"] = round(row["rps"] / last["rps"], 3)
            row["note"] = "reference: the stdlib loop (relay serve runs on uvloop)"
            rows.append(row)
    finally:
        c.stop_all()
        if not args.keep:
            c.remove_workdir(workdir)
    table = c.print_table(f"ingest ({args.loadgen}, {args.connections} conns)", COLUMNS, rows)
    paused = next(
        (r for r in rows if r["row"] == "relay sqlite, target paused" and "ratio" in r), None
    )
    goals = [
        c.Goal("ingest vs bare Starlette (SQLite, paused target)", _get(paused, "ratio"), 0.5),
        c.Goal(
            "p99 ack at 50 connections (SQLite, paused target)",
            _get(paused, "p99_ms"),
            20.0,
            higher_is_better=False,
            unit="ms",
        ),
    ]
    for r in rows:
        if "profile" in r:
            c.print_profile(r["row"], r["profile"])
    path = c.write_results(
        NAME,
        params=vars(args) | {"results": str(args.results), "body_bytes": len(bench.body)},
        rows=rows,
        goals=goals,
        notes=notes,
        results_dir=args.results,
        extra={"table": table},
    )
    print(f"wrote {path}")
    return {"name": NAME, "rows": rows, "goals": [g.to_json() for g in goals], "table": table}


def _get(row: dict[str, Any] | None, key: str) -> float | None:
    return None if row is None else row.get(key)


def main(argv: Sequence[str] | None = None) -> int:
    run(parse(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
