"""Backlog memory: relay's RSS with 10^5 and 10^6 events queued (target paused), then draining.

For each size S:

1. *Queue.* relay runs with its target paused (``relay targets pause notte``; a relay
   without it gets a TCP listener that never answers, ``max_concurrency: 1``) and receives
   signed webhooks over HTTP. When the first seconds show that ingesting S would take longer
   than ``--http-budget`` (default 600 s), the rest is written directly into the SQLite file:
   the rows relay wrote for one webhook (every table that mentions its event or delivery,
   whatever the schema) are copied with new ids through ``sqlite3.executemany``. The row
   says how many came each way.
2. *Queued.* relay is started afresh on that file, target still paused: RSS after 5 s.
3. *Drain.* The target is resumed (the same process; without pause, relay is started again
   pointing at the runner): a zero-latency ``relay local-runner``, ``max_concurrency: 50``,
   for at most ``--drain-seconds``: peak RSS (VmHWM), deliveries drained, the rate at the
   start and at the end of the drain.

relay is stopped with SIGKILL between phases (acknowledged events are durable; the one
attempt left hanging on the paused target is recovered, the route being idempotent).
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import _common as c

NAME = "backlog"
COLUMNS = (
    ("row", "row", ""),
    ("http_events", "via HTTP", "d"),
    ("direct_events", "direct rows", "d"),
    ("db_mb", "db MB", ".0f"),
    ("rss_queued_mb", "RSS queued MB", ".1f"),
    ("peak_rss_drain_mb", "peak RSS drain MB", ".1f"),
    ("drained", "drained", "d"),
    ("drain_start_per_s", "drain/s start", ".0f"),
    ("drain_end_per_s", "drain/s end", ".0f"),
    ("claim_select_ms", "claim SELECT ms", ".1f"),
    ("note", "note", ""),
)
MB = 2**20


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = c.base_parser(NAME, __doc__.splitlines()[0] if __doc__ else NAME)
    parser.add_argument("--sizes", help="comma-separated event counts (default 100000,1000000)")
    parser.add_argument("--http-budget", type=float, help="max seconds of HTTP ingest (600)")
    parser.add_argument("--drain-seconds", type=float, help="bound on each drain (180)")
    parser.add_argument(
        "--loadgen", choices=("auto", "wrk", "python"), default="auto", help="auto: wrk if found"
    )
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    c.use_relay_source(args.relay_src)
    c.quiet_wait_default(args)
    default_sizes = "10000" if args.quick else "100000,1000000"
    args.sizes = [int(float(x)) for x in (args.sizes or default_sizes).split(",") if x.strip()]
    args.http_budget = args.http_budget or (30.0 if args.quick else 600.0)
    args.drain_seconds = args.drain_seconds or (20.0 if args.quick else 180.0)
    args.loadgen = c.pick_loadgen(args.loadgen)
    return args


# direct rows --------------------------------------------------------------------------------


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return [str(r[0]) for r in rows]


def extend_backlog(path: Path, total: int, chunk: int = 20_000) -> dict[str, Any]:
    """Copy the newest pending delivery's rows (in every table) until ``total`` are pending."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        template = conn.execute(
            "SELECT id, event_id FROM deliveries WHERE status = 'pending' "
            "ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        if template is None:
            raise RuntimeError("no pending delivery to copy")
        delivery_id, event_id = str(template[0]), str(template[1])
        dedupe = conn.execute("SELECT dedupe_key FROM events WHERE id = ?", (event_id,)).fetchone()
        # relay's ids are unique strings anywhere; the provider's id only as a whole value
        # (or a whole JSON string inside the stored headers)
        keys = [event_id, delivery_id]
        if dedupe and dedupe[0]:
            keys += [f'"{dedupe[0]}"', str(dedupe[0])]
        have = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        missing = total - int(have)
        plans: list[tuple[str, list[str], list[tuple[Any, ...]]]] = []
        copied_tables: dict[str, int] = {}
        for table in _tables(conn):
            info = conn.execute(f"PRAGMA table_info({table})").fetchall()
            columns = [str(col[1]) for col in info]
            # an INTEGER PRIMARY KEY is a rowid: let SQLite number the copies
            auto = {str(col[1]) for col in info if col[5] and str(col[2]).upper() == "INTEGER"}
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
            mine = [r for r in rows if any(_mentions(v, keys) for v in r)]
            if mine:
                keep = [i for i, name in enumerate(columns) if name not in auto]
                plans.append(
                    (table, [columns[i] for i in keep], [tuple(r[i] for i in keep) for r in mine])
                )
                copied_tables[table] = len(mine)
        started = time.monotonic()
        done = 0
        while done < missing:
            n = min(chunk, missing - done)
            conn.execute("BEGIN")
            for table, columns, templates in plans:
                marks = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
                conn.executemany(
                    sql,
                    (
                        tuple(_rename(v, keys, done + j) if isinstance(v, str) else v for v in row)
                        for j in range(n)
                        for row in templates
                    ),
                )
            conn.execute("COMMIT")
            done += n
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {
            "direct_events": missing,
            "direct_seconds": round(time.monotonic() - started, 1),
            "copied_tables": copied_tables,
        }
    finally:
        conn.close()


