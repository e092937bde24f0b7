"""CLI start-up: how long ``relay COMMAND --help`` and a few commands on an empty database
take, against the interpreter's floor.

Each command runs ``--runs`` times as a fresh process (``python -m relay ...``) with the
relay source in ``--src`` first on the path (default: this checkout). ``--src`` may be given
more than once to compare checkouts on one machine, their runs interleaved so that a change
in the machine's load hits each alike: ``python -m bench.cli_startup --src /path/to/main
--src .``; ``--python`` likewise compares venvs (``--python /path/to/main/.venv/bin/python
--python .venv/bin/python``). ``--only TEXT`` times only the commands containing TEXT. The
commands run in each source (where ``config/relay.yaml`` is, as beside ``make
serve``: the commands that print stored text read it for its secrets) on a fresh SQLite file
that ``relay migrate`` created first; exit status 1 ("no delivery ...") is an answer, any
other stops the bench. Bytecode goes to a temporary ``PYTHONPYCACHEPREFIX``
(written by one untimed run of each command), so a checkout without ``__pycache__`` is not
timed compiling, and nothing is written into the checkouts. Prints the median and the
fastest run per command and source, in milliseconds; the goal is under 200 ms for every
command (the floor, ``python -c pass``, is what no change to relay can remove). Not part of
``make bench``'s suite: it takes seconds and needs no servers.
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
#: Run on the fresh database (``{db}``); ``{payload}``: a small JSON body.
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
    ("urls", "--config", "config/relay.yaml", "--base-url", "https://relay.example"),
    ("route", "config/relay.yaml", "--source", "github", "--payload", "{payload}"),
    # commands that change the store (the server's store, on asyncio) or list samples
    ("targets", "pause", "notte", "--db", "{db}"),
    ("targets", "resume", "notte", "--db", "{db}"),
    ("dlq", "replay", "--status", "failed", "--dry-run", "--db", "{db}"),
    ("send", "github", "--list"),
    # an id that is not there: the answer is exit status 1 ("no delivery ...")
    ("show", "dlv_missing", "--db", "{db}"),
    ("replay", "dlv_missing", "--db", "{db}"),
    ("backup", "{tmp}/backup.db", "--force", "--db", "{db}"),
)


def _env(src: Path, cache: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONPYCACHEPREFIX": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(argv: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=env, cwd=cwd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if done.returncode not in (0, 1):  # 1: what was asked for is not there
        raise subprocess.CalledProcessError(done.returncode, argv, stderr=done.stderr)
    return (time.perf_counter() - started) * 1000.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--src", type=Path, action="append", help="a relay checkout (repeatable)")
    parser.add_argument(
        "--python",
        type=Path,
        action="append",
        help="the interpreter (a venv's bin/python) for the --src of the same rank; one for "
        "all, or one per --src (default: this one). The venv matters: how relay is installed "
        "in it (an editable install's finder module) is imported at every start",
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="time only the commands containing TEXT (repeatable; e.g. --only ' --db'), "
        "and the floor",
    )
    args = parser.parse_args(argv)
    srcs = [p.resolve() for p in args.src or [Path(__file__).resolve().parents[1]]]
    # not resolved: a venv's bin/python is a link to the interpreter it wraps
    pythons = [p.absolute() for p in args.python or [Path(sys.executable)]]
    if len(pythons) == 1:
        pythons *= len(srcs)
    elif len(srcs) == 1:
        srcs *= len(pythons)
    if len(pythons) != len(srcs):
        parser.error("give one --python, or one per --src")
    chosen = [
        c for c in (*HELP, *RUNS) if not args.only or any(t in " ".join(c) for t in args.only)
    ]
    commands: list[tuple[str, ...]] = [("-c", "pass")]
    commands += [("-m", "relay", *c) for c in chosen]
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "relay.db")
        payload = Path(tmp) / "payload.json"
        payload.write_text('{"action": "opened"}')
        envs = [_env(src, Path(tmp) / f"pyc{i}") for i, src in enumerate(srcs)]
        subprocess.run(
            [str(pythons[0]), "-m", "relay", "migrate", "--db", db],
            env=envs[0],
            cwd=srcs[0],  # `-m` puts the working directory first on the path
            check=True,
            capture_output=True,
        )
        rows = []
        for command in commands:
            filled = [p.format(db=db, payload=payload, tmp=tmp) for p in command]
            times: list[list[float]] = [[] for _ in srcs]
            runs = list(zip(pythons, srcs, envs, strict=True))
            for python, src, env in runs:
                _run([str(python), *filled], env, src)  # writes the bytecode
            for _ in range(args.runs):
                for i, (python, src, env) in enumerate(runs):
                    times[i].append(_run([str(python), *filled], env, src))
            name = "python -c pass" if command[0] == "-c" else f"relay {' '.join(command[2:])}"
            rows.append((name, times))
    print(f"{args.runs} runs each; median (fastest) ms per source:")
    for i, (python, src) in enumerate(zip(pythons, srcs, strict=True)):
        print(f"  [{i}] {src}" + (f" ({python})" if args.python else ""))
    width = max(len(name) for name, _ in rows) + 2
    print(f"{'command':<{width}}" + "".join(f"{f'[{i}]':>16}" for i in range(len(srcs))))
    for name, times in rows:
        cells = "".join(f"{statistics.median(t):>9.0f} ({min(t):>4.0f})" for t in times)
        print(f"{name:<{width}}{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
