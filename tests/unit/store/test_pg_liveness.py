"""Liveness tokens on the real PostgreSQL server: the leases of an instance whose session
ended are taken back on the next sweep, long before they expire (a 600 s lease ttl here, so
that only the token can explain it); a live instance's leases never are, not even by itself
while it is taking its token again; an instance that lost its token takes it again, and its
late answers move nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from relay.store import SqliteStore
from relay.store.base import DeliveryStatus
from relay.store.postgres import PostgresStore
from tests.helpers import FakeClock, free_port
from tests.postgres import create_schema, drop_schema, open_clean_store, with_search_path
from tests.unit.store.builders import NOW, TARGET, AnyStore, delivery, event, result

S = DeliveryStatus
TTL = 600.0  # far longer than any test: an expired lease cannot explain a recovery
ATTEMPT = 900.0  # the longest an attempt may take (the claim's lease_seconds)


class CuttableLink:
    """A TCP link between a store and the PostgreSQL server that the test cuts: to both ends
    it is a network cut (their sockets close), and new connections are refused until
    ``resume``."""

    def __init__(self, server_url: str) -> None:
        parts = urlsplit(server_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._port = free_port()
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()

    def url(self, server_url: str) -> str:
        """``server_url`` through the link."""
        parts = urlsplit(server_url)
        user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{self._port}"))

    async def resume(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self._port)

    def refuse_new(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def cut(self) -> None:
        self.refuse_new()
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def close(self) -> None:
        self.cut()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        self._links |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pump = asyncio.create_task(self._pump(source, sink, (writer, up_writer)))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        for writer in pair:  # one side ended: so does the other
            self._links.discard(writer)
            writer.transport.abort()


@pytest.fixture
async def link(pg_url: str) -> AsyncIterator[CuttableLink]:
    opened = CuttableLink(pg_url)
    await opened.resume()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def survivor(pg_url: str) -> AsyncIterator[PostgresStore]:
    store = await open_clean_store(pg_url, clock=FakeClock(NOW), lease_ttl=TTL)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def victim(survivor: PostgresStore, link: CuttableLink) -> AsyncIterator[PostgresStore]:
    """A second instance on the same database, reaching it through ``link``."""
    store = PostgresStore(link.url(survivor.url), clock=FakeClock(NOW), lease_ttl=TTL)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def _pids(url: str) -> set[int]:
    conn = await asyncpg.connect(url)
    try:
        return {int(r[0]) for r in await conn.fetch("SELECT pid FROM pg_stat_activity")}
    finally:
        await conn.close()


async def _terminate(url: str, pid: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(1000):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def _gone(url: str, pid: int | None) -> bool:
    assert pid is not None
    return pid not in await _pids(url)


async def _status(store: AnyStore, delivery_id: str) -> S:
    record = await store.get_delivery(delivery_id)
    assert record is not None
    return record.status


async def test_a_live_instances_leases_are_never_taken(
    survivor: PostgresStore, victim: PostgresStore
) -> None:
    await survivor.insert_event(event(delivery(), delivery(), delivery()))
    theirs = await victim.claim(TARGET, 2, NOW, "victim", ATTEMPT)
    mine = await survivor.claim(TARGET, 1, NOW, "survivor", ATTEMPT)
    for _ in range(3):
        assert await survivor.recover_dead(NOW + 1, "survivor") == []
        assert await victim.recover_dead(NOW + 1, "victim") == []
    for claimed in [*theirs, *mine]:
        assert await _status(survivor, claimed.delivery.id) is S.IN_FLIGHT


async def test_an_instance_cut_off_from_the_database_loses_its_leases_on_the_next_sweep(
    survivor: PostgresStore, victim: PostgresStore, link: CuttableLink
) -> None:
    await survivor.insert_event(event(delivery(), delivery(idempotent=True), delivery()))
    theirs = await victim.claim(TARGET, 2, NOW, "victim", ATTEMPT)
    (mine,) = await survivor.claim(TARGET, 1, NOW, "survivor", ATTEMPT)
    token = victim.liveness_pid
    assert await survivor.recover_expired(NOW + 60) == []  # nothing expires for 600 s
    link.cut()  # like kill -9 or a lost machine: the victim's sessions end
    await _eventually(lambda: _gone(survivor.url, token), "the victim's session ended")
    recovered = await survivor.recover_dead(NOW + 1, "survivor")
    assert sorted(recovered) == sorted(c.delivery.id for c in theirs)
    for claimed in theirs:
        assert await _status(survivor, claimed.delivery.id) is not S.IN_FLIGHT
        (*_, move) = await survivor.list_transitions(claimed.delivery.id)
        assert (move.from_status, move.actor) == (S.IN_FLIGHT, "sweep")
    assert await _status(survivor, mine.delivery.id) is S.IN_FLIGHT
    assert await survivor.recover_dead(NOW + 2, "survivor") == []  # forgotten once handled


async def test_a_gone_instances_run_check_is_looked_at_again_at_once(
    survivor: PostgresStore, victim: PostgresStore, link: CuttableLink
) -> None:
    await survivor.insert_event(event(delivery()))
    (claimed,) = await victim.claim(TARGET, 1, NOW, "victim", ATTEMPT)
    active = result(
        S.RUNNING,
        outcome="run_active",
        next_attempt_at=NOW + 2,
        function_run_id="run_1",
        run_status="active",
        run_started_at=NOW,
    )
    await victim.finish_attempt(claimed, active)
    (check,) = await victim.claim_checks(TARGET, 10, NOW + 2, "victim", ATTEMPT)
    token = victim.liveness_pid
    link.cut()
    await _eventually(lambda: _gone(survivor.url, token), "the victim's session ended")
    assert await survivor.claim_checks(TARGET, 10, NOW + 3, "survivor", 60) == []
    await survivor.recover_dead(NOW + 3, "survivor")
    (again,) = await survivor.claim_checks(TARGET, 10, NOW + 3, "survivor", 60)
    assert again.id == check.id == claimed.delivery.id


async def test_an_instance_without_its_token_keeps_its_own_leases_and_its_late_answer_moves_nothing(
    survivor: PostgresStore, victim: PostgresStore, link: CuttableLink
) -> None:
    await survivor.insert_event(event(delivery(), delivery()))
    (first,) = await victim.claim(TARGET, 1, NOW, "victim", ATTEMPT)
    token = victim.liveness_pid
    assert token is not None
    link.refuse_new()  # its pool's connection stays; the token's cannot be opened again
    await _terminate(survivor.url, token)
    await _eventually(lambda: _gone(survivor.url, token), "the token's session ended")
    # it does not judge itself gone, though its key is free ...
    assert await victim.recover_dead(NOW + 1, "victim") == []
    assert await _status(survivor, first.delivery.id) is S.IN_FLIGHT
    # ... the others do: an instance that cannot hold its token is treated as dead
    assert await survivor.recover_dead(NOW + 1, "survivor") == [first.delivery.id]
    recovered = await _status(survivor, first.delivery.id)
    await link.resume()
    # the run's answer comes late: recorded on the attempt, the delivery does not move
    await victim.finish_attempt(first, result(S.SUCCEEDED, at=NOW + 2))
    assert await _status(survivor, first.delivery.id) is recovered
    # its next claim holds the token again: its leases are safe once more
    (second,) = await victim.claim(TARGET, 1, NOW + 3, "victim", ATTEMPT)
    assert victim.liveness_pid not in (None, token)
    assert await survivor.recover_dead(NOW + 4, "survivor") == []
    assert await _status(survivor, second.delivery.id) is S.IN_FLIGHT


async def test_a_terminated_token_session_is_taken_again_without_waiting_for_a_claim(
    survivor: PostgresStore, victim: PostgresStore
) -> None:
    await survivor.insert_event(event(delivery()))
    (claimed,) = await victim.claim(TARGET, 1, NOW, "victim", ATTEMPT)
    token = victim.liveness_pid
    assert token is not None
    await _terminate(survivor.url, token)
    await _eventually(
        lambda: _true(victim.liveness_pid not in (None, token)), "the token taken again"
    )
    assert await survivor.recover_dead(NOW + 1, "survivor") == []
    assert await _status(survivor, claimed.delivery.id) is S.IN_FLIGHT


async def _true(value: bool) -> bool:
    return value


async def test_an_owner_that_never_held_a_token_is_left_to_its_lease(
    survivor: PostgresStore, pg_url: str
) -> None:
    """A relay from before the tokens (a rolling update) lists no owner: its live leases look
    token-less, and only their expiry hands them back."""
    await survivor.insert_event(event(delivery()))
    older = PostgresStore(pg_url, clock=FakeClock(NOW), lease_ttl=TTL)
    await older.open()
    try:
        (claimed,) = await older.claim(TARGET, 1, NOW, "older", ATTEMPT)
    finally:
        await older.close()  # its token released ...
    conn = await asyncpg.connect(pg_url)
    try:  # ... and never listed, as an older relay would have it
        await conn.execute("DELETE FROM lease_owners WHERE owner = 'older'")
    finally:
        await conn.close()
    assert await survivor.recover_dead(NOW + 1, "survivor") == []
    assert await _status(survivor, claimed.delivery.id) is S.IN_FLIGHT
    assert await survivor.recover_expired(NOW + TTL + 1) == [claimed.delivery.id]


async def test_the_same_owner_id_in_two_schemas_holds_two_tokens(
    survivor: PostgresStore, pg_server_url: str
) -> None:
    schema = await create_schema(pg_server_url, prefix="relay_test_liveness")
    elsewhere = PostgresStore(with_search_path(pg_server_url, schema), lease_ttl=TTL)
    await elsewhere.open()
    try:
        await survivor.insert_event(event(delivery()))
        await elsewhere.insert_event(event(delivery()))
        assert len(await survivor.claim(TARGET, 1, NOW, "relay-1", ATTEMPT)) == 1
        assert len(await elsewhere.claim(TARGET, 1, NOW, "relay-1", ATTEMPT)) == 1
        assert survivor._token.held("relay-1")
        assert elsewhere._token.held("relay-1")
    finally:
        await elsewhere.close()
        await drop_schema(pg_server_url, schema)


async def test_a_sqlite_store_has_no_other_owner_to_judge() -> None:
    store = SqliteStore(":memory:")
    await store.open()
    try:
        await store.insert_event(event(delivery()))
        (claimed,) = await store.claim(TARGET, 1, NOW, "relay-a", ATTEMPT)
        assert await store.recover_dead(NOW + 1, "relay-b") == []
        assert await _status(store, claimed.delivery.id) is S.IN_FLIGHT
    finally:
        await store.close()
