"""Small pieces the PostgreSQL modules share: status lists, text cleaning, and ``run_pg``,
the driver of the operations written once (relay/store/_sql.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from relay._utf8 import utf8_text
from relay.store._sql import ALL, COUNT, MANY, ONE, MakeOp, Notify, Q, pg_text
from relay.store.base import CLAIMABLE, FINAL

__all__ = ["CLAIMABLE_VALUES", "FINAL_VALUES", "Conn", "clean", "notify", "run_pg", "status_count"]

T = TypeVar("T")

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


def status_count(status: str) -> int:
    """The row count of a command status such as ``DELETE 3``."""
    return int(status.rsplit(" ", 1)[-1])


async def notify(conn: Conn, channel: str, targets: Sequence[str]) -> None:
    """Tell every instance (on commit) that ``targets`` have claimable work."""
    if targets:
        await conn.execute(
            "SELECT pg_notify($1, t) FROM unnest($2::text[]) AS t", channel, sorted(set(targets))
        )


def _cleaned(params: Sequence[Any]) -> list[Any]:
    return [clean(p) if type(p) is str else p for p in params]


async def _execute(conn: Conn, q: Q) -> Any:
    sql = pg_text(q.sql if q.pg is None else q.pg)
    if q.want == MANY:
        await conn.executemany(sql, [_cleaned(row) for row in q.params])
        return None
    params = _cleaned(q.params)
    if q.want == ALL:
        return [tuple(r) for r in await conn.fetch(sql, *params)]
    if q.want == ONE:
        row = await conn.fetchrow(sql, *params)
        return None if row is None else tuple(row)
    status = await conn.execute(sql, *params)
    return status_count(status) if q.want == COUNT else None


async def run_pg(conn: Conn, make: MakeOp[T], channel: str = "") -> T:
    """Run the operation ``make()`` on ``conn`` (inside the caller's transaction, if any);
    its ``Notify`` steps go to ``channel``."""
    op = make()
    try:
        step = next(op)
        while True:
            if isinstance(step, Notify):
                await notify(conn, channel, step.targets)
                answer = None
            else:
                answer = await _execute(conn, step)
            step = op.send(answer)
    except StopIteration as done:
        result: T = done.value
        return result
