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
from relay.store.sqlite import SqliteStore

__all__ = [
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
    "open_store",
]

DEFAULT_DATABASE = "./relay.db"


def open_store(url: str | None) -> Store:
    """A store for a database URL: ``sqlite:///path``, a plain path, or ``:memory:``."""
    url = url or DEFAULT_DATABASE
    if url.startswith(("postgresql://", "postgres://")):
        raise ValueError("the PostgreSQL store is not available in this version")
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        # sqlite:///relative.db -> relative.db ; sqlite:////abs/path.db -> /abs/path.db
        path = path[1:] if path.startswith("/") else path
        return SqliteStore(path or ":memory:")
    if "://" in url:
        raise ValueError(f"unsupported database URL scheme in {url.split('://')[0]!r}")
    return SqliteStore(url)
