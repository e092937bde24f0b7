"""``relay check``: validate a config file and print every located error, with a caret."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable

from relay.redact import secret_key
from relay.routing.issues import ConfigErrors, ConfigIssue

__all__ = ["add_parsers", "render_issues"]


#: Keys whose values are credentials: a problem there shows its line with the value masked.
_SECRET_KEYS = frozenset({"secrets", "api_key", "verify_token"})
_KEEP = frozenset(" \t\"'[],{}")
_REFERENCE = re.compile(r"\$\{[^}]*\}")


def _masked(source: str) -> str:
    """The line with every value character after its key (or list dash) turned into ``*``,
    in place (the caret's column stays right); ``${VAR}`` references are kept."""
    stripped = source.lstrip()
    start = len(source) - len(stripped)
    if stripped.startswith("- "):
        start += 2
    key = re.match(r"[\w.-]+:\s", source[start:])
    if key:
        start += key.end()
    keep = {i for m in _REFERENCE.finditer(source) for i in range(m.start(), m.end())}
    return source[:start] + "".join(
        ch if ch in _KEEP or i in keep else "*" for i, ch in enumerate(source) if i >= start
    )


def _caret_lines(text: str, issue: ConfigIssue) -> list[str]:
    line, col = issue.line, issue.col
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return []
    source = lines[line - 1]
    if any(str(part) in _SECRET_KEYS or secret_key(str(part)) for part in issue.path):
        source = _masked(source)
    pad = "".join("\t" if ch == "\t" else " " for ch in source[: max(col - 1, 0)])
    return [f"    {source}", f"    {pad}^"]


def render_issues(file: str, issues: Iterable[ConfigIssue], text: str | None) -> str:
    """``FILE:LINE:COL: message`` per issue, each followed by its line and a caret."""
    out: list[str] = []
    for issue in issues:
        out.append(issue.format(file))
        if text:
            out.extend(_caret_lines(text, issue))
    return "\n".join(out)


def print_config_errors(exc: ConfigErrors) -> None:
    print(render_issues(exc.file, exc.issues, exc.text), file=sys.stderr)
    errors = sum(1 for issue in exc.issues if issue.severity == "error")
    print(f"{exc.file}: {errors} error{'s' if errors != 1 else ''}", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    from relay.routing.loader import load_file
    from relay.routing.table import compile_document

    try:
        doc = load_file(args.file, os.environ)
        compile_document(doc)
    except ConfigErrors as exc:
        print_config_errors(exc)
        return 1
    if doc.warnings:
        print(render_issues(args.file, doc.warnings, doc.text), file=sys.stderr)
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
