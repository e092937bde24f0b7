"""Secrets that providers hand over in a handshake, kept durably and fed to the providers.

Asana's ``X-Hook-Secret`` and Notion's ``verification_token`` arrive in a request anyone who
knows the URL could send. relay keeps such a secret only while the source has no key at all
(trust on first use, the providers' own model); once a key exists, a handshake handing over
a different one is refused with 409 until the operator runs ``relay secrets reset SOURCE``.
The secret is stored before the handshake is answered, so an answered handshake survives a
crash, and every routing table built later (start, reload) gets the stored keys.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse, Response

from relay.logs import get_logger
from relay.providers.base import SecretReceiver
from relay.routing.table import RoutingTable
from relay.store.base import Store

__all__ = ["HandedSecrets"]


class HandedSecrets:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[str, list[str]] = {}
        self._log = get_logger()

    async def load(self) -> None:
        self._known = await self._store.list_source_secrets()

    @property
    def known(self) -> Mapping[str, list[str]]:
        return self._known

    def apply(self, table: RoutingTable) -> RoutingTable:
        """Give every stored secret to its source's provider; returns ``table``."""
        for name, secrets in self._known.items():
            source = table.sources.get(name)
            if source is None or not isinstance(source.provider, SecretReceiver):
                continue
            for secret in secrets:
                try:
                    source.provider.accept_hook_secret(secret)
                except ValueError:
                    self._log.warning("relay.hook.stored_secret_invalid", source=name)
        return table

    async def accept(
        self, source: str, provider: object, secret: str, now: float
    ) -> Response | None:
        """Keep ``secret`` for ``source``; a response to send instead when it is refused."""
        if not isinstance(provider, SecretReceiver):
            return None
        if provider.knows_secret(secret):
            return None
        if provider.secret_count > 0:
            self._log.warning("relay.hook.handshake_secret_refused", source=source)
            return JSONResponse(
                {
                    "error": "secret_already_established",
                    "detail": "this source already has a key; run `relay secrets reset "
                    f"{source}` to accept a new handshake",
                },
                status_code=409,
            )
        try:
            provider.accept_hook_secret(secret)
        except ValueError as exc:
            return JSONResponse({"error": "malformed_secret", "detail": str(exc)}, 400)
        await self._store.add_source_secret(source, secret, "handshake", now)
        self._known.setdefault(source, []).append(secret)
        self._log.info("relay.hook.handshake_secret_stored", source=source)
        return None
