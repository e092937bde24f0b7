"""Dispatch: relay drains a backlog of N deliveries to a zero-latency ``relay local-runner``.

The backlog is made the way it happens in production: relay ingests N signed webhooks while
its target is paused (``relay targets pause notte``), then the target is resumed. The clock
runs from the first run the runner receives to the last delivery recorded as succeeded.
(A relay without ``targets pause``: the target is a TCP listener that never answers, with
``max_concurrency: 1``; relay is then killed and started again pointing at the runner.)

Baselines, same runner, same request bodies (``{"workflow_id", "variables", "stream"}``),
same concurrency, the streamed (SSE) answer read to its end: ``httpx.AsyncClient``,
``aiohttp``, relay's sender alone (relay/delivery/aiohttp_sender.py, what relay sends with),
and relay's ``send_run`` alone (request, SSE parsing and classification; no worker, no store).

``--compare git:REV`` adds, in the same run, relay and the runner of that commit (e.g.
``git:HEAD``): an aiohttp row against its runner and its relay rows, marked ``@REV``.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import _common as c
from bench._dispatch_baselines import BASELINES, baseline_row

NAME = "dispatch"
COLUMNS = (
    ("row", "row", ""),
    ("per_s", "deliveries/s", ".0f"),
    ("cpu_ms", "CPU ms/delivery", ".3f"),
    ("ratio_httpx", "x httpx", ".2f"),
    ("ratio_aiohttp", "x aiohttp", ".2f"),
    ("client_cores", "client cores", ".2f"),
    ("runner_cores", "runner cores", ".2f"),
    ("other_cores", "noise cores", ".2f"),
    ("note", "note", ""),
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = c.base_parser(NAME, __doc__.splitlines()[0] if __doc__ else NAME)
    parser.add_argument("--count", type=int, help="deliveries in the backlog (default 5000)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--timeout", type=float, help="bound on one drain, s (default 300)")
    parser.add_argument(
        "--db",
        action="append",
        help=f"'sqlite' or a database URL; repeatable (default: sqlite, {c.PG_DEFAULT})",
    )
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--start",
        action="append",
        choices=("one_step", "two_step"),
        help="also measure relay with its route set to this start mode (repeatable); the "
        "'relay (DB)' row is relay's default mode",
    )
    parser.add_argument(
        "--compare",
        metavar="git:REV",
        help="also measure relay and the runner of this commit, in the same run (e.g. git:HEAD)",
    )
    args = parser.parse_args(argv)
    c.use_relay_source(args.relay_src)
    c.quiet_wait_default(args)
    args.count = args.count or (1000 if args.quick else 5000)
    args.timeout = args.timeout or (90.0 if args.quick else 300.0)
    args.db = args.db or ["sqlite", c.PG_DEFAULT]
    return args


# relay --------------------------------------------------------------------------------------


def _ingest(relay: c.Proc, workdir: Path, count: int, tag: str) -> None:
    result = c.run_load(
        "python",
        relay.port,
        c.issue_payload(),
        f"{tag}-d",
        workdir,
        connections=20,
        duration=600.0,
        max_requests=count,
    )
    if result.ok != count:
        raise c.ProcessFailed(f"backlog: {result.ok} of {count} webhooks acknowledged")


def _live_config(
    workdir: Path, runner: c.Proc, concurrency: int, label: str, start: str | None
) -> tuple[Path, str]:
    config = workdir / f"{label}.yaml"
    tag = f"{label}-{int(time.time())}"
    route = c.write_relay_config(
        config,
        base_url=runner.url,
        tag=tag,
        max_concurrency=concurrency,
        idempotent=True,
        start=start,
    )
    return config, route


@dataclass
class Backlog:
    """``count`` deliveries queued in ``url``; ``start()`` begins the drain, returns relay."""

    url: str
    route: str
    start: Callable[[], c.Proc]
    relay: c.Proc | None = None  # already running (paused), when known before the start


def paused_backlog(
    workdir: Path,
    db: str,
    runner: c.Proc,
    count: int,
    concurrency: int,
    label: str,
    start: str | None = None,
) -> Backlog:
    """relay running with its target paused (``relay targets pause``); the drain = resume."""
    config, route = _live_config(workdir, runner, concurrency, label, start)
    url = c.database_url(db, workdir, label)
    c.set_target_paused(url, True)
    relay = c.start_relay(workdir, config, url, label=label)
    try:
        _ingest(relay, workdir, count, label)
    except BaseException:
        relay.stop()
        raise

    def resume() -> c.Proc:
        c.set_target_paused(url, False)
        return relay

    return Backlog(url, route, resume, relay)


def killed_backlog(
    workdir: Path,
    db: str,
    runner: c.Proc,
    count: int,
    concurrency: int,
    label: str,
    start: str | None = None,
) -> Backlog:
    """For a relay without ``targets pause``: ingest with a target that never answers
    (``max_concurrency: 1``), SIGKILL relay (the hanging attempt is recovered at the next
    start, the route being idempotent); the drain = starting relay again."""
    config, route = _live_config(workdir, runner, concurrency, label, start)
    url = c.database_url(db, workdir, label)
    live = config.read_text()
    with c.blackhole() as port:
        config.write_text(
            live.replace(f"base_url: {runner.url}", f"base_url: http://127.0.0.1:{port}").replace(
                f"max_concurrency: {concurrency}\n", "max_concurrency: 1\n"
            )
        )
        relay = c.start_relay(workdir, config, url, label=f"{label}-ingest")
        try:
            _ingest(relay, workdir, count, label)
        finally:
            relay.kill()
    config.write_text(live)
    return Backlog(url, route, lambda: c.start_relay(workdir, config, url, label=label, wait=False))


def drain(
    backlog: Backlog,
    runner: c.Proc,
    *,
    count: int,
    timeout: float,
    quiet_wait: float = 0.0,
    profile_to: Path | None = None,
) -> dict[str, Any]:
    """Start the drain (resume, or start relay) and time it until ``count`` succeeded."""
    url, route = backlog.url, backlog.route
    c.clear_runs(runner)
    busy_before = c.wait_quiet(quiet_wait)
    spy = None
    if backlog.relay is not None and profile_to is not None:
        spy = c.py_spy_attach(backlog.relay.pid, min(timeout, 60.0), profile_to)
    started = time.time()
    relay = backlog.start()
    if spy is None and profile_to is not None:
        spy = c.py_spy_attach(relay.pid, min(timeout, 60.0), profile_to)
    counts: dict[str, int] = {}
    runner_cpu0 = runner.cpu_seconds()
    system0 = c.system_busy_seconds()
    done_at = None
    try:
        with c.Sampler(relay.cpu_seconds, 0.02) as cpu:
            deadline = time.monotonic() + timeout
            poll = 0.1 if c.db_kind(url) == "sqlite" else 1.0
            while time.monotonic() < deadline:
                if not relay.alive():
                    raise c.ProcessFailed(f"relay exited during the drain:\n{relay.log_tail()}")
                with contextlib.suppress(Exception):  # the file may be busy just now
                    counts = c.delivery_counts(url, route)
                if counts.get("succeeded", 0) >= count:
                    done_at = time.time()
                    break
                time.sleep(poll)
        rss = relay.peak_rss_bytes()
    finally:
        relay.stop()
        if spy is not None:
            spy.wait(timeout=120)
    runner_cpu = runner.cpu_seconds() - runner_cpu0
    received = sorted(r["received_at"] for r in c.fetch_runs(runner))
    row: dict[str, Any] = {
        "count": count,
        "deliveries": counts,
        "peak_rss_mb": round(rss / 2**20, 1),
        "busy_cores_before": busy_before,
    }
    if done_at is None or not received:
        row["note"] = f"not drained within {timeout:g}s: {counts}"
        return row
    finished = c.last_update(url) or done_at
    first = received[0]
    elapsed = finished - first
    samples = cpu.samples
    times = [t for t, _ in samples]
    at_first = samples[min(bisect_left(times, first), len(samples) - 1)][1]
    at_done = samples[min(bisect_left(times, finished), len(samples) - 1)][1]
    relay_cpu = at_done - at_first
    busy = c.system_busy_seconds() - system0
    total = time.time() - started
    row.update(
        {
            "runs_received": len(received),
            "start_to_first_run_s": round(first - started, 3),
            "elapsed_s": round(elapsed, 3),
            "per_s": round(count / elapsed, 1) if elapsed > 0 else None,
            "cpu_ms": round(relay_cpu / count * 1000.0, 3),
            "client_cores": round(relay_cpu / elapsed, 3) if elapsed > 0 else None,
            "runner_cores": round(runner_cpu / total, 3),
            "other_cores": round(max(0.0, busy - runner_cpu - relay_cpu) / total, 3),
            "duplicates_at_runner": len(received) - count,
        }
    )
    return row


def relay_rows(
    args: argparse.Namespace,
    workdir: Path,
    runner: c.Proc,
    db: str,
    *,
    profile: bool = True,
    tag: str = "",
    start: str | None = None,
) -> list[Any]:
    """relay's rows for ``db`` (``tag``: what marks relay from another commit; ``start``:
    the route's start mode, None: relay's default)."""
    kind = c.db_kind(db)
    rows: list[dict[str, Any]] = []
    passes: list[tuple[str, Path | None]] = [("measured", None)]
    if profile:
        passes.append(("profiled", args.results / "profiles" / f"{NAME}-relay-{kind}.txt"))
    backlog = paused_backlog if c.can_pause() else killed_backlog
    mode = "" if start is None else f", start: {start}"
    for name, profile_to in passes:
        label = f"relay-{kind}-{name}" + ("-compared" if tag else "") + (start or "")
        title = f"relay ({kind}{mode})" + tag + (", under py-spy" if profile_to else "")
        try:
            queued = backlog(workdir, db, runner, args.count, args.concurrency, label, start)
            row = drain(
                queued,
                runner,
                count=args.count,
                timeout=args.timeout,
                quiet_wait=args.quiet_wait,
                profile_to=profile_to,
            )
        except c.RelayRefused as exc:
            reason = str(exc).strip().splitlines()[-1]
            return [{"row": f"relay ({kind}){tag}", "skipped": True, "note": f"skipped: {reason}"}]
        except c.ProcessFailed as exc:
            rows.append({"row": title, "skipped": True, "error": str(exc), "note": "failed"})
            continue
        row = {"row": title, **row}
        if profile_to is not None:
            row["profile"] = c.summarize_profile(profile_to)
            row["profile"]["file"] = _rel(profile_to)
            row["note"] = (row.get("note") or "") + " (profiling slows it; not used for goals)"
        rows.append(row)
    return rows


def compared_rows(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    """relay and the runner of ``args.compare``: an aiohttp row against that runner, and
    that relay's rows against it (not profiled)."""
    source = c.use_relay_source(args.compare)
    tag = f" @{args.compare.removeprefix('git:')}"
    try:
        runner = c.start_runner(workdir)
        try:
            rows = [
                baseline_row(
                    "aiohttp",
                    runner,
                    args.count,
                    args.concurrency,
                    args.quiet_wait,
                    note=f"runner of {str(source['commit'])[:10]}",
                    title=f"baseline: aiohttp, runner{tag}",
                )
            ]
            for db in args.db:
                rows += relay_rows(args, workdir, runner, db, profile=False, tag=tag)
        finally:
            runner.stop()
    finally:
        c.use_relay_source("worktree")
    return rows


