"""Shared pieces for providers that are more than an HMAC of the body.

A base class with the no-op defaults and the generic ``event_*`` options, header and JSON
access that fail only with ``VerificationError``, body lookups that never raise, constant-time
comparisons and handshake replies. Messages never carry secrets. Options for URLs and RFC 3339
timestamps are in ``relay.providers._configurable``; replay windows (``option_positive_number``
with each provider's default, ``check_tolerance``) in ``relay.providers._hmac``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from relay.providers._hmac import (
    Algorithm,
    Encoding,
    decode_signature,
    digest_size,
    matches_any,
    option_optional_str,
)
from relay.providers.base import ConfigError, HandshakeReply, VerificationError, WebhookRequest

__all__ = [
    "EVENT_FIELD_OPTIONS",
    "EventFields",
    "ProviderBase",
    "check_hmac",
    "dig",
    "equals_any",
    "event_fields",
    "header_bytes",
    "json_reply",
    "load_json",
    "lookup_path",
    "require_challenge",
    "require_header",
    "scalar",
    "text_bytes",
    "text_reply",
]

K = TypeVar("K")

#: Longest challenge echoed back by a handshake.
MAX_CHALLENGE: Final = 4096


# --------------------------------------------------------------------------- request access


def require_header(request: WebhookRequest, name: str, reason: str = "missing_signature") -> str:
    """The value of header ``name`` (any case); ``VerificationError(reason)`` when absent."""
    value = request.headers.get(name.lower())
    if value is None:
        raise VerificationError(reason, f"{name} header is missing")
    return value


def header_bytes(value: str) -> bytes:
    """A header value's bytes as sent (the HTTP layer decodes headers as latin-1)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return text_bytes(value)


def text_bytes(value: str) -> bytes:
    """UTF-8, total: a lone surrogate (possible in JSON strings) cannot raise."""
    return value.encode("utf-8", "surrogatepass")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"constant {name}")


def load_json(body: bytes) -> Any:
    """Strict JSON (UTF-8, no duplicate keys, no NaN) for material signed inside the body."""
    try:
        return json.loads(
            body.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant
        )
    except (ValueError, RecursionError):
        raise VerificationError("malformed_body", "the body is not strict JSON") from None


def require_challenge(value: str | None, what: str) -> str:
    """A handshake challenge that is safe to echo: printable text of bounded length."""
    if not value or len(value) > MAX_CHALLENGE or not value.isprintable():
        raise VerificationError("malformed_challenge", f"{what} is missing or not printable text")
    return value


# --------------------------------------------------------------------------- body lookups


def dig(value: Any, *path: str | int) -> Any:
    """Follow ``path`` (dict keys and list indexes) through parsed JSON; None when it breaks."""
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or not 0 <= part < len(value):
                return None
            value = value[part]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def scalar(value: Any) -> str | None:
    """A non-empty string, or an integer as a string; None for anything else."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # more digits than int->str allows
            return None
    return None


def lookup_path(body: Any, path: tuple[str, ...]) -> str | None:
    """Follow ``path`` through nested dicts; return a str (or an int as str), else None."""
    return scalar(dig(body, *path))


EVENT_FIELD_OPTIONS: Final = (
    "event_type_header",
    "event_id_header",
    "event_type_path",
    "event_id_path",
)


@dataclass(frozen=True, slots=True)
class EventFields:
    """Where a configurable provider finds the event type and id: a header, else a body path."""

    type_header: str | None = None
    id_header: str | None = None
    type_path: tuple[str, ...] | None = None
    id_path: tuple[str, ...] | None = None

    @staticmethod
    def _pick(
        request: WebhookRequest, body: Any, header: str | None, path: tuple[str, ...] | None
    ) -> str | None:
        if header is not None:
            value = request.headers.get(header)
            if value:
                return value
        return None if path is None else lookup_path(body, path)

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return self._pick(request, body, self.type_header, self.type_path)

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return self._pick(request, body, self.id_header, self.id_path)


def _path_option(options: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    raw = option_optional_str(options, key)
    if raw is None:
        return None
    parts = tuple(raw.split("."))
    if any(not part for part in parts):
        raise ConfigError(f"option {key!r} must be a dotted path like 'data.id'", key=key)
    return parts


def _header_option(options: Mapping[str, Any], key: str) -> str | None:
    value = option_optional_str(options, key)
    return None if value is None else value.lower()


def event_fields(options: Mapping[str, Any], *, id_header: str | None = None) -> EventFields:
    """``EventFields`` from the ``EVENT_FIELD_OPTIONS``; ``id_header`` is the id's fallback."""
    return EventFields(
        type_header=_header_option(options, "event_type_header"),
        id_header=_header_option(options, "event_id_header") or id_header,
        type_path=_path_option(options, "event_type_path"),
        id_path=_path_option(options, "event_id_path"),
    )


class ProviderBase(Generic[K]):
    """Defaults: no handshake; event type and id from ``fields`` (none unless configured).

    ``keys`` are whatever the scheme verifies with (HMAC keys, public keys, tokens).
    """

    def __init__(self, name: str, keys: Iterable[K], fields: EventFields | None = None) -> None:
        self.name: str = name
        self._keys: tuple[K, ...] = tuple(keys)
        self._fields = fields or EventFields()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, secrets={len(self._keys)})"

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        return None

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return self._fields.event_id(request, body)

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return self._fields.event_type(request, body)


# --------------------------------------------------------------------------- comparisons


def check_hmac(
    keys: Iterable[bytes],
    message: bytes,
    value: str,
    *,
    label: str,
    encoding: Encoding,
    algorithm: Algorithm = "sha256",
    prefix: str = "",
) -> None:
    """Raise unless ``value`` is ``prefix`` + the encoded HMAC of ``message`` under a key."""
    if not value.startswith(prefix):
        raise VerificationError("malformed_signature", f"{label} must start with {prefix!r}")
    candidate = decode_signature(value[len(prefix) :], encoding, size=digest_size(algorithm))
    if not matches_any(keys, message, (candidate,), algorithm):
        raise VerificationError("signature_mismatch", f"{label} does not match")


def equals_any(value: bytes, secrets: Iterable[bytes]) -> bool:
    """True when ``value`` equals one of ``secrets``, comparing all in constant time.

    Both sides are hashed first, so neither a secret's length nor which one matched shows.
    """
    digest = hashlib.sha256(value).digest()
    found = False
    for secret in secrets:
        found |= hmac.compare_digest(digest, hashlib.sha256(secret).digest())
    return found


# --------------------------------------------------------------------------- replies


def text_reply(text: str) -> HandshakeReply:
    """200 ``text/plain`` echo of a (validated) challenge, never sniffed as HTML."""
    return HandshakeReply(body=text.encode("utf-8"), headers={"X-Content-Type-Options": "nosniff"})


def json_reply(data: Mapping[str, Any]) -> HandshakeReply:
    return HandshakeReply(
        body=json.dumps(data, separators=(",", ":")).encode("utf-8"),
        media_type="application/json",
    )
