"""Requests for the hostile-input tests: each provider's sample signed as it would send it
(``relay send``'s code), with the headers its signature depends on told apart."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from relay.providers.sending import URL_SIGNED, prepare
from relay.providers.signing import sign_request
from tests.reliability.shared import SharedRelay

__all__ = ["Signed", "signed", "stored_status"]


@dataclass(frozen=True, slots=True)
class Signed:
    url: str
    body: bytes
    headers: dict[str, str]
    auth: tuple[str, ...]  # the headers the signing scheme adds (lower-case)

    def without_auth(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items() if k.lower() not in self.auth}


def signed(
    shared: SharedRelay, provider: str, payload: bytes | None = None, now: float | None = None
) -> Signed:
    """``provider``'s sample (or ``payload``) signed at ``now`` for its source on ``shared``."""
    setup = shared.table[provider]
    url = shared.hook(provider)
    at = time.time() if now is None else now
    out = prepare(provider, setup.secret, url, now=at, payload=payload, options=setup.options)
    options = dict(setup.options)
    if provider in URL_SIGNED:
        options.setdefault("url", url)
    auth = sign_request(provider, setup.secret, out.body, at, **options).headers
    return Signed(out.url, out.body, dict(out.headers), tuple(k.lower() for k in auth))


def stored_status(shared: SharedRelay, reply: httpx.Response) -> tuple[str, str | None]:
    """(status, error) of the event a 200 answer names."""
    from tests.reliability.kit import db_rows

    (row,) = db_rows(
        shared.db, "SELECT status, error FROM events WHERE id = ?", (reply.json()["id"],)
    )
    return str(row[0]), row[1]