def _rel(path: Path) -> str:
    return str(path.relative_to(c.ROOT)) if path.is_relative_to(c.ROOT) else str(path)


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = c.new_workdir(NAME)
    rows: list[dict[str, Any]] = []
    quiet = args.quiet_wait
    try:
        runner = c.start_runner(workdir)
        for client in BASELINES:
            rows.append(baseline_row(client, runner, args.count, args.concurrency, quiet))
        for db in args.db:
            rows += relay_rows(args, workdir, runner, db, profile=args.profile)
            for start in args.start or ():  # the other start mode, next to the default
                rows += relay_rows(args, workdir, runner, db, profile=False, start=start)
        if args.compare:
            rows += compared_rows(args, workdir)
        again = baseline_row("httpx", runner, args.count, args.concurrency, quiet, "again, after")
        rows.append(again)
    finally:
        c.stop_all()
        if not args.keep:
            c.remove_workdir(workdir)
    httpx_rates = [r["per_s"] for r in rows if r["row"] == "baseline: httpx" and "per_s" in r]
    aio = next((r for r in rows if r["row"] == "baseline: aiohttp" and "per_s" in r), None)
    for r in rows:
        if r["row"].startswith("relay") and r.get("per_s"):
            if httpx_rates:
                r["ratio_httpx"] = round(r["per_s"] / (sum(httpx_rates) / len(httpx_rates)), 3)
            if aio:
                r["ratio_aiohttp"] = round(r["per_s"] / aio["per_s"], 3)
    title = f"dispatch ({args.count} deliveries, concurrency {args.concurrency})"
    table = c.print_table(title, COLUMNS, rows)
    for r in rows:
        if "profile" in r:
            c.print_profile(r["row"], r["profile"])
    sqlite = next((r for r in rows if r["row"] == "relay (sqlite)"), None)
    goals = [
        c.Goal(
            f"dispatch to a zero-latency runner at concurrency {args.concurrency}",
            None if sqlite is None else sqlite.get("per_s"),
            3000.0,
            unit="deliveries/s",
        )
    ]
    notes = [
        "relay rate: first run received by the runner -> last delivery recorded succeeded",
        "CPU ms/delivery: relay process CPU (all threads) over that span / N; for baselines "
        "the client's CPU (this process)",
        "x httpx: relay / mean of the httpx baselines before and after (same runner, bodies, "
        "concurrency)",
        "rows marked @REV (--compare): relay and runner of that commit, in the same run",
    ]
    return c.finish(NAME, args, rows=rows, goals=goals, notes=notes, table=table)


def main(argv: Sequence[str] | None = None) -> int:
    run(parse(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
