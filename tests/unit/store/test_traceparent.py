"""The receive span's W3C ``traceparent`` stored with an event's deliveries (both backends),
and the schema version that adds it, migrated from the version before."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import asyncpg

from relay.store import SqliteStore, _pg_schema, _sqlite_schema
from relay.store.migrate import migrate_database
from tests.postgres import create_schema, drop_schema, with_search_path
from tests.unit.store.builders import AnyStore, claim_one, delivery, event

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_a_delivery_is_claimed_with_its_events_traceparent(store: AnyStore) -> None:
    traced = dataclasses.replace(event(delivery()), traceparent=TRACEPARENT)
    await store.insert_event(traced)
    claimed = await claim_one(store)
    assert claimed.delivery.traceparent == TRACEPARENT
    stored = await store.get_delivery(claimed.delivery.id)
    assert stored is not None
    assert stored.traceparent == TRACEPARENT


async def test_an_untraced_event_stores_no_traceparent(store: AnyStore) -> None:
    await store.insert_event(event(delivery()))
    assert (await claim_one(store)).delivery.traceparent is None


async def test_a_sqlite_store_of_the_previous_version_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "relay.db"
    with sqlite3.connect(path) as conn:  # a store as the previous version left it
        conn.execute("CREATE TABLE relay_schema (version INTEGER NOT NULL)")
        for version, script in enumerate(_sqlite_schema.MIGRATIONS[:-1], start=1):
            conn.executescript(script)
            conn.execute("INSERT INTO relay_schema (version) VALUES (?)", (version,))
    store = SqliteStore(path)
    await store.open()
    try:
        await store.insert_event(dataclasses.replace(event(delivery()), traceparent=TRACEPARENT))
        assert (await claim_one(store)).delivery.traceparent == TRACEPARENT
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        version = conn.execute("SELECT max(version) FROM relay_schema").fetchone()
    assert version == (len(_sqlite_schema.MIGRATIONS),)


async def test_a_postgres_schema_of_the_previous_version_gains_the_column(
    pg_server_url: str,
) -> None:
    schema = await create_schema(pg_server_url, prefix="relay_test_migrate")
    url = with_search_path(pg_server_url, schema)
    previous = len(_pg_schema.MIGRATIONS) - 1
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE relay_schema (version integer PRIMARY KEY, applied_at double precision "
            "NOT NULL)"
        )
        for version, script in enumerate(_pg_schema.MIGRATIONS[:previous], start=1):
            await conn.execute(script)
            await conn.execute("INSERT INTO relay_schema VALUES ($1, 0)", version)
    finally:
        await conn.close()
    try:
        done = await migrate_database(url)
        assert (done.before, done.after) == (previous, previous + 1)
        conn = await asyncpg.connect(url)
        try:
            kind = await conn.fetchval(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = $1 "
                "AND table_name = 'deliveries' AND column_name = 'traceparent'",
                schema,
            )
        finally:
            await conn.close()
        assert kind == "text"
    finally:
        await drop_schema(pg_server_url, schema)
