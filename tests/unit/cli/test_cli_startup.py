"""The CLI builds only the parser of the command asked for: ``relay --help`` imports no
command's dependencies, ``relay dlq ...`` not the providers' or the HTTP clients'. (How fast
that is: bench/cli_startup.py, not a timed test.)"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from relay.cli import COMMANDS, build_parser

HEAVY = ("aiohttp", "cryptography", "httpx", "pydantic", "relay.providers", "relay.routing")


def _loaded_after(argv: list[str]) -> set[str]:
    script = (
        "import sys, json\n"
        "from relay.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "sys.stdout = sys.__stdout__\n"
        "print('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)}


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_help_and_version_import_no_command(argv: list[str]) -> None:
    loaded = _loaded_after(argv)
    assert not [m for m in loaded if m.startswith("relay.cli.")]
    assert _heavy(loaded) == set()


def test_a_delivery_command_does_not_import_the_providers_or_http_clients() -> None:
    loaded = _loaded_after(["dlq", "list", "--help"])
    assert "relay.cli.delivery_cmds" in loaded
    assert _heavy(loaded) == set()


def _helps(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {action.dest: action.help for action in sub._choices_actions}


def test_the_command_table_matches_what_the_modules_register() -> None:
    full = _helps(build_parser())
    assert list(full) == [name for name, _, _ in COMMANDS]
    assert full == {name: text for name, _, text in COMMANDS}
    for name, _, _ in COMMANDS:
        assert _helps(build_parser(name, only=True)) == full
        (sub,) = [
            a
            for a in build_parser(name, only=True)._actions
            if isinstance(a, argparse._SubParsersAction)
        ]
        assert sub.choices[name].add_help  # the real parser, not a listed-only one
