"""``relay migrate``: bring the database schema to this version (serve does it at start too)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from relay.cli.store_cmds import DB_HELP, db_url

__all__ = ["add_parsers"]


def cmd_migrate(args: argparse.Namespace) -> int:
    from relay.store.base import StoreUnavailable
    from relay.store.migrate import migrate_database

    try:
        done = asyncio.run(migrate_database(db_url(args)))
    except (StoreUnavailable, ValueError) as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return 1
    if done.changed:
        print(f"{done.backend} schema migrated from version {done.before} to {done.after}")
    else:
        print(f"{done.backend} schema already at version {done.after}")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "migrate",
        help="create or upgrade the database schema (relay serve also does it at start)",
        description="Safe to run while instances start: migrations run under a lock, once.",
    )
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_migrate)
