"""Bring a database's schema to this relay's version without starting anything else
(``relay migrate``); ``relay serve`` does the same when it opens the store."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from relay.store import _sqlite_schema
from relay.store._sqlite_connect import connect_read_only, prepare
from relay.store.base import StoreUnavailable
from relay.store.factory import is_postgres_url, sqlite_path

__all__ = ["Migrated", "SchemaStatus", "migrate_database", "schema_status"]


@dataclass(frozen=True, slots=True)
class Migrated:
    backend: str  # "postgresql" or "sqlite"
    before: int  # schema version found (0: a new database)
    after: int  # schema version now

    @property
    def changed(self) -> bool:
        return self.after != self.before


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    backend: str  # "postgresql" or "sqlite"
    current: int  # schema version of the database (0: none yet)
    latest: int  # schema version of this relay

    @property
    def pending(self) -> bool:
        return self.current < self.latest

    @property
    def newer(self) -> bool:
        """The database was migrated by a newer relay than this one."""
        return self.current > self.latest


def _sqlite_version(path: str) -> int:
    if path == ":memory:" or not Path(path).exists():
        return 0
    conn = connect_read_only(path)
    try:
        return _sqlite_schema.schema_version(conn) or 0
    finally:
        conn.close()


async def schema_status(url: str) -> SchemaStatus:
    """The schema version of the database at ``url`` against this relay's, changing nothing
    (a SQLite file that does not exist is version 0 and is not created)."""
    if is_postgres_url(url):
        import asyncpg  # the driver: only for a PostgreSQL URL

        from relay.store import _pg_schema

        try:
            conn = await asyncpg.connect(url, timeout=10.0)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreUnavailable(f"cannot connect: {exc}") from exc
        try:
            current = await _pg_schema.schema_version(conn)
        finally:
            await conn.close()
        return SchemaStatus("postgresql", current, len(_pg_schema.MIGRATIONS))
    path = sqlite_path(url)
    try:
        current = _sqlite_version(path)
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot read {path}: {exc}") from exc
    return SchemaStatus("sqlite", current, len(_sqlite_schema.MIGRATIONS))


def _sqlite(path: str) -> Migrated:
    """As ``SqliteStore`` opens a file (``prepare``): created 0600 when missing, then
    migrated; the version before is read first. A plain connection: the journal mode is left
    as it is (``relay serve`` turns WAL on when it opens the file)."""
    before = _sqlite_version(path)
    prepare(path, partial(_plain, path), memory=path == ":memory:", writes=False)
    return Migrated("sqlite", before, len(_sqlite_schema.MIGRATIONS))


def _plain(path: str) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, timeout=30.0)


async def migrate_database(url: str) -> Migrated:
    """Migrate the database at ``url`` (see ``open_store`` for the forms it takes)."""
    if is_postgres_url(url):
        import asyncpg  # the driver: only for a PostgreSQL URL

        from relay.store import _pg_schema

        try:
            conn = await asyncpg.connect(url, timeout=10.0)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreUnavailable(f"cannot connect: {exc}") from exc
        try:
            before, after = await _pg_schema.migrate(conn)
        finally:
            await conn.close()
        return Migrated("postgresql", before, after)
    path = sqlite_path(url)
    try:
        return _sqlite(path)
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot migrate {path}: {exc}") from exc
