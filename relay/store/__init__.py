"""Durable storage of events, deliveries and attempts."""

from __future__ import annotations

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
