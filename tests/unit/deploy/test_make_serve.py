"""``make serve`` installs relay's runtime only; ``make test`` the test toolchain too."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _dry_run(target: str, tmp_path: Path) -> str:
    """What ``make TARGET`` would run in a checkout without a venv (nothing is run)."""
    return subprocess.run(
        ["make", "-n", "-C", str(ROOT), target, f"VENV={tmp_path / 'venv'}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_make_serve_installs_the_runtime_without_the_test_extra(tmp_path: Path) -> None:
    commands = _dry_run("serve", tmp_path)
    installs = [line for line in commands.splitlines() if "pip install" in line and " -e " in line]
    assert installs, commands
    assert all("[test]" not in line for line in installs)


def test_make_test_still_installs_the_test_extra(tmp_path: Path) -> None:
    commands = _dry_run("test", tmp_path)
    assert "-e '.[test]'" in commands


def test_make_installs_relay_as_a_path_entry_without_a_finder_module(tmp_path: Path) -> None:
    """setuptools' default editable install adds a finder that every interpreter start
    imports; the "compat" mode is a plain .pth path entry (the default is the fallback)."""
    for target in ("serve", "test"):
        installs = [
            line
            for line in _dry_run(target, tmp_path).splitlines()
            if "pip install" in line and " -e " in line
        ]
        assert installs, target
        for line in installs:
            first = line.split("||")[0]
            assert "--config-settings editable_mode=compat -e" in first, line
