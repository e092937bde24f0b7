"""LISTEN on the schema's work channel: one dedicated connection per instance.

Every transaction that stores or re-queues deliveries ends with ``pg_notify(channel,
target)``; PostgreSQL delivers it to every listening session when (and only if) that
transaction commits. The callback runs on the event loop and only wakes a worker loop, so a
missed notification (the connection dropped) costs at most one poll interval: the worker's
poll is the safety net, and the connection is opened again with a capped backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg

from relay.logs import get_logger
from relay.store._pg_sql import Conn

__all__ = ["WorkListener"]


class WorkListener:
    def __init__(
        self,
        connect: Callable[[], Awaitable[Conn]],
        channel: str,
        callback: Callable[[str], None],
        *,
        max_backoff: float = 10.0,
    ) -> None:
        self._connect = connect
        self._channel = channel
        self._callback = callback
        self._max_backoff = max_backoff
        self._conn: Conn | None = None
        self._reconnect: asyncio.Task[None] | None = None
        self._stopped = False
        self._log = get_logger()

    async def start(self) -> None:
        await self._listen()

    async def stop(self) -> None:
        self._stopped = True
        if self._reconnect is not None:
            self._reconnect.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect
            self._reconnect = None
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.remove_termination_listener(self._lost)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=5.0)

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def _listen(self) -> None:
        conn = await self._connect()
        await conn.add_listener(self._channel, self._heard)
        conn.add_termination_listener(self._lost)
        self._conn = conn

    def _heard(
        self,
        conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
        pid: int,
        channel: str,
        payload: object,
    ) -> None:
        self._callback(str(payload))

    def _lost(self, conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy) -> None:
        if self._stopped or self._reconnect is not None:
            return
        self._log.warning("relay.store.listen_lost", channel=self._channel)
        self._reconnect = asyncio.get_running_loop().create_task(self._again())

    async def _again(self) -> None:
        delay = 0.2
        while not self._stopped:
            await asyncio.sleep(delay)
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                self._log.warning("relay.store.listen_retry", error=str(exc), delay=delay)
                delay = min(delay * 2, self._max_backoff)
                continue
            self._log.info("relay.store.listening", channel=self._channel)
            break
        self._reconnect = None
