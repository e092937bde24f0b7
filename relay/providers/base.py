"""The provider interface: verify a raw request, answer handshakes, name the event.

A provider is built once per configured source (``Provider.from_options``) and is then
called for every request to ``/hooks/{source}``. Verification works on the raw body bytes
and never parses before the signature is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from relay.providers.body_limits import DEFAULT_MAX_BODY_BYTES

__all__ = [
    "ConfigError",
    "HandshakeReply",
    "Provider",
    "ProviderSpec",
    "SecretReceiver",
    "UnknownOption",
    "VerificationError",
    "WebhookRequest",
]


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """What a provider sees of an incoming request.

    ``headers`` has lower-case names; a repeated header keeps its last value.
    ``query`` keeps the last value of a repeated parameter. ``raw_query`` is the query string
    exactly as received (undecoded, without ``?``): providers that sign the URL (Twilio,
    HubSpot) use it when it is non-empty, as a parsed mapping loses repeats and encodings.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    raw_query: str = ""


@dataclass(frozen=True, slots=True)
class HandshakeReply:
    """A response a provider wants sent instead of storing the request."""

    status_code: int = 200
    body: bytes = b""
    media_type: str = "text/plain"
    headers: Mapping[str, str] = field(default_factory=dict)
    #: A secret the provider hands over in this handshake (Asana's X-Hook-Secret, Notion's
    #: verification_token). The HTTP layer decides whether to keep it; never logged.
    handed_secret: str | None = field(default=None, repr=False)


class VerificationError(Exception):
    """The request is not authentic. ``reason`` is a short stable code, ``detail`` a sentence.

    Neither may contain secret material or the expected signature.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ConfigError(ValueError):
    """A provider's options are invalid (raised at load time, never per request).

    ``key`` names the offending option (a key of the source's mapping) when there is one,
    so the config loader can point at its line and column.
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class UnknownOption(ConfigError):
    """An option the provider does not take; ``accepted`` lists the ones it does."""

    def __init__(self, key: str, accepted: Sequence[str]) -> None:
        shown = ", ".join(sorted(accepted)) or "none"
        super().__init__(f"unknown option {key!r} (accepted: {shown})", key=key)
        self.accepted = tuple(sorted(accepted))


class Provider(Protocol):
    """One configured provider instance (one per source)."""

    name: str

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        """Answer a URL-verification handshake, or ``None`` when the request is not one.

        Runs before ``verify``; a provider whose handshake is itself signed verifies it here
        and raises ``VerificationError`` on failure.
        """
        ...

    def verify(self, request: WebhookRequest, now: float) -> None:
        """Raise ``VerificationError`` unless the request is authentic at time ``now``."""
        ...

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        """The provider's delivery/event id (used for dedupe), if it sends one."""
        ...

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        """The provider's event type (e.g. ``issues``, ``invoice.paid``), if any."""
        ...


@runtime_checkable
class SecretReceiver(Protocol):
    """A provider whose key can arrive in its handshake instead of the config."""

    def accept_hook_secret(self, secret: str) -> None:
        """Start verifying with ``secret`` too (idempotent); ``ValueError`` if implausible."""
        ...

    def knows_secret(self, secret: str) -> bool: ...

    @property
    def secret_count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """A provider kind as the registry knows it: ``provider: <name>`` in the YAML.

        ``build(secrets, options)`` is called once per source at config load; it raises
        ``ConfigError`` for bad options. ``allows_get`` is true for providers whose handshake
        arrives as a GET (others answer 405 to GET). ``form_json_field`` names the form field in
        which the provider documents sending its JSON event (GitHub's and Slack's ``payload``):
        such a form is routed as that JSON. ``hint`` is the one-line setup hint ``relay urls``
        shows: where the webhook URL goes, which secret to copy (plain text, never secret
        material). ``signs_url`` is true for providers whose signature covers the URL they call
        (the source's ``public_url``). ``max_body_bytes`` is the largest body the provider
    documents sending (``relay.providers.body_limits``): a source's limit when it sets none.

        The provider's module exports this as ``SPEC``, next to its sending side (``SENDING``,
        a ``relay.providers.sender.Sending``); the registry collects both.
    """

    name: str
    build: Callable[[Sequence[str], Mapping[str, Any]], Provider]
    allows_get: bool = False
    form_json_field: str | None = None
    hint: str = ""
    signs_url: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