def _mentions(value: object, keys: list[str]) -> bool:
    if not isinstance(value, str):
        return False
    relay_ids, provider = keys[:2], keys[2:]
    if any(k in value for k in relay_ids):
        return True
    return bool(provider) and (value == provider[1] or provider[0] in value)


def _rename(value: str, keys: list[str], index: int) -> str:
    relay_ids, provider = keys[:2], keys[2:]
    for key in relay_ids:  # relay ids end with 16 random hex digits: use the copy's index
        if key in value:
            value = value.replace(key, key[:-16] + f"{index:016x}")
    if provider:
        quoted, bare = provider
        if value == bare:
            return f"{bare}-copy-{index}"
        if quoted in value:
            value = value.replace(quoted, f'"{bare}-copy-{index}"')
    return value


def claim_query_probe(db: Path, limit: int = 50) -> dict[str, Any]:
    """Time the claim's SELECT (its shape at the time of writing) on the queued store.

    Diagnostic only: with ``status IN (...)`` the plan sorts for ``ORDER BY
    next_attempt_at`` (a temp B-tree); this times the claim's SELECT at the backlog's size.
    """
    sql = (
        "SELECT id FROM deliveries WHERE target = ? AND status IN ('pending', "
        "'retry_scheduled', 'paused') AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?"
    )
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        plan = [str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql, ("notte", 0, 1))]
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            conn.execute(sql, ("notte", time.time() + 86400, limit)).fetchall()
            best = min(best, time.perf_counter() - started)
        return {"claim_select_ms": round(best * 1000.0, 2), "claim_plan": plan}
    except sqlite3.Error as exc:
        return {"claim_select_error": str(exc)}
    finally:
        conn.close()


# phases -------------------------------------------------------------------------------------


