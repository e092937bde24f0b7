"""``relay send --from-event ID``: a stored event, to be signed again and sent with a fresh
delivery id (``relay send PROVIDER --list`` is ``relay.devtools.samples.list_samples``)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from relay.cli.store_cmds import db_url, with_store

if TYPE_CHECKING:
    from relay.store.base import EventRecord, Store

__all__ = ["DEFAULT_CONFIG", "StoredSend", "UsageError", "stored_send"]

DEFAULT_CONFIG = "config/relay.yaml"
DEFAULT_BASE = "http://127.0.0.1:8080"


class UsageError(Exception):
    """What the command was asked cannot be done: printed, exit status 2."""


@dataclass(frozen=True, slots=True)
class StoredSend:
    provider: str
    secret: str | None
    url: str
    event: EventRecord


def _config_source(path: str, source: str) -> tuple[str, list[str]] | None:
    """(provider, secrets) of ``source`` in the config file, None when it cannot be read."""
    from relay.routing.issues import ConfigErrors
    from relay.routing.loader import load_file

    try:
        config = load_file(path, os.environ).config
    except ConfigErrors:
        return None
    found = config.sources.get(source)
    return None if found is None else (found.provider, list(found.secrets))


def stored_send(args: argparse.Namespace, secret: str | None) -> StoredSend:
    """The stored event ``args.from_event`` with whom to sign it as and where to send it:
    PROVIDER (or the provider of the event's source in ``--config``), the secret given (or
    that source's first secret) and ``--url`` (or ``http://127.0.0.1:8080/hooks/SOURCE``)."""
    import asyncio  # here: ``relay send`` without --from-event opens no store

    found: list[EventRecord] = []

    async def read(store: Store) -> int:
        record = await store.get_event(args.from_event)
        if record is not None:
            found.append(record)
        return 0

    asyncio.run(with_store(db_url(args), read))
    if not found:
        raise UsageError(f"no event {args.from_event} in {db_url(args)}")
    event = found[0]
    provider = args.provider
    configured = _config_source(args.config or DEFAULT_CONFIG, event.source)
    if provider is None:
        if configured is None:
            raise UsageError(
                f"give PROVIDER, or --config with the source {event.source!r} "
                f"(not found in {args.config or DEFAULT_CONFIG})"
            )
        provider = configured[0]
    if secret is None and configured is not None and configured[1]:
        secret = configured[1][0]
    url = args.url or f"{DEFAULT_BASE}/hooks/{event.source}"
    return StoredSend(provider, secret, url, event)
