"""``relay secrets``: secrets handed over in providers' handshakes (Asana, Notion)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from typing import TYPE_CHECKING

from relay.cli.store_cmds import DB_HELP, run_reading, run_with_store
from relay.cli.tables import format_table

if TYPE_CHECKING:
    from relay.store.base import Store

__all__ = ["add_parsers"]


def _fingerprint(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


def cmd_list(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        stored = await store.list_source_secrets()
        rows = [
            [source, str(len(s)), ", ".join(map(_fingerprint, s))] for source, s in stored.items()
        ]
        if args.json:
            from relay.views.cli_shapes import HandedSecrets
            from relay.views.models import plain

            shown = [
                plain(HandedSecrets(source=src, fingerprints=[_fingerprint(x) for x in s]))
                for src, s in stored.items()
            ]
            print(json.dumps(shown))
        else:
            print(format_table(rows, ["SOURCE", "SECRETS", "FINGERPRINTS"]))
        return 0

    return run_reading(args, run)


def cmd_reveal(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        secrets = (await store.list_source_secrets()).get(args.source, [])
        if not secrets:
            print(f"relay: no handed-over secret for source {args.source!r}", file=sys.stderr)
            return 1
        for secret in secrets:
            print(secret)
        return 0

    return run_with_store(args, run)


def cmd_reset(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        count = await store.delete_source_secrets(args.source)
        print(
            f"forgot {count} handed-over secret(s) of {args.source}; restart relay serve so "
            "that the next handshake is accepted"
        )
        return 0

    return run_with_store(args, run)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("secrets", help="secrets handed over in handshakes (Asana, Notion)")
    inner = p.add_subparsers(dest="secrets_command", required=True, metavar="ACTION")
    q = inner.add_parser("list", help="sources with handed-over secrets (fingerprints only)")
    q.add_argument("--json", action="store_true")
    q.add_argument("--db", help=DB_HELP)
    q.set_defaults(func=cmd_list)
    q = inner.add_parser("reveal", help="print a source's handed-over secret (e.g. Notion's token)")
    q.add_argument("source")
    q.add_argument("--db", help=DB_HELP)
    q.set_defaults(func=cmd_reveal)
    q = inner.add_parser("reset", help="forget a source's handed-over secrets")
    q.add_argument("source")
    q.add_argument("--db", help=DB_HELP)
    q.set_defaults(func=cmd_reset)
