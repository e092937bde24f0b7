"""Which store a database URL names, and opening it (``relay.store`` re-exports both)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relay.store.base import Store

__all__ = ["DEFAULT_DATABASE", "is_postgres_url", "open_store", "sqlite_path"]

DEFAULT_DATABASE = "./relay.db"


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))


def open_store(url: str | None, *, lease_ttl: float | None = None) -> Store:
    """A store for a database URL: ``postgresql://...`` (shared by several instances),
    ``sqlite:///path``, a plain path, or ``:memory:``. ``lease_ttl``: PostgreSQL only, how
    long a crashed instance's leases outlive it when its liveness token does not tell the
    others sooner (default 30 s). Each driver is imported only when its store is opened."""
    url = url or DEFAULT_DATABASE
    if is_postgres_url(url):
        from relay.store.postgres import DEFAULT_LEASE_TTL, PostgresStore

        return PostgresStore(url, lease_ttl=lease_ttl or DEFAULT_LEASE_TTL)
    from relay.store.sqlite import SqliteStore

    return SqliteStore(sqlite_path(url))


def sqlite_path(url: str) -> str:
    """The SQLite file a URL names: ``sqlite:///relative.db``, ``sqlite:////abs/path.db``, a
    plain path, or ``:memory:`` (``sqlite://``); ``ValueError`` for another scheme."""
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        # sqlite:///relative.db -> relative.db ; sqlite:////abs/path.db -> /abs/path.db
        path = path[1:] if path.startswith("/") else path
        return path or ":memory:"
    if "://" in url:
        raise ValueError(f"unsupported database URL scheme in {url.split('://')[0]!r}")
    return url
