"""Run every benchmark in turn (``make bench``), then print the goals and how far each is met.

Writes ``bench/results/<name>.json`` per benchmark, plus ``summary.json`` and ``summary.md``
(the tables and goals in Markdown, as pasted into the README's Performance section).
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
import traceback
from collections.abc import Sequence
from typing import Any

from bench import _common as c

BENCHMARKS = ("ingest", "dispatch", "concurrency", "latency", "backlog")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = c.base_parser("run_all", __doc__.splitlines()[0] if __doc__ else "run_all")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    args.only = [b.strip() for b in (args.only or ",".join(BENCHMARKS)).split(",") if b.strip()]
    unknown = sorted(set(args.only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    return args


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


def markdown(results: list[dict[str, Any]], header: dict[str, Any]) -> str:
    lines = [
        f"Measured {header['created_at']} on {header['machine']['nproc']} cores "
        f"({header['machine']['cpu_model']}), {header['machine']['memory_gib']} GiB; "
        f"relay {header['relay']}; Python {header['versions']['python']}, "
        f"uvicorn {header['versions']['uvicorn']}, httpx {header['versions']['httpx']}, "
        f"SQLite {header['versions']['sqlite']}; load generator "
        f"{'wrk' if header['versions'].get('wrk') else 'python'}.",
        "",
        "| goal | target | measured | met | reached |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        for g in result.get("goals", []):
            target = f"{g['comparison']} {_fmt(g['target'])} {g['unit']}".strip()
            value = f"{_fmt(g['value'])} {g['unit']}".strip() if g["value"] is not None else "-"
            reached = f"{g['reached'] * 100:.0f} %" if g.get("reached") else "-"
            lines.append(f"| {g['goal']} | {target} | {value} | {_fmt(g['met'])} | {reached} |")
    for result in results:
        if result.get("table"):
            lines += ["", "```", result["table"], "```"]
        elif result.get("error"):
            lines += ["", f"{result['name']}: failed: {result['error'].splitlines()[-1]}"]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    # benchmark-specific options: run the module itself, e.g. python -m bench.dispatch --help
    passthrough = ["--results", str(args.results), "--relay-src", args.relay_src]
    if args.quick:
        passthrough.append("--quick")
    if args.keep:
        passthrough.append("--keep")
    source = c.use_relay_source(args.relay_src)
    results: list[dict[str, Any]] = []
    failed = False
    for name in args.only:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        try:
            result = module.run(module.parse(passthrough))
        except Exception:
            failed = True
            result = {"name": name, "error": traceback.format_exc()}
            print(result["error"], flush=True)
        finally:
            c.stop_all()
        result["seconds"] = round(time.monotonic() - started, 1)
        results.append(result)
    header = {
        "created_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": c.machine_info(),
        "versions": c.versions(),
        "git": c.git_info(),
        "relay": (
            f"{source['spec']} ({source['commit'][:10]})"
            if source.get("commit")
            else f"work tree at {(c.git_info().get('commit') or '?')[:10]}"
        ),
        "quick": args.quick,
    }
    summary = markdown(results, header)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "summary.md").write_text(summary)
    goals = [g for r in results for g in r.get("goals", [])]
    doc = {
        **header,
        "goals": goals,
        "seconds": {r["name"]: r["seconds"] for r in results},
        "errors": {r["name"]: r["error"] for r in results if "error" in r},
    }
    (args.results / "summary.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print("\n=== goals ===")
    print(summary)
    print(f"wrote {args.results / 'summary.md'} and summary.json")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
