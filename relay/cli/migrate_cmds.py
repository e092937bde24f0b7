"""``relay migrate``: bring the database schema to this version (serve does it at start too)."""

from __future__ import annotations

import argparse
import sys

from relay.cli.store_cmds import DB_HELP, db_url

__all__ = ["add_parsers"]


#: ``relay migrate --check`` exit statuses.
CHECK_CURRENT, CHECK_PENDING, CHECK_ERROR, CHECK_NEWER = 0, 1, 2, 3


def cmd_check(args: argparse.Namespace) -> int:
    from relay.store.base import StoreUnavailable
    from relay.store.factory import is_postgres_url
    from relay.store.migrate import schema_status

    url = db_url(args)
    try:
        if is_postgres_url(url):
            import asyncio

            status = asyncio.run(schema_status(url))
        else:  # a SQLite file is read in this thread: no event loop to start
            from relay.store.sqlite_reader import run_to_end

            status = run_to_end(schema_status(url))
    except (StoreUnavailable, ValueError) as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return CHECK_ERROR
    versions = f"database at version {status.current}, this relay at {status.latest}"
    if status.newer:
        print(
            f"{status.backend}: {versions}: the database was migrated by a newer relay; "
            "run that version (or restore the backup taken before the upgrade)"
        )
        return CHECK_NEWER
    if status.pending:
        print(f"{status.backend}: {versions}: migration pending (relay migrate)")
        return CHECK_PENDING
    print(f"{status.backend}: {versions}: up to date")
    return CHECK_CURRENT


def cmd_migrate(args: argparse.Namespace) -> int:
    if args.check:
        return cmd_check(args)
    import asyncio

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
    p.add_argument(
        "--check",
        action="store_true",
        help="change nothing; print the versions and exit 0 when up to date, 1 when a "
        "migration is pending, 2 when the database cannot be read, 3 when it is newer",
    )
    p.set_defaults(func=cmd_migrate)
