"""The ``relay`` command line.

Each area registers its commands from its own module (``add_parsers(subparsers)``); every
command's handler is ``args.func(args) -> exit status``.

Start-up stays quick by importing only what the command asked for needs: ``COMMANDS`` says
which modules register each command (and its one-line help, for ``relay --help``); the other
commands are listed with their help but their modules (and those modules' dependencies: the
store drivers, the HTTP clients, the providers' crypto) are not imported. ``build_parser()``
without a command builds the whole parser.
"""

from __future__ import annotations

import argparse
import importlib
import io
import sys
from collections.abc import Sequence

from relay import __version__

__all__ = ["COMMANDS", "build_parser", "main"]

_RUNNER = "relay.runner.cli"

#: Every command, in ``relay --help`` order: (name, modules that register it, help).
COMMANDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("serve", ("serve_cmds",), "receive webhooks and deliver them"),
    (
        "migrate",
        ("migrate_cmds",),
        "create or upgrade the database schema (relay serve also does it at start)",
    ),
    (
        "backup",
        ("ops_cmds",),
        "copy the SQLite database to PATH while relay runs (PostgreSQL: pg_dump)",
    ),
    ("restore", ("ops_cmds",), "replace the SQLite database by a backup (relay stopped)"),
    (
        "migrate-data",
        ("ops_cmds",),
        "copy a SQLite store into an empty PostgreSQL database (relay stopped)",
    ),
    ("check", ("config_cmds",), "validate a config file"),
    ("route", ("route_cmds",), "dry run: which routes an event takes, why not, and the variables"),
    ("deliveries", ("delivery_cmds",), "list deliveries"),
    ("replay", ("delivery_cmds",), "re-queue a delivery (dead, failed, needs_review, ...)"),
    ("dlq", ("dlq_cmds",), "the dead-letter log: list and bulk replay"),
    ("targets", ("target_cmds",), "targets: state, pause, resume"),
    ("send", ("provider_cmds",), "sign a sample (or your) payload as a provider would and POST it"),
    ("urls", ("url_cmds",), "list each source's webhook URL with its provider's setup hint"),
    ("events", ("log_cmds",), "received events and rejected requests, newest first"),
    ("show", ("log_cmds",), "an event or a delivery in full: payload, routes, attempts"),
    ("tail", ("log_cmds",), "follow events, rejections and attempts live (Ctrl-C stops)"),
    ("stats", ("log_cmds",), "per source and route counts and success rates"),
    ("secrets", ("secret_cmds",), "secrets handed over in handshakes (Asana, Notion)"),
    ("local-runner", (_RUNNER,), "serve a Notte-compatible Functions API on localhost"),
)
_NAMES = tuple(name for name, _, _ in COMMANDS)


def _register(sub: argparse._SubParsersAction[argparse.ArgumentParser], module: str) -> None:
    if module == _RUNNER:
        from relay.runner.cli import add_parser, run_from_args

        add_parser(sub).set_defaults(func=run_from_args)
        return
    importlib.import_module(f"relay.cli.{module}").add_parsers(sub)


def _requested(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names (None: options only, e.g. ``--help``)."""
    first = next(iter(argv), None)
    return None if first is None or first.startswith("-") else first


def build_parser(command: str | None = None, *, only: bool = False) -> argparse.ArgumentParser:
    """The whole parser; with ``only=True``, ``command``'s (and those its modules register)
    in full and the others by name and help alone."""
    parser = argparse.ArgumentParser(prog="relay", description="Self-hosted webhook relay.")
    parser.add_argument("--version", action="version", version=f"relay {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = [m for name, mods, _ in COMMANDS if not only or name == command for m in mods]
    for module in dict.fromkeys(wanted):  # each once, in order
        _register(sub, module)
    for name, _, text in COMMANDS:
        if name not in sub.choices:  # a command not asked for: listed, not loaded
            sub.add_parser(name, help=text, add_help=False)
    order = {name: i for i, name in enumerate(_NAMES)}
    sub._choices_actions.sort(key=lambda action: order.get(action.dest, len(order)))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Text from a body may hold a lone surrogate (valid in a JSON string, not in UTF-8):
    # printed as its escape rather than ending the command with an encoding error.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = _requested(arguments)
    # A known command (or none: --help, --version) loads only what it needs; anything else
    # gets the whole parser, whose error lists every choice.
    only = command is None or command in _NAMES
    args = build_parser(command, only=only).parse_args(arguments)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
