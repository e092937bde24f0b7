"""Opening a SQLite file, as both SQLite stores do (``SqliteStore``, the server's, and
``SqliteReader``, a log-reading command's): the version check, the file created private and
migrated, and connections with relay's pragmas."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from relay.store._sqlite_files import create_private
from relay.store._sqlite_schema import migrate
from relay.store.base import StoreUnavailable

__all__ = ["MIN_SQLITE", "connect", "connect_read_only", "prepare"]

#: The statements written once for both dialects use ``RETURNING`` (SQLite 3.35, 2021).
MIN_SQLITE = (3, 35, 0)


def connect(path: str, *, timeout: float, uri: str | None = None) -> sqlite3.Connection:
    """A connection in autocommit mode (relay begins its transactions), usable from any
    thread; ``uri``: a shared in-memory database instead of the file."""
    if uri is not None:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, timeout=timeout, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        # the writer checkpoints, off the event loop (relay/store/_sqlite_writer.py)
        conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def connect_read_only(path: str | Path, *, timeout: float = 30.0) -> sqlite3.Connection:
    """A connection that cannot write (``mode=ro``): backups, copies, schema checks."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, timeout=timeout)


def _probe_write(conn: sqlite3.Connection) -> None:
    """A write that changes nothing, rolled back. Opening a file already in WAL mode writes
    nothing (its schema current, its journal mode set), so a file relay cannot write (its
    mode, ``chattr +i``, a read-only mount) would be told by the first event's write."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM relay_schema WHERE 0")
    finally:
        conn.execute("ROLLBACK")


def prepare(
    path: str, connect: Callable[[], sqlite3.Connection], *, memory: bool, writes: bool
) -> None:
    """Check SQLite's version, create the file (0600) if it is missing and migrate its
    schema; ``writes``: check that the file can be written (the server's store). Raises
    ``StoreUnavailable`` saying why it cannot be opened."""
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise StoreUnavailable(
            f"SQLite {sqlite3.sqlite_version} is too old: relay needs "
            f"{'.'.join(map(str, MIN_SQLITE))} or later (UPDATE ... RETURNING)"
        )
    try:
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            create_private(path)  # 0600, and so its -wal and -shm
        conn = connect()
        try:
            migrate(conn)
            if writes:
                _probe_write(conn)
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        raise StoreUnavailable(f"cannot open {path}: {exc}") from exc
