"""CLI start-up: how long ``relay COMMAND --help`` and a few commands on an empty database
take, against the interpreter's floor.

Each command runs ``--runs`` times as a fresh process (``python -m relay ...``) with the
relay source in ``--src`` first on the path (default: this checkout), so two checkouts can
be compared on one machine: ``python -m bench.cli_startup --src /path/to/other/checkout``.
The commands run in ``--src`` (where ``config/relay.yaml`` is, as beside ``make serve``: the
commands that print stored text read it for its secrets) on a fresh SQLite file that
``relay migrate`` created first. Prints the median and the fastest run per command, in
milliseconds; the goal is under 200 ms for every command's ``--help`` (the floor, ``python -c
pass``, is what no change to relay can remove). Not part of ``make bench``'s suite: it takes
seconds and needs no servers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HELP: tuple[tuple[str, ...], ...] = (
    ("--version",),
    ("--help",),
    ("serve", "--help"),
    ("check", "--help"),
    ("route", "--help"),
    ("deliveries", "--help"),
    ("dlq", "list", "--help"),
    ("targets", "--help"),
    ("send", "--help"),
    ("urls", "--help"),
    ("events", "--help"),
    ("local-runner", "--help"),
)
#: Run on the fresh database (``{db}``).
RUNS: tuple[tuple[str, ...], ...] = (
    ("migrate", "--check", "--db", "{db}"),
    ("deliveries", "--db", "{db}"),
    ("deliveries", "--db", "{db}", "--json"),
    ("dlq", "list", "--db", "{db}"),
    ("targets", "--db", "{db}"),
    ("events", "--db", "{db}"),
    ("stats", "--db", "{db}"),
    ("secrets", "list", "--db", "{db}"),
    ("check", "config/relay.yaml"),
)


def _time(argv: Sequence[str], env: dict[str, str], cwd: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        times.append((time.perf_counter() - started) * 1000.0)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    src = args.src.resolve()
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    relay = [sys.executable, "-m", "relay"]
    rows = [("python -c pass", _time([sys.executable, "-c", "pass"], env, src, args.runs))]
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "relay.db")
        subprocess.run([*relay, "migrate", "--db", db], env=env, check=True, capture_output=True)
        for command in (*HELP, *RUNS):
            filled = [part.format(db=db) for part in command]
            times = _time([*relay, *filled], env, src, args.runs)
            rows.append((f"relay {' '.join(command)}", times))
    print(f"relay source: {src}  ({args.runs} runs each)")
    print(f"{'command':<40} {'median ms':>10} {'fastest ms':>11}")
    for name, times in rows:
        print(f"{name:<40} {statistics.median(times):>10.0f} {min(times):>11.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
