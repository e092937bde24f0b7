"""What the commands that read or change the store share: ``--db`` and its default, opening
the store for one command, who acts (for the audit log).

Light on purpose: the store and its drivers are imported when a command opens the store,
not when the parser is built."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relay.store.base import Store

__all__ = [
    "DB_HELP",
    "actor",
    "actor_arg",
    "db_url",
    "run_reading",
    "run_with_store",
    "with_store",
]

DB_HELP = (
    "database URL: postgresql://user@host/db, sqlite:///path or a file path "
    "(default: $RELAY_DATABASE_URL or ./relay.db)"
)


def db_url(args: argparse.Namespace) -> str:
    return str(args.db or os.environ.get("RELAY_DATABASE_URL") or "./relay.db")


def actor(args: argparse.Namespace) -> str:
    """Who does this, for the audit log: ``--actor``, else the OS user."""
    if getattr(args, "actor", None):
        return str(args.actor)
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def actor_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--actor", help="who does this, for the audit log (default: the OS user)")


async def with_store(url: str, fn: Callable[[Store], Awaitable[int]]) -> int:
    from relay.store import open_store  # the drivers: only when a command opens the store

    return await _with(open_store(url), fn)


async def _with(store: Store, fn: Callable[[Store], Awaitable[int]]) -> int:
    await store.open()
    try:
        return await fn(store)
    finally:
        await store.close()


def run_with_store(args: argparse.Namespace, fn: Callable[[Store], Awaitable[int]]) -> int:
    """``fn`` on the store ``--db`` names; a bad filter or database URL: exit status 2."""
    import asyncio

    return _reported(lambda: asyncio.run(with_store(db_url(args), fn)))


def _reported(run: Callable[[], int]) -> int:
    try:
        return run()
    except ValueError as exc:  # a bad filter (FilterError: its detail), a bad database URL
        print(f"relay: {exc}", file=sys.stderr)
        return 2


def run_reading(args: argparse.Namespace, fn: Callable[[Store], Coroutine[Any, Any, int]]) -> int:
    """``fn`` on the store ``--db`` names, for a command that only reads it: a SQLite file is
    read in this thread, without an event loop (``relay.store.sqlite_reader``: the same
    statements; ``relay deliveries`` started in 205 ms instead of 310 here); PostgreSQL and
    ``:memory:`` as ``run_with_store``. ``fn`` must await only the store."""
    from relay.store.factory import is_postgres_url, sqlite_path

    def run() -> int:
        url = db_url(args)
        path = None if is_postgres_url(url) else sqlite_path(url)
        if path is None or path == ":memory:":
            import asyncio

            return asyncio.run(with_store(url, fn))
        from relay.store.sqlite_reader import SqliteReader, run_to_end

        return run_to_end(_with(SqliteReader(path), fn))

    return _reported(run)
