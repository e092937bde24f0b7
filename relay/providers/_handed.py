"""Keys that arrive in a provider's handshake (Asana's X-Hook-Secret, Notion's token).

The provider only hands the secret over (``HandshakeReply.handed_secret``); the HTTP layer
decides whether to keep it, persists it, and calls ``accept_hook_secret`` — also on start,
for every persisted one. Until a key exists, events are refused with ``no_secret``.
"""

from __future__ import annotations

import hmac
from typing import Final

from relay.providers.base import VerificationError

__all__ = ["HandedSecretKeys", "is_valid_hook_secret"]

MAX_SECRET: Final = 256


def is_valid_hook_secret(secret: str) -> bool:
    """Non-empty visible ASCII of bounded length (safe to echo in a header and to store)."""
    return (
        0 < len(secret) <= MAX_SECRET
        and secret.isascii()
        and secret.isprintable()
        and (" " not in secret)
    )


class HandedSecretKeys:
    """Mixin over a provider's ``_keys`` tuple: implements ``SecretReceiver``."""

    _keys: tuple[bytes, ...]

    def accept_hook_secret(self, secret: str) -> None:
        if not is_valid_hook_secret(secret):
            raise ValueError(
                "a hook secret (handed over in the handshake) is 1-256 visible ASCII characters"
            )
        if not self.knows_secret(secret):
            self._keys = (*self._keys, secret.encode("ascii"))

    def knows_secret(self, secret: str) -> bool:
        candidate = secret.encode("utf-8", "replace")
        found = False
        for key in self._keys:
            found |= hmac.compare_digest(key, candidate)
        return found

    @property
    def secret_count(self) -> int:
        return len(self._keys)

    def require_key(self) -> None:
        if not self._keys:
            raise VerificationError("no_secret", "no secret has been established yet")
