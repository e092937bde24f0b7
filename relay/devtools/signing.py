"""Sign a body the way a provider's sender does, for every registered provider.

``sign_request(provider, secret, body, now, **opts)`` returns a ``SignedRequest``: the
authentication headers (lower-case names), the body to send (changed only where the scheme
carries its material inside it: Mailgun, Microsoft Graph) and any query parameters to append
to the URL (Twilio's ``bodySHA256``). ``sign(...)`` is the headers alone, for the schemes that
touch nothing else. Both are pure functions, used by tests and by ``relay send``.

Each provider's signer is its module's ``SENDING.sign``. ``secret`` is what the provider signs
with (``secret_help(provider)`` says what): the shared secret for HMAC and token schemes, the
PRIVATE key for the public-key ones (Ed25519, Discord, SendGrid, PayPal). URL-signed schemes
(Twilio, HubSpot, Square) take option ``url``; time comes from ``now`` (unix seconds).
``KeyError`` for an unknown provider; ``ValueError`` for an option a signer does not take, a
missing one, or a secret it cannot use.
"""

from __future__ import annotations

from typing import Any

from relay.providers.registry import SENDING
from relay.providers.sender import SignedRequest

__all__ = ["SignedRequest", "secret_help", "sign", "sign_request", "signer_names"]


def sign_request(provider: str, secret: str, body: bytes, now: float, **opts: Any) -> SignedRequest:
    """The request ``provider`` would send for ``body`` at unix time ``now``."""
    try:
        side = SENDING[provider]
    except KeyError:
        raise KeyError(
            f"no signer for provider {provider!r}; known: {', '.join(signer_names())}"
        ) from None
    return side.sign(secret, body, now, opts)


def sign(provider: str, secret: str, body: bytes, now: float, **opts: Any) -> dict[str, str]:
    """The authentication headers ``provider`` would send for ``body`` at unix time ``now``.

    ``ValueError`` when the scheme also changes the body or the URL: use ``sign_request``.
    """
    signed = sign_request(provider, secret, body, now, **opts)
    if signed.body != body or signed.query:
        raise ValueError(f"{provider!r} signs inside the body or URL too: use sign_request()")
    return signed.headers


def signer_names() -> list[str]:
    return sorted(SENDING)


def secret_help(provider: str) -> str:
    """What ``provider``'s signer takes as ``secret``, in a few words."""
    return SENDING[provider].signs_with
