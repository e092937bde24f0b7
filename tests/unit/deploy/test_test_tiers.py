"""The suite's tiers: ``make test`` (CI) runs everything; ``make test-fast`` leaves out the
subprocess crash and outage scenarios (marker ``crash``), ``make test-crash`` runs only them."""

from __future__ import annotations

import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _pytest_args(target: str) -> list[str]:
    """The arguments ``make TARGET`` gives pytest (nothing is run: ``make -n``)."""
    commands = subprocess.run(
        ["make", "-n", "-C", str(ROOT), target], capture_output=True, text=True, check=True
    ).stdout
    (line,) = [c for c in commands.splitlines() if "/pytest" in c]
    return shlex.split(line)[1:]


def _marker_expression(args: list[str]) -> str | None:
    return args[args.index("-m") + 1] if "-m" in args else None


def test_the_crash_marker_is_registered_and_not_left_out_by_default() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    markers = {m.split(":")[0] for m in options["ini_options"]["markers"]}
    assert {"crash", "long", "image"} <= markers
    assert "crash" not in options["ini_options"]["addopts"]


def test_make_test_runs_every_tier_and_the_two_tiers_add_up_to_it() -> None:
    assert _marker_expression(_pytest_args("test")) is None  # pyproject's addopts alone
    fast = _marker_expression(_pytest_args("test-fast"))
    crash = _marker_expression(_pytest_args("test-crash"))
    default = "not long and not image"
    assert fast == f"{default} and not crash"
    assert crash == f"{default} and crash"


def test_the_crash_tier_holds_the_subprocess_crash_and_outage_scenarios() -> None:
    tier = ["-m", "not long and not image and crash", "tests/reliability", "tests/integration"]
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *tier],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ids = [line for line in collected.splitlines() if "::" in line]
    files = {i.split("::")[0] for i in ids}
    assert {
        "tests/reliability/test_crash_under_load.py",
        "tests/reliability/test_store_outage.py",
        "tests/reliability/test_graceful_stop.py",
        "tests/integration/test_end_to_end.py",
        "tests/integration/test_multi_instance.py",
        "tests/integration/test_instance_liveness.py",
    } <= files
    assert any("sigkill" in i for i in ids)
