"""Liveness tokens: a dead instance's leases are taken back at once, not after the lease ttl.

Each lease owner (the instance id a ``relay serve`` claims with) holds a session-level
advisory lock, its token, on a connection of its own, and is listed in ``lease_owners``.
PostgreSQL releases a session's locks when the session ends: the process was killed (kill
-9, OOM) and its socket closed, the session was terminated, or the server's TCP keepalive
gave up on a lost machine or a cut network (this connection sets it to about 20 s). So a
listed owner whose key another session can lock is gone: ``recover_dead`` locks it for the
length of its transaction and hands that owner's leases (attempts in flight, and checks of
running runs) to the recovery of expired leases (``recover_expired`` selecting by owner:
what becomes of a recovered delivery is decided there, in one place), then forgets the
owner.

- **Key**: the one-bigint form of the advisory lock (relay's other locks use the two-int
  form: another key space), a 64-bit hash (md5's first 16 hex digits) of
  ``relay.liveness:<schema>:<owner>``, computed in SQL so that every instance derives the
  same number. The prefix keeps it apart from other applications' locks on the database.
- **Only listed owners are judged.** An instance that never took a token (a relay from before
  the tokens, during a rolling update) is not listed: its leases are only taken back once
  expired, never because its (absent) token is free.
- **The owner itself** is never judged gone by its own store (``mine``). When its token's
  connection drops while it lives, the others may take its leases back (as when a live
  instance cannot renew its leases for the lease ttl); its late ``finish_attempt`` then moves
  nothing (only a delivery still in flight in the same attempt moves). It takes the token
  again as soon as it notices (the connection's termination, the next check or claim), before
  claiming anything more.
- **Session connections only**: a transaction pooler (pgbouncer ``pool_mode = transaction``)
  hands the token's session to other clients and keeps it when relay dies. relay needs a
  direct or session-pooled connection (so does LISTEN); a changed backend pid under an open
  token connection is logged as ``relay.store.liveness_not_a_session``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

import asyncpg

from relay.clock import Clock
from relay.logs import get_logger
from relay.store._moves import recover_expired
from relay.store._pg_sql import Conn, run_pg
from relay.store._sql import Dialect
from relay.store.base import StoreUnavailable

__all__ = ["KEEPALIVE", "LivenessToken", "recover_dead"]


def _key(owner_sql: str) -> str:
    """SQL for the bigint lock key of the owner named by ``owner_sql``."""
    return (
        "('x' || left(md5('relay.liveness:' || current_schema() || ':' || "
        f"{owner_sql}), 16))::bit(64)::bigint"
    )


#: The token connection's server side gives up on a silent peer after about 5 + 3 x 5 s.
KEEPALIVE = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
}

_TAKE = f"SELECT pg_try_advisory_lock({_key('$1::text')})"
_LIST = "INSERT INTO lease_owners (owner, since) VALUES ($1, $2) ON CONFLICT (owner) DO NOTHING"
# Listed owners (but ours) whose key this transaction can lock: their sessions are gone. The
# lock is held to the commit, so a returning owner takes its token after the recovery.
_DEAD = f"""
WITH listed AS MATERIALIZED (
    SELECT owner FROM lease_owners WHERE owner <> ALL($1::text[])
)
SELECT owner FROM listed WHERE pg_try_advisory_xact_lock({_key("owner")}) ORDER BY owner
"""  # noqa: S608 (a fixed expression)
_FORGET = "DELETE FROM lease_owners WHERE owner = ANY($1::text[])"
_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


async def recover_dead(
    conn: Conn, now: float, mine: Sequence[str], channel: str
) -> tuple[list[str], list[str]]:
    """(the owners found gone, the deliveries recovered from them); in the caller's
    transaction."""
    dead = [str(r[0]) for r in await conn.fetch(_DEAD, list(mine))]
    if not dead:
        return [], []
    op = partial(recover_expired, Dialect.POSTGRES, now, None, owners=dead)
    recovered = await run_pg(conn, op, channel)
    await conn.execute(_FORGET, dead)
    return dead, recovered


class LivenessToken:
    """The tokens of the owners one store claims for, on one dedicated connection."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[Conn]],
        clock: Clock,
        *,
        tries: int = 40,
        retry_delay: float = 0.05,
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._tries = tries
        self._retry_delay = retry_delay
        self._conn: Conn | None = None
        self._pid: int | None = None
        self._owners: dict[str, bool] = {}  # owner -> its token is held (False: key busy)
        self._lock = asyncio.Lock()
        self._retake: asyncio.Task[None] | None = None
        self._stopped = False
        self._warned_pid = False
        self._log = get_logger()

    @property
    def owners(self) -> list[str]:
        """Every owner this store claims for (held or being taken again)."""
        return list(self._owners)

    def held(self, owner: str) -> bool:
        return self._owners.get(owner, False) and self._alive()

    @property
    def pid(self) -> int | None:
        """The backend pid of the token's session (None: not connected)."""
        return self._pid if self._alive() else None

    def _alive(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def hold(self, owner: str) -> None:
        """Hold ``owner``'s token before the first claim for it, and again after its
        connection was lost; ``StoreUnavailable`` when the database cannot be reached."""
        if owner in self._owners and self._alive():
            return
        async with self._lock:
            if self._stopped:
                raise StoreUnavailable("store is closed")
            try:
                if not self._alive():
                    await self._reconnect()
                if owner not in self._owners:
                    assert self._conn is not None
                    self._owners[owner] = await self._take(self._conn, owner)
            except _ERRORS as exc:
                raise StoreUnavailable(f"cannot hold the liveness token: {exc}") from exc

    async def keep(self) -> None:
        """A round trip on the token's connection (found dead: taken again), and a check
        that its session is still the one that took the tokens."""
        if not self._owners or self._stopped:
            return
        async with self._lock:
            try:
                if self._alive():
                    assert self._conn is not None
                    pid = await self._conn.fetchval("SELECT pg_backend_pid()", timeout=10.0)
                    if pid != self._pid and not self._warned_pid:
                        self._warned_pid = True
                        self._log.error(
                            "relay.store.liveness_not_a_session",
                            hint="liveness tokens need a direct or session-pooled connection",
                        )
                if not self._alive():
                    await self._reconnect()
            except _ERRORS as exc:
                self._log.warning("relay.store.liveness_retake_failed", error=str(exc))
                await self._drop()

    async def stop(self) -> None:
        """Release every token (closing the session does)."""
        self._stopped = True
        if self._retake is not None:
            self._retake.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retake
            self._retake = None
        async with self._lock:
            await self._drop()

    async def _reconnect(self) -> None:
        await self._drop()
        conn = await self._connect()
        try:
            self._pid = int(await conn.fetchval("SELECT pg_backend_pid()"))
            for owner in self._owners:
                self._owners[owner] = await self._take(conn, owner)
        except BaseException:
            with contextlib.suppress(Exception):
                conn.terminate()
            raise
        conn.add_termination_listener(self._lost)
        self._conn = conn
        if self._owners:
            self._log.info("relay.store.liveness_taken", owners=len(self._owners), pid=self._pid)

    async def _take(self, conn: Conn, owner: str) -> bool:
        """Lock ``owner``'s key, then list it. A recovery of this owner holds the key for
        its transaction: wait for it. Still busy after that (a second instance with the same
        id, or a hash collision): no token, and the leases fall back on their expiry."""
        for _ in range(self._tries):
            if await conn.fetchval(_TAKE, owner):
                await conn.execute(_LIST, owner, self._clock.now())
                return True
            await asyncio.sleep(self._retry_delay)
        self._log.error("relay.store.liveness_key_busy", owner=owner)
        return False

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.remove_termination_listener(self._lost)
            try:
                await asyncio.wait_for(conn.close(), timeout=5.0)
            except Exception:
                conn.terminate()

    def _lost(self, conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy) -> None:
        if self._stopped or conn is not self._conn or self._retake is not None:
            return
        self._log.warning("relay.store.liveness_lost", owners=len(self._owners))
        self._retake = asyncio.get_running_loop().create_task(self._again())

    async def _again(self) -> None:
        """Take the tokens again, without waiting for the next claim or check."""
        delay = 0.05
        try:
            while not self._stopped:
                async with self._lock:
                    if self._alive():
                        return
                    try:
                        await self._reconnect()
                        return
                    except _ERRORS as exc:
                        self._log.warning("relay.store.liveness_retake_failed", error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        finally:
            self._retake = None
