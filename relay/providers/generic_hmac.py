"""Generic HMAC (``provider: hmac``): one header carrying an HMAC of the raw body.

Options:

``header`` (required)
    Name of the signature header.
``algorithm``
    ``sha1``, ``sha256`` (default) or ``sha512``.
``encoding``
    ``hex`` (default, case-insensitive) or ``base64``.
``prefix``
    Literal text the header value must start with, stripped before decoding (default ``''``),
    e.g. ``sha256=``.
``event_type_header`` / ``event_id_header``
    Headers naming the event type / delivery id.
``event_type_path`` / ``event_id_path``
    Dotted paths into a JSON object body (e.g. ``data.id``); used when the header option is
    not set or the header is absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from relay.providers._hmac import (
    ALGORITHMS,
    ENCODINGS,
    Algorithm,
    Encoding,
    decode_signature,
    digest_size,
    matches_any,
    option_choice,
    option_optional_str,
    option_str,
    reject_unknown_options,
    utf8_keys,
)
from relay.providers.base import (
    ConfigError,
    HandshakeReply,
    ProviderSpec,
    VerificationError,
    WebhookRequest,
)

__all__ = ["SPEC", "GenericHmacProvider", "build", "lookup_path"]

NAME: Final = "hmac"
_OPTIONS: Final = (
    "header",
    "algorithm",
    "encoding",
    "prefix",
    "event_type_header",
    "event_id_header",
    "event_type_path",
    "event_id_path",
)


def lookup_path(body: Any, path: tuple[str, ...]) -> str | None:
    """Follow ``path`` through nested dicts; return a str (or an int as str), else None."""
    value = body
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


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


class GenericHmacProvider:
    """Verifies an HMAC of the raw body carried in one configurable header."""

    def __init__(
        self,
        keys: Sequence[bytes],
        *,
        header: str,
        algorithm: Algorithm = "sha256",
        encoding: Encoding = "hex",
        prefix: str = "",
        event_type_header: str | None = None,
        event_id_header: str | None = None,
        event_type_path: tuple[str, ...] | None = None,
        event_id_path: tuple[str, ...] | None = None,
    ) -> None:
        self.name: str = NAME
        self._keys = tuple(keys)
        self._header = header.lower()
        self._algorithm: Algorithm = algorithm
        self._encoding: Encoding = encoding
        self._prefix = prefix
        self._size = digest_size(algorithm)
        self._event_type_header = event_type_header
        self._event_id_header = event_id_header
        self._event_type_path = event_type_path
        self._event_id_path = event_id_path

    def __repr__(self) -> str:
        return (
            f"GenericHmacProvider(header={self._header!r}, algorithm={self._algorithm!r}, "
            f"encoding={self._encoding!r}, secrets={len(self._keys)})"
        )

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        return None

    def verify(self, request: WebhookRequest, now: float) -> None:
        value = request.headers.get(self._header)
        if value is None:
            raise VerificationError("missing_signature", f"{self._header} header is missing")
        if not value.startswith(self._prefix):
            raise VerificationError(
                "malformed_signature", f"{self._header} does not start with the expected prefix"
            )
        candidate = decode_signature(value[len(self._prefix) :], self._encoding, size=self._size)
        if not matches_any(self._keys, request.body, (candidate,), self._algorithm):
            raise VerificationError("signature_mismatch", f"{self._header} does not match")

    def _extract(
        self,
        request: WebhookRequest,
        body: Any,
        header: str | None,
        path: tuple[str, ...] | None,
    ) -> str | None:
        if header is not None:
            value = request.headers.get(header)
            if value:
                return value
        if path is not None:
            return lookup_path(body, path)
        return None

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return self._extract(request, body, self._event_id_header, self._event_id_path)

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return self._extract(request, body, self._event_type_header, self._event_type_path)


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> GenericHmacProvider:
    reject_unknown_options(options, _OPTIONS)
    header = option_str(options, "header")
    algorithm = cast(Algorithm, option_choice(options, "algorithm", tuple(ALGORITHMS), "sha256"))
    encoding = cast(Encoding, option_choice(options, "encoding", ENCODINGS, "hex"))
    prefix = options.get("prefix", "")
    if not isinstance(prefix, str):
        raise ConfigError("option 'prefix' must be a string", key="prefix")
    return GenericHmacProvider(
        utf8_keys(secrets),
        header=header,
        algorithm=algorithm,
        encoding=encoding,
        prefix=prefix,
        event_type_header=_header_option(options, "event_type_header"),
        event_id_header=_header_option(options, "event_id_header"),
        event_type_path=_path_option(options, "event_type_path"),
        event_id_path=_path_option(options, "event_id_path"),
    )


SPEC: Final = ProviderSpec(name=NAME, build=build)
