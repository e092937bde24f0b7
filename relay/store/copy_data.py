"""``relay migrate-data``: copy a SQLite store into an empty PostgreSQL store.

Every table the two schemas share is copied, with the columns both have (read from the
schemas, so that a column added to both later is carried without a change here): events,
deliveries, attempts, transitions, audit, target state, handed secrets, rejections. The copy
reads one SQLite read transaction (one consistent state) and writes one PostgreSQL
transaction: it lands whole or not at all. Before committing, the rows of every table are
counted on both sides; a difference aborts the copy.

The destination is migrated to this relay's schema first and must hold no row in any of
those tables. The source must be at this relay's schema version (``relay migrate`` first)
and must not be in use (events received after the read would stay behind).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from relay.store import _pg_schema, _sqlite_schema
from relay.store._sqlite_connect import connect_read_only
from relay.store.backup import BackupError, in_use, sqlite_path

__all__ = ["CopiedTable", "DataCopyError", "copy_sqlite_to_postgres"]

# Rows that others point at go first (foreign keys); the rest follow by name.
_FIRST = ("events", "deliveries", "attempts")
_BATCH = 2000
Convert = Callable[[Any], Any]


class DataCopyError(Exception):
    """The copy was refused or failed; nothing was written to the destination."""


@dataclass(frozen=True, slots=True)
class CopiedTable:
    name: str
    rows: int
    columns: tuple[str, ...]
    skipped: tuple[str, ...]  # source columns the destination does not have


def _sqlite_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")').fetchall()]


#: Tables that hold no user data: the /readyz write probe, the admin page's sessions (a
#: move logs everyone out, like a restart with a new store).
_NOT_DATA = frozenset({"relay_schema", "write_probe", "admin_sessions"})


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return [str(r[0]) for r in rows if str(r[0]) not in _NOT_DATA]


def _order(tables: set[str]) -> list[str]:
    first = [t for t in _FIRST if t in tables]
    return [*first, *sorted(tables - set(first))]


def _converter(pg_type: str) -> Convert | None:
    """How a SQLite value becomes the destination column's type (None: as it is)."""
    if pg_type == "boolean":
        return lambda v: None if v is None else bool(v)
    if pg_type == "double precision":
        return lambda v: None if v is None else float(v)
    if pg_type in ("integer", "bigint", "smallint"):
        return lambda v: None if v is None else int(v)
    if pg_type == "bytea":
        return lambda v: None if v is None else (v.encode() if isinstance(v, str) else bytes(v))
    if pg_type == "text":
        return lambda v: v if v is None or isinstance(v, str) else str(v)
    return None


def _rows(
    conn: sqlite3.Connection, table: str, columns: list[str], converters: list[Convert | None]
) -> Iterator[list[tuple[Any, ...]]]:
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = conn.execute(f'SELECT {names} FROM "{table}" ORDER BY rowid')  # noqa: S608
    while batch := cursor.fetchmany(_BATCH):
        yield [
            tuple(v if f is None else f(v) for v, f in zip(row, converters, strict=True))
            for row in batch
        ]


async def _pg_columns(conn: asyncpg.Connection, table: str) -> dict[str, tuple[str, bool]]:
    """Column name -> (data type, is an identity column) of ``table`` in the current schema."""
    rows = await conn.fetch(
        "SELECT column_name, data_type, is_identity FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        table,
    )
    return {str(r[0]): (str(r[1]), r[2] == "YES") for r in rows}


async def _pg_tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {str(r[0]) for r in rows if str(r[0]) not in _NOT_DATA}


async def _pg_count(conn: asyncpg.Connection, table: str) -> int:
    return int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))  # noqa: S608 (catalog)


def _open_source(url: str) -> sqlite3.Connection:
    try:
        path = sqlite_path(url)
    except BackupError as exc:
        raise DataCopyError(f"--from must be a SQLite database: {exc}") from exc
    if in_use(path):  # asked before opening it here
        raise DataCopyError(
            f"{path} is in use: stop relay first (webhooks received during the copy "
            "would not be copied)"
        )
    try:
        conn = connect_read_only(path)
        version = _sqlite_schema.schema_version(conn)
    except sqlite3.Error as exc:
        raise DataCopyError(f"cannot read {path}: {exc}") from exc
    if version is None:
        conn.close()
        raise DataCopyError(f"{path} is not a relay database (no relay_schema table)")
    latest = len(_sqlite_schema.MIGRATIONS)
    if version != latest:
        conn.close()
        raise DataCopyError(
            f"{path} is at schema version {version}, this relay at {latest}: "
            + (f"run relay migrate --db {url} first" if version < latest else "use a newer relay")
        )
    return conn


async def copy_sqlite_to_postgres(source_url: str, dest_url: str) -> list[CopiedTable]:
    """Copy every shared table of ``source_url`` (SQLite) into ``dest_url`` (PostgreSQL)."""
    src = _open_source(source_url)
    try:
        try:
            dst = await asyncpg.connect(dest_url, timeout=10.0)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DataCopyError(f"cannot connect to the destination: {exc}") from exc
        try:
            await _pg_schema.migrate(dst)
            src.execute("BEGIN")  # one read transaction: one consistent state of the source
            try:
                return await _copy(src, dst)
            finally:
                src.execute("COMMIT")
        except (asyncpg.PostgresError, sqlite3.Error) as exc:
            raise DataCopyError(f"the copy failed, nothing was written: {exc}") from exc
        finally:
            await dst.close()
    finally:
        src.close()


async def _copy(src: sqlite3.Connection, dst: asyncpg.Connection) -> list[CopiedTable]:
    tables = _order(set(_sqlite_tables(src)) & await _pg_tables(dst))
    occupied = {t: n for t in tables if (n := await _pg_count(dst, t))}
    if occupied:
        listed = ", ".join(f"{t} ({n} rows)" for t, n in occupied.items())
        raise DataCopyError(
            f"the destination is not empty: {listed}; copy into a new database or schema "
            "(?search_path=...)"
        )
    copied: list[CopiedTable] = []
    async with dst.transaction():
        for table in tables:
            pg = await _pg_columns(dst, table)
            source_columns = _sqlite_columns(src, table)
            columns = [c for c in source_columns if c in pg]
            skipped = tuple(c for c in source_columns if c not in pg)
            converters = [_converter(pg[c][0]) for c in columns]
            expected = int(src.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # noqa: S608
            for batch in _rows(src, table, columns, converters):
                await dst.copy_records_to_table(table, records=batch, columns=columns)
            got = await _pg_count(dst, table)
            if got != expected:
                raise DataCopyError(f"{table}: {expected} rows read, {got} written; rolled back")
            for column in columns:
                if pg[column][1]:  # identity: continue after the copied ids
                    await dst.execute(
                        f"SELECT setval(pg_get_serial_sequence($1, $2), "  # noqa: S608
                        f'coalesce((SELECT max("{column}") FROM "{table}"), 0) + 1, false)',
                        table,
                        column,
                    )
            copied.append(CopiedTable(table, got, tuple(columns), skipped))
    return copied
