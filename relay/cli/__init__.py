"""The ``relay`` command line.

Each area registers its commands from its own module (``add_parsers(subparsers)``); every
command's handler is ``args.func(args) -> exit status``.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence

from relay import __version__

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from relay.cli import (
        config_cmds,
        delivery_cmds,
        log_cmds,
        migrate_cmds,
        provider_cmds,
        route_cmds,
        secret_cmds,
        serve_cmds,
        store_cmds,
    )
    from relay.runner.cli import add_parser as add_runner
    from relay.runner.cli import run_from_args

    parser = argparse.ArgumentParser(prog="relay", description="Self-hosted webhook relay.")
    parser.add_argument("--version", action="version", version=f"relay {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve_cmds.add_parsers(sub)
    migrate_cmds.add_parsers(sub)
    config_cmds.add_parsers(sub)
    route_cmds.add_parsers(sub)
    store_cmds.add_parsers(sub)
    delivery_cmds.add_parsers(sub)  # after store_cmds: extends `relay deliveries`
    provider_cmds.add_parsers(sub)
    log_cmds.add_parsers(sub)
    secret_cmds.add_parsers(sub)
    add_runner(sub).set_defaults(func=run_from_args)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Text from a body may hold a lone surrogate (valid in a JSON string, not in UTF-8):
    # printed as its escape rather than ending the command with an encoding error.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
