"""Backups of a SQLite store, taken while relay runs, and their restore.

``backup`` copies the database with SQLite's online backup API in one step: the copy is the
database as of one transaction (in WAL mode readers never block writers, so relay keeps
accepting webhooks meanwhile). It is written to a temporary file next to the destination,
checked, synced and renamed into place, so a backup file is always whole.

``restore`` puts a backup in place of a database. It refuses when any process has the
database open (the SQLite WAL index's "dead man switch" byte is share-locked by every open
connection), when the database holds data and ``force`` is not given, and when the backup
is not a relay database or comes from a newer relay (a schema version this relay does not
know). An older backup is restored as it is; ``relay migrate`` (or ``relay serve``) upgrades it.
PostgreSQL has its own tools: ``pg_dump`` / ``pg_restore`` (see docs/operations.md).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

from relay.store import _sqlite_schema
from relay.store._sqlite_connect import connect_read_only
from relay.store._sqlite_files import create_private
from relay.store._sqlite_schema import schema_version
from relay.store.factory import is_postgres_url
from relay.store.factory import sqlite_path as url_path

__all__ = [
    "PG_BACKUP_HINT",
    "BackupError",
    "BackupResult",
    "backup_sqlite",
    "in_use",
    "restore_sqlite",
    "sqlite_path",
]

PG_BACKUP_HINT = (
    "relay does not copy PostgreSQL itself: use pg_dump, e.g. "
    "pg_dump --format=custom --schema=SCHEMA --file=relay.dump postgresql://user@host/db "
    "(the URL without ?search_path=), and pg_restore --clean --if-exists "
    "--dbname=postgresql://user@host/db relay.dump to restore (see docs/operations.md)"
)

# SQLite's unix VFS: every connection to a WAL database holds a shared lock on this byte of
# the "-shm" file for as long as it is open (UNIX_SHM_DMS = (22 + SQLITE_SHM_NLOCK) * 4 + 8).
_SHM_DMS_BYTE = 128
_F_OFD_GETLK = getattr(fcntl, "F_OFD_GETLK", 36)  # Linux
_FLOCK = "hhqqi4x"  # struct flock: l_type, l_whence, l_start, l_len, l_pid (+ padding)


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    schema_version: int
    counts: dict[str, int]  # rows per relay table
    size: int  # bytes


def sqlite_path(url: str) -> str:
    """The file path of a SQLite database URL (``sqlite:///rel``, ``sqlite:////abs``, a path);
    ``BackupError`` for PostgreSQL or another scheme."""
    if is_postgres_url(url):
        raise BackupError(PG_BACKUP_HINT)
    try:
        path = url_path(url)
    except ValueError as exc:  # another scheme
        raise BackupError(str(exc)) from None
    if path == ":memory:":
        raise BackupError("an in-memory database has nothing to back up or restore")
    return path


def in_use(path: str | Path) -> bool:
    """Whether some process (this one included) has the SQLite database at ``path`` open.

    Asks with an open-file-description lock query (``F_OFD_GETLK``), which sees the POSIX
    locks SQLite takes, this process's included, and takes and changes none."""
    shm = Path(f"{path}-shm")
    try:
        fd = os.open(shm, os.O_RDONLY)
    except FileNotFoundError:
        return False  # no WAL index: no connection in WAL mode is open
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, _SHM_DMS_BYTE, 1, 0)
        answer = fcntl.fcntl(fd, _F_OFD_GETLK, query)
        return int(struct.unpack(_FLOCK, answer)[0]) != fcntl.F_UNLCK
    finally:
        os.close(fd)


def _relay_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' AND name <> 'relay_schema' ORDER BY name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])  # noqa: S608 (catalog)
        for t in _relay_tables(conn)
    }


def _check(conn: sqlite3.Connection, what: str) -> None:
    problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    if problems != ["ok"]:
        raise BackupError(f"{what} is damaged: {'; '.join(problems[:5])}")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_sqlite(database: str | Path, destination: str | Path, *, force: bool) -> BackupResult:
    """Copy the live database at ``database`` to ``destination`` (refused when it exists,
    unless ``force``)."""
    source, dest = Path(database), Path(destination)
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if dest.exists() and not force:
        raise BackupError(f"{dest} exists; pass --force to replace it")
    if dest.resolve() == source.resolve():
        raise BackupError("the backup must not be the database itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    src = connect_read_only(source)
    try:
        if schema_version(src) is None:
            raise BackupError(f"{source} is not a relay database (no relay_schema table)")
        create_private(str(partial))  # 0600, as the database it copies
        out = sqlite3.connect(partial, isolation_level=None)
        try:
            src.backup(out)  # pages=-1: one step, one read transaction, one consistent copy
            out.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            _check(out, "the copy")
            version = schema_version(out) or 0
            counts = _counts(out)
        finally:
            out.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot back up {source}: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    with partial.open("rb") as f:
        os.fsync(f.fileno())
    partial.replace(dest)
    _fsync_dir(dest.parent)
    return BackupResult(dest, version, counts, dest.stat().st_size)


def restore_sqlite(backup: str | Path, database: str | Path, *, force: bool) -> BackupResult:
    """Replace the database at ``database`` by the backup at ``backup``."""
    source, dest = Path(backup), Path(database)
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    latest = len(_sqlite_schema.MIGRATIONS)
    try:
        src = connect_read_only(source)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read {source}: {exc}") from exc
    try:
        try:
            version = schema_version(src)
            _check(src, f"the backup {source}")
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite database: {exc}") from exc
        if version is None:
            raise BackupError(f"{source} is not a relay backup (no relay_schema table)")
        if version > latest:
            raise BackupError(
                f"{source} has schema version {version}, newer than this relay's ({latest}): "
                "restore it with the relay version that made it, or upgrade relay"
            )
        if dest.exists():
            if in_use(dest):
                raise BackupError(
                    f"{dest} is in use by a running process: stop relay (every instance and "
                    "command using it) before restoring"
                )
            if not force:
                raise BackupError(f"{dest} exists; pass --force to replace it with {source}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(f".{dest.name}.restoring")
        partial.unlink(missing_ok=True)
        create_private(str(partial))  # 0600, as the database it copies
        out = sqlite3.connect(partial, isolation_level=None)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode=WAL")  # as relay runs it
            counts = _counts(out)
        finally:
            out.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot restore {source}: {exc}") from exc
    finally:
        src.close()
    with partial.open("rb") as f:
        os.fsync(f.fileno())
    # The old database's WAL and index belong to it: a stale WAL would be replayed into the
    # restored file. Nothing has the database open (checked above).
    for suffix in ("-wal", "-shm"):
        Path(f"{dest}{suffix}").unlink(missing_ok=True)
    partial.replace(dest)
    _fsync_dir(dest.parent)
    return BackupResult(dest, version, counts, dest.stat().st_size)
