"""Operations on the database as a whole: ``relay backup``, ``relay restore`` and
``relay migrate-data`` (docs/operations.md)."""

from __future__ import annotations

import argparse
import sys

from relay.cli.store_cmds import DB_HELP, db_url

__all__ = ["add_parsers"]

#: Exit status when the command does not apply (a PostgreSQL database: use pg_dump).
NOT_APPLICABLE = 2


def _summary(counts: dict[str, int]) -> str:
    shown = ("events", "deliveries", "attempts")
    parts = [f"{counts[t]} {t}" for t in shown if t in counts]
    return ", ".join(parts)


def cmd_backup(args: argparse.Namespace) -> int:
    from relay.store import is_postgres_url
    from relay.store.backup import PG_BACKUP_HINT, BackupError, backup_sqlite, sqlite_path

    url = db_url(args)
    if is_postgres_url(url):
        print(f"relay: {PG_BACKUP_HINT}", file=sys.stderr)
        return NOT_APPLICABLE
    try:
        done = backup_sqlite(sqlite_path(url), args.path, force=args.force)
    except BackupError as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return 1
    print(
        f"backed up to {done.path} ({done.size} bytes, schema version {done.schema_version}: "
        f"{_summary(done.counts)})"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from relay.store import _sqlite_schema, is_postgres_url
    from relay.store.backup import PG_BACKUP_HINT, BackupError, restore_sqlite, sqlite_path

    url = db_url(args)
    if is_postgres_url(url):
        print(f"relay: {PG_BACKUP_HINT}", file=sys.stderr)
        return NOT_APPLICABLE
    try:
        done = restore_sqlite(args.path, sqlite_path(url), force=args.force)
    except BackupError as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored {args.path} to {done.path} (schema version {done.schema_version}: "
        f"{_summary(done.counts)})"
    )
    latest = len(_sqlite_schema.MIGRATIONS)
    if done.schema_version < latest:
        print(
            f"the backup is at schema version {done.schema_version}: relay migrate (or serve) "
            f"upgrades it to {latest}"
        )
    return 0


def cmd_migrate_data(args: argparse.Namespace) -> int:
    import asyncio

    from relay.store.copy_data import DataCopyError, copy_sqlite_to_postgres

    try:
        copied = asyncio.run(copy_sqlite_to_postgres(args.source, args.dest))
    except DataCopyError as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return 1
    for table in copied:
        note = f" (not in the destination, left out: {', '.join(table.skipped)})"
        print(f"{table.name}: {table.rows} rows{note if table.skipped else ''}")
    print("copied; row counts match. Point RELAY_DATABASE_URL at the destination.")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "backup",
        help="copy the SQLite database to PATH while relay runs (PostgreSQL: pg_dump)",
        description="A consistent copy (SQLite online backup API), safe under load.",
    )
    p.add_argument("path", help="the backup file to write")
    p.add_argument("--force", action="store_true", help="replace PATH when it exists")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore",
        help="replace the SQLite database by a backup (relay stopped)",
        description="Refuses while the database is in use, and replaces one only with --force.",
    )
    p.add_argument("path", help="the backup file (made by relay backup)")
    p.add_argument("--force", action="store_true", help="replace an existing database")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser(
        "migrate-data",
        help="copy a SQLite store into an empty PostgreSQL database (relay stopped)",
        description="Copies every table both schemas have, in one transaction, counts checked.",
    )
    p.add_argument("--from", dest="source", required=True, help="sqlite:///path or a file path")
    p.add_argument("--to", dest="dest", required=True, help="postgresql://user@host/db")
    p.set_defaults(func=cmd_migrate_data)
