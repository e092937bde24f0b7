"""The statement helper the SQL stores share (relay/store/_sql.py): one text, two dialects."""

from __future__ import annotations

import sqlite3

from relay.store._sql import ALL, COUNT, Dialect, Notify, Op, Q, Where, pg_text, run_sqlite


def test_placeholders_become_numbered_outside_quoted_literals() -> None:
    sql = "SELECT a FROM t WHERE b = ? AND c LIKE ? ESCAPE '\\' AND d = '?' AND e IN (?, ?)"
    assert pg_text(sql) == (
        "SELECT a FROM t WHERE b = $1 AND c LIKE $2 ESCAPE '\\' AND d = '?' AND e IN ($3, $4)"
    )


def test_a_list_filter_is_an_in_list_on_sqlite_and_any_on_postgresql() -> None:
    lite, pg = Where(Dialect.SQLITE), Where(Dialect.POSTGRES)
    for w in (lite, pg):
        w.add("a = ?", 1)
        w.any_of("b", ["x", "y"])
        w.any_of("c", [], negate=True)
    assert (lite.sql(), lite.params) == (
        " WHERE a = ? AND b IN (?, ?) AND c NOT IN ()",
        [1, "x", "y"],
    )
    assert pg.sql() == " WHERE a = ? AND b = ANY(?::text[]) AND NOT (c = ANY(?::text[]))"
    assert pg.params == [1, ["x", "y"], []]


def test_an_empty_exclusion_list_excludes_nothing_on_sqlite() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (c TEXT)")
    conn.execute("INSERT INTO t VALUES ('x')")
    w = Where(Dialect.SQLITE)
    w.any_of("c", [], negate=True)
    assert conn.execute(f"SELECT c FROM t{w.sql()}", w.params).fetchall() == [("x",)]  # noqa: S608


def _op(value: str) -> Op[tuple[int, list[tuple[str]]]]:
    changed: int = yield Q("INSERT INTO t VALUES (?)", (value,), COUNT)
    yield Notify(["target"])  # SQLite has no other instance to tell: nothing is sent
    rows = yield Q("SELECT c FROM t ORDER BY c", (), ALL)
    return changed, rows


def test_an_operation_runs_on_sqlite_and_can_be_run_again_from_its_factory() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (c TEXT)")
    assert run_sqlite(conn, lambda: _op("a")) == (1, [("a",)])
    assert run_sqlite(conn, lambda: _op("b")) == (1, [("a",), ("b",)])
