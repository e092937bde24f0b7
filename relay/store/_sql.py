"""Every statement written once: operations as generators of statements, run by a driver per
backend.

An operation (``Op``) is a generator that yields ``Q`` (one statement, ``?`` placeholders) or
``Notify`` (PostgreSQL tells the other instances of new work; SQLite has no others) and gets
each statement's answer sent back: the rows (tuples), one row or None, or the count of rows
changed. The decisions between the statements are plain Python, written once.

``run_sqlite`` runs an operation on a ``sqlite3`` connection (on the writer thread or a reader
thread); relay/store/_pg_sql.py's ``run_pg`` runs it on an asyncpg connection, with each
``?`` turned into ``$n`` (``pg_text``). Where the dialects really differ, a ``Q`` carries the
PostgreSQL text in ``pg`` (``locked`` adds PostgreSQL's row locks; SQLite has one writer).
The hot paths (SQLite's ingest, claim and finish; PostgreSQL's one-statement CTEs) do not go
through here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any, TypeAlias, TypeVar

__all__ = [
    "ALL",
    "COUNT",
    "MANY",
    "NONE",
    "ONE",
    "Dialect",
    "MakeOp",
    "Notify",
    "Op",
    "Q",
    "Step",
    "Where",
    "like_pattern",
    "locked",
    "pg_text",
    "run_sqlite",
    "values_sql",
]

T = TypeVar("T")

#: What a ``Q`` answers: nothing, every row, the first row (or None), the rows it changed.
NONE, ALL, ONE, COUNT, MANY = "none", "all", "one", "count", "many"


class Dialect(Enum):
    SQLITE = "sqlite"
    POSTGRES = "postgresql"


@dataclass(frozen=True, slots=True)
class Q:
    """One statement. ``params``: its values (with ``MANY``, a sequence of such tuples).
    ``pg``: PostgreSQL's text when it is not ``sql``'s."""

    sql: str
    params: Sequence[Any] = ()
    want: str = NONE
    pg: str | None = None


@dataclass(frozen=True, slots=True)
class Notify:
    """``targets`` have claimable work (PostgreSQL: ``pg_notify`` on commit)."""

    targets: Sequence[str]


Step: TypeAlias = Q | Notify
Op: TypeAlias = Generator[Step, Any, T]
#: What the backends are handed: a generator runs once, and SQLite's group commit may run a
#: write again (its batch is undone and run job by job when one of them fails).
MakeOp: TypeAlias = Callable[[], Op[T]]


def locked(sql: str, params: Sequence[Any] = (), want: str = ALL, how: str = "FOR UPDATE") -> Q:
    """A SELECT whose rows PostgreSQL locks (``how``) for the transaction."""
    return Q(sql, params, want, pg=f"{sql} {how}")


@lru_cache(maxsize=1024)
def pg_text(sql: str) -> str:
    """``sql`` with each ``?`` outside quoted literals written as ``$1``, ``$2``, ..."""
    parts = sql.split("'")
    n = 0
    for i in range(0, len(parts), 2):  # even pieces are outside quotes
        pieces = parts[i].split("?")
        text = pieces[0]
        for piece in pieces[1:]:
            n += 1
            text += f"${n}{piece}"
        parts[i] = text
    return "'".join(parts)


def values_sql(values: Sequence[Any]) -> str:
    """A literal list of fixed values (status names, never user input) for ``IN (...)``."""
    return ", ".join(f"'{v.value if isinstance(v, Enum) else v}'" for v in values)


def like_pattern(text: str) -> str:
    """A case-insensitive ``LIKE ... ESCAPE '\\'`` pattern for a substring of ``text``."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Where:
    """A WHERE clause built from fixed SQL fragments (``?`` placeholders); values only ever
    go to parameters."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def any_of(self, column: str, values: Sequence[Any], *, negate: bool = False) -> None:
        """``column`` is (``negate``: is not) one of ``values`` (text)."""
        if self.dialect is Dialect.POSTGRES:
            clause = f"{column} = ANY(?::text[])"
            self.add(f"NOT ({clause})" if negate else clause, list(values))
        else:
            marks = ", ".join("?" for _ in values)  # SQLite takes an empty list
            self.add(f"{column} {'NOT IN' if negate else 'IN'} ({marks})", *values)

    def like(self, columns: Sequence[str], text: str) -> None:
        """Any of ``columns`` (lower-cased) holds ``text``, in any case."""
        ors = " OR ".join(f"lower({c}) LIKE ? ESCAPE '\\'" for c in columns)
        self.add(f"({ors})", *([like_pattern(text)] * len(columns)))

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""

    def page(
        self, column: str, before: str | None, after: str | None, limit: int
    ) -> tuple[str, list[Any]]:
        """The cursor bounds and the ORDER BY/LIMIT tail (see relay/store/log_queries.py)."""
        if before is not None:
            self.add(f"{column} < ?", before)
        if after is not None:
            self.add(f"{column} > ?", after)
        order = "ASC" if after is not None else "DESC"
        return f"{self.sql()} ORDER BY {column} {order} LIMIT ?", [*self.params, max(0, limit)]


def _execute(conn: sqlite3.Connection, q: Q) -> Any:
    if q.want == MANY:
        conn.executemany(q.sql, q.params)
        return None
    cursor = conn.execute(q.sql, q.params)
    if q.want == ALL:
        return cursor.fetchall()
    if q.want == ONE:
        return cursor.fetchone()
    if q.want == COUNT:
        return cursor.rowcount
    return None


def run_sqlite(conn: sqlite3.Connection, make: MakeOp[T]) -> T:
    """Run the operation ``make()`` on ``conn`` (inside the caller's transaction, if any)."""
    op = make()
    try:
        step = next(op)
        while True:
            step = op.send(None if isinstance(step, Notify) else _execute(conn, step))
    except StopIteration as done:
        result: T = done.value
        return result
