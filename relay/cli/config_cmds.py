"""``relay check``: validate a config file and print every located error."""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["add_parsers"]


def cmd_check(args: argparse.Namespace) -> int:
    from relay.routing.loader import ConfigErrors, load_file
    from relay.routing.table import compile_document

    try:
        doc = load_file(args.file, os.environ)
        compile_document(doc)
    except ConfigErrors as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for issue in doc.warnings:
        print(issue.format(args.file), file=sys.stderr)
    config = doc.config
    print(
        f"{args.file}: OK ({len(config.sources)} sources, {len(config.routes)} routes, "
        f"{len(config.targets)} targets)"
    )
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="validate a config file")
    p.add_argument("file")
    p.set_defaults(func=cmd_check)
