"""How a provider's sender signs and what it sends: what each provider module exports as
``SENDING`` next to its verifier ``SPEC``.

A signer is ``(secret, body, now, options) -> SignedRequest``: pure, deterministic for its
inputs (except ECDSA, whose signatures are randomised), and never putting the secret in an
error message. Options arrive as given on the command line (strings) or from Python.
``secret`` is what the provider signs with (``Sending.signs_with`` says what): the shared secret
for HMAC and token schemes, the PRIVATE key for the public-key ones. The receive path never
calls a signer; ``relay.devtools`` (``relay send``) and the tests do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote, urlencode

from relay.providers._hmac import compute
from relay.providers.sample import Sample

__all__ = [
    "SHARED_KEY",
    "WHSEC_KEY",
    "Options",
    "Sending",
    "SignedRequest",
    "Signer",
    "append_query",
    "derived_id",
    "derived_uuid",
    "headers_only",
    "hex_signer",
]

#: What most HMAC signers take as ``secret``.
SHARED_KEY: Final = "the webhook signing secret (the same string as in the source's secrets)"
#: What the Standard Webhooks family takes as ``secret``.
WHSEC_KEY: Final = "the whsec_... signing secret (base64 after the prefix)"

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})


def append_query(url: str, params: Sequence[tuple[str, str]]) -> str:
    """``url`` with ``params`` appended to its query (percent-encoded, order kept)."""
    if not params:
        return url
    encoded = urlencode(list(params), quote_via=quote)
    if url.endswith(("?", "&")):
        return url + encoded
    return f"{url}{'&' if '?' in url else '?'}{encoded}"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A request as the provider's sender would make it.

    ``headers``: the authentication headers to add (lower-case names). ``body``: the bytes to
    send, the input body unless the scheme carries its material inside the body (Mailgun's
    ``signature`` object, Microsoft Graph's ``clientState``). ``query``: parameters the sender
    appends to the URL (Twilio's ``bodySHA256``); ``url(u)`` is the URL to send to.
    """

    headers: dict[str, str]
    body: bytes
    query: tuple[tuple[str, str], ...] = ()

    def url(self, url: str) -> str:
        return append_query(url, self.query)


class Options:
    """A signer's options, checked: unknown keys and missing required ones are ``ValueError``."""

    def __init__(self, provider: str, raw: Mapping[str, Any], allowed: Collection[str]) -> None:
        for key in raw:
            if key not in allowed:
                accepted = ", ".join(sorted(allowed)) or "none"
                raise ValueError(
                    f"signer {provider!r} takes no option {key!r} (accepted: {accepted})"
                )
        self.provider = provider
        self._raw = raw

    def text(self, key: str, default: str | None = None) -> str:
        """A non-empty string option; required when ``default`` is None."""
        value = self._raw.get(key)
        if value is None:
            if default is None:
                raise ValueError(f"signer {self.provider!r} needs option {key!r}")
            return default
        if not isinstance(value, str) or not value:
            raise ValueError(f"signer {self.provider!r}: option {key!r} must be a non-empty string")
        return value

    def optional(self, key: str) -> str | None:
        return None if self._raw.get(key) is None else self.text(key)

    def choice(self, key: str, choices: Collection[str], default: str) -> str:
        value = self.text(key, default)
        if value not in choices:
            allowed = ", ".join(sorted(choices))
            raise ValueError(f"signer {self.provider!r}: option {key!r} must be one of: {allowed}")
        return value

    def flag(self, key: str) -> bool:
        """A boolean option: a bool, or one of true/false, yes/no, on/off, 1/0."""
        value = self._raw.get(key, False)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ValueError(f"signer {self.provider!r}: option {key!r} must be true or false")


#: ``(secret, body, now, options) -> SignedRequest``.
Signer = Callable[[str, bytes, float, Mapping[str, Any]], SignedRequest]


def headers_only(body: bytes, headers: dict[str, str]) -> SignedRequest:
    return SignedRequest(headers=headers, body=body)


def _digest(body: bytes, now: float) -> str:
    return hashlib.sha256(b"%d:%s" % (int(now), body)).hexdigest()


def derived_id(prefix: str, body: bytes, now: float, size: int = 24) -> str:
    """A default message id: ``prefix`` + hex derived from the body and the second."""
    return prefix + _digest(body, now)[:size]


def derived_uuid(body: bytes, now: float) -> str:
    """A default message id shaped like a UUID, derived from the body and the second."""
    h = _digest(body, now)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def hex_signer(name: str, header: str, prefix: str = "") -> Signer:
    """HMAC-SHA256 of the raw body, hex, in ``header`` after ``prefix`` (no options)."""

    def signer(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
        Options(name, opts, ())
        return headers_only(body, {header: prefix + compute(secret.encode("utf-8"), body).hex()})

    return signer


@dataclass(frozen=True, slots=True, kw_only=True)
class Sending:
    """A provider's sending side: how it signs, with what, and what it sends.

    ``sign`` signs like the provider's sender; ``signs_with`` says in a few words what it takes
    as ``secret``; ``sample`` is the default delivery and ``events`` the samples per event type
    (what ``relay send --event`` takes) for providers whose events differ in shape.
    """

    sign: Signer
    signs_with: str
    sample: Sample
    events: Mapping[str, Sample] = field(default_factory=dict)
