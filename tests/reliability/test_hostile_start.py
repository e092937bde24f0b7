"""``relay serve`` started on files it cannot write: a read-only lock file, a read-only
database. Each is one clear message on stderr and a non-zero exit status, never a Python
traceback. (Root writes files whatever their mode: as root, the file is made immutable with
``chattr +i`` for the test, and mutable again after it.)"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import free_port, write_config


@contextmanager
def _read_only(path: Path) -> Iterator[None]:
    path.chmod(0o400)  # read-only, and not readable by others (that would be warned about)
    immutable = os.geteuid() == 0
    if immutable:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o644)


def _serve(tmp_path: Path, db: Path) -> subprocess.CompletedProcess[str]:
    config = write_config(tmp_path / "relay.yaml")
    args = [sys.executable, "-m", "relay", "serve", "--config", str(config), "--db", str(db)]
    return subprocess.run(
        [*args, "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_clear_message(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("relay: ")
    assert expected in lines[0]


def test_read_only_lock_file_is_one_message_and_a_failing_exit(tmp_path: Path) -> None:
    lock = tmp_path / "relay.db.lock"
    lock.touch()
    with _read_only(lock):
        done = _serve(tmp_path, tmp_path / "relay.db")
    _one_clear_message(done, "cannot open the lock file")


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_read_only_database_is_one_message_and_a_failing_exit(tmp_path: Path, journal: str) -> None:
    """``wal``: a file relay has served is in WAL mode, and opening it writes nothing (its
    journal mode already set, its schema current): the store's open tries a write that
    changes nothing, so a read-only file is told at the start, not by the worker's first
    write as a traceback."""
    db = tmp_path / "relay.db"
    migrated = subprocess.run(
        [sys.executable, "-m", "relay", "migrate", "--db", str(db)],
        capture_output=True,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    conn = sqlite3.connect(db)
    try:
        assert conn.execute(f"PRAGMA journal_mode={journal}").fetchone() == (journal,)
    finally:
        conn.close()
    with _read_only(db):
        done = _serve(tmp_path, db)
    _one_clear_message(done, "readonly database")
