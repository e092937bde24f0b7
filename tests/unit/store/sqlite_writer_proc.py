"""A separate process writing to a SQLite store until killed: ``python -m
tests.unit.store.sqlite_writer_proc DB``. Each event comes with two deliveries, in one
transaction (``insert_event``), so a consistent copy holds exactly twice as many deliveries
as events. Prints ``ready`` after its first write."""

from __future__ import annotations

import asyncio
import sys

from relay.store import SqliteStore
from tests.unit.store.builders import delivery, event


async def write_forever(path: str) -> None:
    store = SqliteStore(path)
    await store.open()
    try:
        first = True
        while True:
            await store.insert_event(event(delivery(route="a"), delivery(route="b")))
            if first:
                print("ready", flush=True)
                first = False
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(write_forever(sys.argv[1]))