def queue(
    args: argparse.Namespace, workdir: Path, db: Path, size: int, label: str, runner: c.Proc
) -> tuple[dict[str, Any], c.Proc | None, Path]:
    """Queue ``size`` events with the target paused; measure a fresh relay's RSS at rest.

    Returns (figures, the paused relay still running or None, the config to drain with).
    """
    row: dict[str, Any] = {"http_events": 0, "direct_events": 0}
    body = c.issue_payload()
    live = workdir / f"{label}.yaml"
    c.write_relay_config(
        live, base_url=runner.url, tag=label, max_concurrency=50, timeout=3600, idempotent=True
    )
    pause = c.can_pause()
    with contextlib.ExitStack() as stack:
        if pause:  # the operator's pause, kept in the store: the worker sends nothing
            config = live
            c.set_target_paused(str(db), True)
        else:  # a target that never answers, max_concurrency 1: one attempt hangs
            port = stack.enter_context(c.blackhole())
            config = workdir / f"{label}-paused.yaml"
            c.write_relay_config(
                config,
                base_url=f"http://127.0.0.1:{port}",
                tag=label,
                max_concurrency=1,
                timeout=3600,
                idempotent=True,
            )
        relay = c.start_relay(workdir, config, str(db), label=f"{label}-ingest")
        try:
            with c.Sampler(relay.rss_bytes, 0.5) as rss:
                first = c.run_load(
                    args.loadgen,
                    relay.port,
                    body,
                    f"{label}-a",
                    workdir,
                    connections=50,
                    duration=min(10.0, args.http_budget),
                    max_requests=size,
                )
                rate = first.rps
                stored = sum(c.delivery_counts(str(db)).values())
                projected = (size - stored) / rate if rate > 0 else float("inf")
                row["http_rate"] = round(rate, 1)
                row["http_p99_ms"] = first.latency.get("p99_ms")
                if stored < size and projected <= args.http_budget - first.duration:
                    c.run_load(
                        args.loadgen,
                        relay.port,
                        body,
                        f"{label}-b",
                        workdir,
                        connections=50,
                        duration=args.http_budget,
                        max_requests=size - stored,
                    )
                elif stored < size:
                    row["note"] = (
                        f"HTTP ingest at {rate:.0f}/s would take {projected:.0f}s: rest written "
                        "directly"
                    )
            row["peak_rss_ingest_mb"] = round(relay.peak_rss_bytes() / MB, 1)
            row["rss_ingest_samples_mb"] = [round(v / MB, 1) for _, v in rss.samples[::10]]
        finally:
            relay.kill()
        row["http_events"] = sum(c.delivery_counts(str(db)).values())
        if row["http_events"] < size:
            row.update(extend_backlog(db, size))
        row["db_mb"] = round(sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / MB, 1)
        row.update(claim_query_probe(db))
        # a fresh relay on the full store, target still paused: what does it hold at rest?
        relay = c.start_relay(workdir, config, str(db), label=f"{label}-queued")
        try:
            time.sleep(5.0)
            row["rss_queued_mb"] = round(relay.rss_bytes() / MB, 1)
            row["queued"] = c.delivery_counts(str(db))
        except BaseException:
            relay.kill()
            raise
        if not pause:
            relay.kill()
            return row, None, live
    return row, relay, live


