"""The SQLite files' permissions: created readable by their owner only (0600), whatever the
umask, since they hold event bodies and handed-over secrets; wider existing ones are reported.

SQLite creates ``-wal`` and ``-shm`` with the permissions of the database file, so creating
that one 0600 before SQLite opens it is enough; ``relay serve``'s lock file is made 0600 too.
"""

from __future__ import annotations

import os
import stat

__all__ = ["SUFFIXES", "create_private", "open_private", "too_open"]

SUFFIXES = ("", "-wal", "-shm", ".lock")
_PRIVATE = 0o600


def create_private(path: str) -> None:
    """Create ``path`` empty and 0600 if it does not exist (an existing one is untouched)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _PRIVATE)
    except FileExistsError:
        return
    os.close(fd)


def open_private(path: str) -> int:
    """A descriptor on ``path`` for appending, the file created 0600 if it is new."""
    return os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, _PRIVATE)


def too_open(database: str) -> list[tuple[str, int]]:
    """The database's files (itself, ``-wal``, ``-shm``, ``.lock``) that others may read or
    write: (path, permission bits)."""
    found = []
    for suffix in SUFFIXES:
        path = database + suffix
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            continue
        if mode & 0o077:
            found.append((path, mode))
    return found
