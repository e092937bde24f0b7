"""Latency at rest: one webhook at a time, from relay's ack to the upstream request's start.

A zero-latency ``relay local-runner``; each webhook carries its own issue number, which the
route maps into the run's variables, so every run the runner records (``received_at``) is
matched to the webhook that caused it. The ack time is taken at the client when the 200
has been read. Webhooks are sent one by one on a keep-alive connection, ``--gap`` apart.
"""

from __future__ import annotations

import argparse
import http.client
import time
from collections.abc import Sequence
from typing import Any

from bench import _common as c

NAME = "latency"
COLUMNS = (
    ("row", "row", ""),
    ("p50_ms", "p50 ms", ".2f"),
    ("p90_ms", "p90 ms", ".2f"),
    ("p99_ms", "p99 ms", ".2f"),
    ("max_ms", "max ms", ".2f"),
    ("count", "n", "d"),
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = c.base_parser(NAME, __doc__.splitlines()[0] if __doc__ else NAME)
    parser.add_argument("--count", type=int, help="webhooks (default 300)")
    parser.add_argument("--gap", type=float, help="pause between webhooks, s (default 0.1)")
    parser.add_argument("--db", default="sqlite", help="'sqlite' or a database URL")
    args = parser.parse_args(argv)
    c.use_relay_source(args.relay_src)
    c.quiet_wait_default(args)
    args.count = args.count or (60 if args.quick else 300)
    args.gap = args.gap if args.gap is not None else (0.05 if args.quick else 0.1)
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = c.new_workdir(NAME)
    rows: list[dict[str, Any]] = []
    notes = [
        f"{args.count} webhooks, one at a time, {args.gap * 1000:g} ms apart, keep-alive",
        "ack -> upstream start can be negative: relay wakes its worker before the 200 is "
        "written, so the run may start before the client has read the ack",
    ]
    sent: dict[int, tuple[float, float]] = {}
    extra: dict[str, Any] = {}
    try:
        runner = c.start_runner(workdir)
        config = workdir / "relay.yaml"
        tag = f"lat-{int(time.time())}"
        c.write_relay_config(config, base_url=runner.url, tag=tag, max_concurrency=10)
        url = c.database_url(args.db, workdir, "relay")
        try:
            relay = c.start_relay(workdir, config, url)
        except c.RelayRefused as exc:
            reason = str(exc).strip().splitlines()[-1]
            rows.append({"row": "relay", "skipped": True, "note": f"skipped: {reason}"})
            relay = None
        if relay is not None:
            extra["busy_cores_before"] = c.wait_quiet(args.quiet_wait)
            conn = http.client.HTTPConnection(c.HOST, relay.port, timeout=10)
            window = c.CpuWindow(relay)
            for i in range(args.count):
                number = 100_000 + i
                body = c.issue_payload(number)
                headers = c.github_headers(body, f"{tag}-{i}")
                t_send = time.time()
                conn.request("POST", "/hooks/github", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                t_ack = time.time()
                if response.status == 200:
                    sent[number] = (t_send, t_ack)
                time.sleep(args.gap)
            conn.close()
            extra["cpu"] = window.finish()
            deadline = time.monotonic() + 10.0
            runs: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                runs = c.fetch_runs(runner)
                if len(runs) >= len(sent):
                    break
                time.sleep(0.2)
            started = {int(r["variables"]["number"]): float(r["received_at"]) for r in runs}
            matched = [(sent[n], started[n]) for n in sent if n in started]
            ack = [t_ack - t_send for (t_send, t_ack), _ in matched]
            upstream = [run - t_ack for (_, t_ack), run in matched]
            total = [run - t_send for (t_send, _), run in matched]
            rows += [
                {"row": "ack (send -> 200 read)", **c.latency_summary(ack)},
                {"row": "ack -> upstream request start", **c.latency_summary(upstream)},
                {"row": "send -> upstream request start", **c.latency_summary(total)},
            ]
            extra["negative_ack_to_upstream"] = sum(1 for v in upstream if v < 0)
            extra["unmatched"] = len(sent) - len(matched)
            extra["errors"] = args.count - len(sent)
    finally:
        c.stop_all()
        if not args.keep:
            c.remove_workdir(workdir)
    table = c.print_table(f"latency at rest (gap {args.gap * 1000:g} ms)", COLUMNS, rows)
    up = next((r for r in rows if r["row"] == "ack -> upstream request start"), None)
    goals = [
        c.Goal(
            "idle latency ack -> upstream start, p50",
            None if up is None else up.get("p50_ms"),
            5.0,
            higher_is_better=False,
            unit="ms",
        )
    ]
    path = c.write_results(
        NAME,
        params=vars(args) | {"results": str(args.results)},
        rows=rows,
        goals=goals,
        notes=notes,
        results_dir=args.results,
        extra={"table": table, **extra},
    )
    print(f"wrote {path}")
    return {"name": NAME, "rows": rows, "goals": [g.to_json() for g in goals], "table": table}


def main(argv: Sequence[str] | None = None) -> int:
    run(parse(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
