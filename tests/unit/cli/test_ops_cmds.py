"""``relay backup``, ``relay restore``, ``relay migrate-data`` and ``relay migrate --check``
as an operator runs them: what they print and their exit status."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from relay.cli import main
from relay.store import SqliteStore
from relay.store._sqlite_schema import MIGRATIONS
from tests.postgres import PgServer, create_schema, drop_schema, run_sync, with_search_path
from tests.unit.store.builders import delivery, event


async def make_db(path: Path, events: int) -> None:
    store = SqliteStore(path)
    await store.open()
    for _ in range(events):
        await store.insert_event(event(delivery()))
    await store.close()


def test_backup_then_restore_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, copy = tmp_path / "relay.db", tmp_path / "b" / "relay.backup"
    run_sync(make_db(db, 2))
    assert main(["backup", str(copy), "--db", f"sqlite:///{db}"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"backed up to {copy} (")
    assert f"schema version {len(MIGRATIONS)}: 2 events, 2 deliveries, 0 attempts)" in out
    assert main(["backup", str(copy), "--db", str(db)]) == 1
    assert "exists; pass --force" in capsys.readouterr().err
    run_sync(make_db(db, 1))
    assert main(["restore", str(copy), "--db", str(db)]) == 1
    assert "pass --force" in capsys.readouterr().err
    assert main(["restore", str(copy), "--db", str(db), "--force"]) == 0
    assert capsys.readouterr().out.startswith(f"restored {copy} to {db}")
    with closing(sqlite3.connect(db)) as conn, conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (2,)


def test_backup_and_restore_of_postgresql_point_to_pg_dump(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in ("backup", "restore"):
        assert main([command, "x.dump", "--db", "postgresql://relay@127.0.0.1:1/relay"]) == 2
        err = capsys.readouterr().err
        assert "pg_dump --format=custom" in err
        assert "pg_restore" in err


def test_migrate_check_says_whether_a_migration_is_pending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "relay.db"
    latest = len(MIGRATIONS)
    assert main(["migrate", "--check", "--db", str(db)]) == 1
    assert capsys.readouterr().out.strip() == (
        f"sqlite: database at version 0, this relay at {latest}: migration pending (relay migrate)"
    )
    assert not db.exists()  # checking creates nothing
    run_sync(make_db(db, 0))
    assert main(["migrate", "--check", "--db", str(db)]) == 0
    assert (
        capsys.readouterr()
        .out.strip()
        .endswith(f"version {latest}, this relay at {latest}: up to date")
    )
    older = tmp_path / "older.db"
    with closing(sqlite3.connect(older)) as conn, conn:  # a database of the previous release
        conn.execute("CREATE TABLE relay_schema (version INTEGER NOT NULL)")
        for version, script in enumerate(MIGRATIONS[:-1], start=1):
            conn.executescript(script)
            conn.execute("INSERT INTO relay_schema (version) VALUES (?)", (version,))
    capsys.readouterr()
    assert main(["migrate", "--check", "--db", str(older)]) == 1
    assert f"version {latest - 1}, this relay at {latest}: migration pending" in (
        capsys.readouterr().out
    )
    assert main(["migrate", "--db", str(older)]) == 0
    assert main(["migrate", "--check", "--db", str(older)]) == 0
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("INSERT INTO relay_schema (version) VALUES (?)", (latest + 1,))
    capsys.readouterr()
    assert main(["migrate", "--check", "--db", str(db)]) == 3
    assert "migrated by a newer relay" in capsys.readouterr().out


def test_migrate_check_of_an_unreachable_database_is_status_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["migrate", "--check", "--db", "postgresql://relay@127.0.0.1:1/relay"]) == 2
    assert capsys.readouterr().err.startswith("relay: cannot connect")


def test_migrate_check_on_postgresql(
    pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = pg_server.require()
    schema = run_sync(create_schema(server, "relay_check"))
    url = with_search_path(server, schema)
    try:
        assert main(["migrate", "--check", "--db", url]) == 1
        assert main(["migrate", "--db", url]) == 0
        capsys.readouterr()
        assert main(["migrate", "--check", "--db", url]) == 0
        assert capsys.readouterr().out.startswith("postgresql: database at version")
    finally:
        run_sync(drop_schema(server, schema))


def test_migrate_data_prints_the_rows_copied_per_table(
    tmp_path: Path, pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = pg_server.require()
    schema = run_sync(create_schema(server, "relay_copy"))
    url = with_search_path(server, schema)
    db = tmp_path / "relay.db"
    run_sync(make_db(db, 3))
    try:
        assert main(["migrate-data", "--from", f"sqlite:///{db}", "--to", url]) == 0
        out = capsys.readouterr().out
        assert "events: 3 rows\ndeliveries: 3 rows\nattempts: 0 rows\n" in out
        assert out.strip().endswith("Point RELAY_DATABASE_URL at the destination.")
        assert main(["migrate-data", "--from", str(db), "--to", url]) == 1
        assert "the destination is not empty: events (3 rows)" in capsys.readouterr().err
    finally:
        run_sync(drop_schema(server, schema))
