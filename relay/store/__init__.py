"""Durable storage of events, deliveries and attempts.

The records and the ``Store`` protocol (relay.store.base) and the URL factory load with the
package; a backend loads when it is first used: ``open_store`` imports the one its URL
names, and ``SqliteStore`` here is imported on first access. So reading the records
(``relay.store.base``, ``relay.store.log_queries``) loads neither backend, asyncio nor a
driver."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relay.store.base import (
    AttemptRecord,
    AttemptResult,
    ClaimedDelivery,
    DeliveryRecord,
    DeliveryStatus,
    EventRecord,
    EventStatus,
    InsertResult,
    NewDelivery,
    NewEvent,
    Store,
    StoreUnavailable,
)
from relay.store.factory import DEFAULT_DATABASE, is_postgres_url, open_store

if TYPE_CHECKING:
    from relay.store.sqlite import SqliteStore

__all__ = [
    "DEFAULT_DATABASE",
    "AttemptRecord",
    "AttemptResult",
    "ClaimedDelivery",
    "DeliveryRecord",
    "DeliveryStatus",
    "EventRecord",
    "EventStatus",
    "InsertResult",
    "NewDelivery",
    "NewEvent",
    "SqliteStore",
    "Store",
    "StoreUnavailable",
    "is_postgres_url",
    "open_store",
]


def __getattr__(name: str) -> object:
    """``relay.store.SqliteStore``: the SQLite backend, imported on first access."""
    if name == "SqliteStore":
        from relay.store.sqlite import SqliteStore

        return SqliteStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
