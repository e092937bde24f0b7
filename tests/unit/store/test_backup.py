"""``relay backup`` / ``relay restore`` on SQLite: a consistent copy taken while another
process keeps writing, and a restore that refuses what would lose data."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from relay.store import SqliteStore
from relay.store._sqlite_schema import MIGRATIONS
from relay.store.backup import BackupError, backup_sqlite, in_use, restore_sqlite
from tests.unit.store.builders import delivery, event

ROOT = Path(__file__).resolve().parents[3]


@contextmanager
def writer(db: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process inserting events into ``db`` as fast as it can."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.unit.store.sqlite_writer_proc", str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def holder(db: Path) -> Iterator[None]:
    """Another process with the database open and idle (as a running relay has it)."""
    code = (
        "import sqlite3, sys, time\n"  # noqa: S608 (a test query)
        f"c = sqlite3.connect({str(db)!r}); c.execute('PRAGMA journal_mode=WAL')\n"
        "c.execute('SELECT count(*) FROM events').fetchone(); print('open', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "open"
        yield
    finally:
        proc.kill()
        proc.wait()


def count(db: Path, table: str) -> int:
    with closing(sqlite3.connect(db)) as conn, conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


async def make_db(path: Path, events: int = 3) -> None:
    store = SqliteStore(path)
    await store.open()
    for _ in range(events):
        await store.insert_event(event(delivery(route="a"), delivery(route="b")))
    await store.close()


def test_a_backup_taken_while_another_process_writes_is_one_consistent_state(
    tmp_path: Path,
) -> None:
    db, copy = tmp_path / "relay.db", tmp_path / "backups" / "relay.backup"
    with writer(db):
        while count(db, "events") < 200:
            pass
        done = backup_sqlite(db, copy, force=False)
        while count(db, "events") <= done.counts["events"]:
            pass  # the writer went on after the copy: the copy was taken under load
    with closing(sqlite3.connect(copy)) as conn, conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        deliveries = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        orphans = conn.execute(
            "SELECT count(*) FROM events e WHERE (SELECT count(*) FROM deliveries d "
            "WHERE d.event_id = e.id) <> 2"
        ).fetchone()[0]
        version = conn.execute("SELECT max(version) FROM relay_schema").fetchone()[0]
    assert events >= 200
    assert (deliveries, orphans) == (2 * events, 0)
    assert done.counts["events"] == events
    assert version == done.schema_version == len(MIGRATIONS)
    assert not (tmp_path / "backups" / ".relay.backup.partial").exists()


async def test_a_backup_never_replaces_a_file_without_force(tmp_path: Path) -> None:
    db, copy = tmp_path / "relay.db", tmp_path / "relay.backup"
    await make_db(db)
    copy.write_bytes(b"precious")
    with pytest.raises(BackupError, match="exists; pass --force"):
        backup_sqlite(db, copy, force=False)
    assert copy.read_bytes() == b"precious"
    assert backup_sqlite(db, copy, force=True).counts["events"] == 3


def test_a_backup_of_a_file_that_is_not_a_relay_database_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn, conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupError, match="not a relay database"):
        backup_sqlite(other, tmp_path / "b", force=False)
    with pytest.raises(BackupError, match="no database at"):
        backup_sqlite(tmp_path / "missing.db", tmp_path / "b", force=False)


async def test_restore_puts_the_backup_in_place_of_a_stopped_database(tmp_path: Path) -> None:
    db, copy = tmp_path / "relay.db", tmp_path / "relay.backup"
    await make_db(db, events=3)
    backup_sqlite(db, copy, force=False)
    store = SqliteStore(db)
    await store.open()
    await store.insert_event(event(delivery()))  # after the backup: lost by the restore
    await store.close()
    assert count(db, "events") == 4
    done = restore_sqlite(copy, db, force=True)
    assert (done.counts["events"], count(db, "events")) == (3, 3)
    store = SqliteStore(db)
    await store.open()  # relay opens the restored file and writes to it
    await store.insert_event(event(delivery()))
    await store.close()
    assert count(db, "events") == 4


async def test_restore_refuses_an_existing_database_without_force(tmp_path: Path) -> None:
    db, copy = tmp_path / "relay.db", tmp_path / "relay.backup"
    await make_db(db, events=2)
    backup_sqlite(db, copy, force=False)
    await make_db(db, events=1)
    with pytest.raises(BackupError, match="exists; pass --force"):
        restore_sqlite(copy, db, force=False)
    assert count(db, "events") == 3
    fresh = tmp_path / "new" / "relay.db"
    assert restore_sqlite(copy, fresh, force=False).counts["events"] == 2


async def test_restore_refuses_a_database_in_use_even_with_force(tmp_path: Path) -> None:
    db, copy = tmp_path / "relay.db", tmp_path / "relay.backup"
    await make_db(db, events=2)
    backup_sqlite(db, copy, force=False)
    await make_db(db, events=1)
    with holder(db):
        assert in_use(db)
        with pytest.raises(BackupError, match="in use by a running process"):
            restore_sqlite(copy, db, force=True)
    assert not in_use(db)
    assert count(db, "events") == 3


async def test_in_use_sees_a_connection_of_this_process_too(tmp_path: Path) -> None:
    db = tmp_path / "relay.db"
    await make_db(db, events=1)
    store = SqliteStore(db)
    await store.open()
    await store.insert_event(event(delivery()))
    try:
        assert in_use(db)
    finally:
        await store.close()
    assert not in_use(db)


async def test_restore_refuses_a_backup_from_a_newer_relay(tmp_path: Path) -> None:
    db, copy = tmp_path / "relay.db", tmp_path / "relay.backup"
    await make_db(db, events=1)
    backup_sqlite(db, copy, force=False)
    with closing(sqlite3.connect(copy)) as conn, conn:
        conn.execute("INSERT INTO relay_schema (version) VALUES (?)", (len(MIGRATIONS) + 1,))
    with pytest.raises(BackupError, match="newer than this relay"):
        restore_sqlite(copy, tmp_path / "fresh.db", force=False)
    assert not (tmp_path / "fresh.db").exists()


def test_restore_refuses_what_is_not_a_relay_backup(tmp_path: Path) -> None:
    junk, plain = tmp_path / "junk", tmp_path / "plain.db"
    junk.write_bytes(b"not a database at all" * 100)
    with closing(sqlite3.connect(plain)) as conn, conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupError, match="not a SQLite database"):
        restore_sqlite(junk, tmp_path / "relay.db", force=False)
    with pytest.raises(BackupError, match="not a relay backup"):
        restore_sqlite(plain, tmp_path / "relay.db", force=False)


async def test_a_backup_and_a_restored_database_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    """They hold what the database holds (event bodies, handed-over secrets): 0600 whatever
    the umask, as relay creates the database itself."""
    db, copy, restored = tmp_path / "relay.db", tmp_path / "relay.backup", tmp_path / "new.db"
    await make_db(db, events=1)
    old = os.umask(0o022)
    try:
        backup_sqlite(db, copy, force=False)
        restore_sqlite(copy, restored, force=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert stat.S_IMODE(restored.stat().st_mode) == 0o600