def drain(
    args: argparse.Namespace,
    workdir: Path,
    db: Path,
    live: Path,
    label: str,
    runner: c.Proc,
    paused: c.Proc | None,
    profile: bool,
) -> dict[str, Any]:
    """Resume the paused relay (or start one on the store) and follow the drain."""
    c.clear_runs(runner)
    before = c.delivery_counts(str(db)).get("succeeded", 0)
    total = sum(c.delivery_counts(str(db)).values())
    busy_before = c.wait_quiet(args.quiet_wait)
    total_runs0 = c.runner_stats(runner)["total"]
    started = time.time()
    if paused is not None:
        relay = paused
        c.set_target_paused(str(db), False)
    else:
        relay = c.start_relay(workdir, live, str(db), label=f"{label}-drain", wait=False)
    spy = None
    out = args.results / "profiles" / f"{NAME}-{label}-drain.txt"
    progress: list[tuple[float, int]] = []
    row: dict[str, Any] = {"busy_cores_before": busy_before}
    try:
        with httpx.Client(timeout=10.0) as client:
            deadline = time.monotonic() + args.drain_seconds
            while time.monotonic() < deadline:
                if not relay.alive():
                    raise c.ProcessFailed(f"relay exited while draining:\n{relay.log_tail()}")
                with contextlib.suppress(httpx.HTTPError, KeyError):
                    runs = c.runner_stats(runner, client)["total"] - total_runs0
                    progress.append((time.time(), runs))
                if progress and progress[-1][1] >= total - before:
                    break
                if profile and spy is None and progress and progress[-1][1] > 0:
                    spy = c.py_spy_attach(relay.pid, min(20.0, args.drain_seconds / 2), out)
                if len(progress) % 10 == 0:
                    client.delete(runner.url + "/_local/runs")  # keep the runner small
                time.sleep(1.0)
        row["peak_rss_drain_mb"] = round(relay.peak_rss_bytes() / MB, 1)
        row["rss_end_drain_mb"] = round(relay.rss_bytes() / MB, 1)
    finally:
        relay.kill()
        if spy is not None:
            spy.wait(timeout=120)
    counts = c.delivery_counts(str(db))
    row["drained"] = counts.get("succeeded", 0) - before
    row["drain_counts"] = counts
    row["drain_seconds"] = round(time.time() - started, 1)
    row["fully_drained"] = row["drained"] >= total - before
    moving = [(t, n) for t, n in progress if n > 0]
    if len(moving) >= 2:
        first_t = moving[0][0]
        head = [p for p in moving if p[0] <= first_t + 10.0]
        tail = [p for p in moving if p[0] >= moving[-1][0] - 10.0]
        row["start_to_first_run_s"] = round(first_t - started, 2)
        row["drain_start_per_s"] = _rate(head)
        row["drain_end_per_s"] = _rate(tail)
        overall = _rate(moving)
        row["drain_per_s"] = overall
        if overall and not row["fully_drained"]:
            left = total - before - row["drained"]
            row["projected_full_drain_s"] = round(left / overall + row["drain_seconds"])
    if spy is not None:
        row["profile"] = c.summarize_profile(out)
        row["profile"]["file"] = str(out)
    return row


def _rate(points: list[tuple[float, int]]) -> float | None:
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    return round((points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0]), 1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = c.new_workdir(NAME)
    rows: list[dict[str, Any]] = []
    try:
        for index, size in enumerate(args.sizes):
            label = f"n{size}"
            db = workdir / f"{label}.db"
            runner = c.start_runner(workdir)
            try:
                queued, paused, live = queue(args, workdir, db, size, label, runner)
                profile = args.profile and index == len(args.sizes) - 1
                drained = drain(args, workdir, db, live, label, runner, paused, profile)
            finally:
                runner.stop()
            row = {"row": f"{size:,} events", "size": size, **queued, **drained}
            parts = [queued.get("note"), None if drained.get("fully_drained") else "drain bounded"]
            row["note"] = "; ".join(p for p in parts if p)
            rows.append(row)
            if not args.keep:
                for path in workdir.glob(db.name + "*"):
                    path.unlink()
    finally:
        c.stop_all()
        if not args.keep:
            c.remove_workdir(workdir)
    table = c.print_table("backlog memory (target paused, then drained)", COLUMNS, rows)
    for r in rows:
        if "profile" in r:
            c.print_profile(r["row"] + " drain", r["profile"])
    largest = max(rows, key=lambda r: r["size"]) if rows else None
    peak = None
    if largest is not None:
        peak = max(largest.get("rss_queued_mb") or 0, largest.get("peak_rss_drain_mb") or 0)
    goals = [
        c.Goal(
            f"RSS with {largest['size']:,} queued (max of queued and draining)"
            if largest
            else "RSS at 10^6 queued",
            peak,
            250.0,
            higher_is_better=False,
            unit="MB",
        )
    ]
    notes = [
        "RSS queued: a fresh relay started on the store, target paused, after 5 s",
        "peak RSS drain: VmHWM of the relay draining to a zero-latency local runner "
        "(max_concurrency 50), bounded by --drain-seconds",
        "drain/s start|end: runs started per second in the first|last 10 s of the drain",
    ]
    return c.finish(NAME, args, rows=rows, goals=goals, notes=notes, table=table)


def main(argv: Sequence[str] | None = None) -> int:
    run(parse(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
