"""CLI start-up: how long ``relay COMMAND --help`` takes, against the interpreter's floor.

Each command runs ``--runs`` times as a fresh process (``python -m relay ...``) with the
relay source in ``--src`` first on the path (default: this checkout), so two checkouts can
be compared on one machine: ``python -m bench.cli_startup --src /path/to/other/checkout``.
Prints the median and the fastest run per command, in milliseconds; the goal is under 200 ms
for every command (the floor, ``python -c pass``, is what no change to relay can remove).
Not part of ``make bench``'s suite: it takes seconds and needs no servers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--version",),
    ("--help",),
    ("deliveries", "--help"),
    ("dlq", "list", "--help"),
    ("check", "--help"),
    ("send", "--help"),
    ("route", "--help"),
    ("serve", "--help"),
)


def _time(argv: Sequence[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - started) * 1000.0)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(args.src.resolve()), "PYTHONDONTWRITEBYTECODE": "1"}
    rows = [("python -c pass", _time([sys.executable, "-c", "pass"], env, args.runs))]
    for command in COMMANDS:
        times = _time([sys.executable, "-m", "relay", *command], env, args.runs)
        rows.append((f"relay {' '.join(command)}", times))
    print(f"relay source: {args.src.resolve()}  ({args.runs} runs each)")
    print(f"{'command':<28} {'median ms':>10} {'fastest ms':>11}")
    for name, times in rows:
        print(f"{name:<28} {statistics.median(times):>10.0f} {min(times):>11.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
