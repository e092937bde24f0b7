"""Small pieces the PostgreSQL modules share: status lists, text cleaning, filters."""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from relay._utf8 import utf8_text
from relay.store.base import CLAIMABLE, FINAL, DeliveryFilter

__all__ = ["CLAIMABLE_VALUES", "FINAL_VALUES", "Conn", "clean", "filter_sql", "status_count"]

#: A connection of its own or one lent by the pool.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

CLAIMABLE_VALUES = [s.value for s in CLAIMABLE]
FINAL_VALUES = [s.value for s in FINAL]


def clean(text: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL (SQLite can), nor, as UTF-8, a lone surrogate (written
    as its escape, ``relay._text``). Keep everything else as it is."""
    if text is None:
        return None
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return utf8_text(text)


def filter_sql(selection: DeliveryFilter, first: int = 1) -> tuple[str, list[Any]]:
    """WHERE clause (parameters from ``$first``) for a ``DeliveryFilter``; values bound."""
    params: list[Any] = [[s.value for s in selection.statuses]]
    clauses = [f"status = ANY(${first}::text[])"]
    for column, op, value in (
        ("route", "=", selection.route),
        ("target", "=", selection.target),
        ("updated_at", ">=", selection.since),
    ):
        if value is not None:
            params.append(value)
            clauses.append(f"{column} {op} ${first + len(params) - 1}")
    if selection.reason is not None:
        params.append(selection.reason)
        n = first + len(params) - 1
        clauses.append(f"strpos(lower(coalesce(last_error, '')), lower(${n})) > 0")
    return " WHERE " + " AND ".join(clauses), params


def status_count(status: str) -> int:
    """The row count of a command status such as ``DELETE 3``."""
    return int(status.rsplit(" ", 1)[-1])
