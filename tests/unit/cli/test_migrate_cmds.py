"""``relay migrate``: creates or upgrades the schema, says what it did, changes nothing the
second time; a database it cannot reach is an error, not a traceback."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from relay.cli import main
from relay.serve import _redacted
from relay.store._sqlite_schema import MIGRATIONS


def test_migrate_creates_a_new_sqlite_database_then_finds_nothing_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "data" / "relay.db"
    assert main(["migrate", "--db", str(db)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"sqlite schema migrated from version 0 to {len(MIGRATIONS)}"
    )
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT max(version) FROM relay_schema").fetchone() == (
            len(MIGRATIONS),
        )
    assert main(["migrate", "--db", f"sqlite:///{db}"]) == 0
    assert capsys.readouterr().out.strip() == f"sqlite schema already at version {len(MIGRATIONS)}"


def test_migrate_reads_the_database_url_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "env.db"
    monkeypatch.setenv("RELAY_DATABASE_URL", str(db))
    assert main(["migrate"]) == 0
    assert db.is_file()
    assert "migrated" in capsys.readouterr().out


def test_migrate_of_an_unreachable_postgresql_is_an_error_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["migrate", "--db", "postgresql://relay@127.0.0.1:1/relay"]) == 1
    assert capsys.readouterr().err.startswith("relay: cannot connect")


def test_the_banner_never_shows_the_database_password() -> None:
    shown = _redacted("postgresql://relay:s3cret-pw@db.internal:5432/relay?search_path=r")
    assert shown == "postgresql://relay:***@db.internal:5432/relay?search_path=r"
    assert _redacted("postgresql://relay@db/relay") == "postgresql://relay@db/relay"


def test_migrate_creates_the_database_readable_by_its_owner_only(tmp_path: Path) -> None:
    """As relay serve does (it holds event bodies and handed-over secrets), whatever the umask."""
    db = tmp_path / "relay.db"
    old = os.umask(0o022)
    try:
        assert main(["migrate", "--db", str(db)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
