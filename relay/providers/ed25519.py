"""Generic Ed25519 (``provider: ed25519``): a public-key signature of the body.

``secrets`` are the sender's Ed25519 *public* keys (64 hex digits or base64 of 32 bytes); any
one verifying accepts, so a key rotation lists both. Nothing secret is configured.

Options:

``header`` (required)
    Name of the signature header (64-byte signature).
``encoding``
    ``hex`` (default, case-insensitive) or ``base64``: how the header encodes the signature.
``timestamp_header``
    Header with a unix timestamp in seconds; when set, the signed bytes are the header's value
    followed by the raw body (as Discord does), otherwise the raw body alone.
``tolerance``
    Seconds the timestamp may lie before or after now (default 300); needs
    ``timestamp_header``. A signed timestamp is always checked: an old request cannot be
    replayed.
``event_type_header`` / ``event_id_header`` / ``event_type_path`` / ``event_id_path``
    As for ``provider: hmac``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from relay.providers._asymmetric import ED25519_SIGNATURE_SIZE, any_verifies, ed25519_keys
from relay.providers._common import (
    EVENT_FIELD_OPTIONS,
    EventFields,
    ProviderBase,
    event_fields,
    header_bytes,
    require_header,
)
from relay.providers._hmac import (
    ENCODINGS,
    Encoding,
    check_tolerance,
    decode_signature,
    option_choice,
    option_optional_str,
    option_positive_number,
    option_str,
    parse_timestamp,
    reject_unknown_options,
)
from relay.providers._private_keys import ED25519_SEED, ed25519_private_key
from relay.providers.base import ConfigError, ProviderSpec, VerificationError, WebhookRequest
from relay.providers.sample import GENERIC
from relay.providers.sender import Options, Sending, SignedRequest, headers_only

__all__ = ["DEFAULT_TOLERANCE", "SENDING", "SPEC", "Ed25519Provider", "build"]

NAME: Final = "ed25519"
DEFAULT_TOLERANCE: Final = 300.0
_OPTIONS: Final = ("header", "encoding", "timestamp_header", "tolerance", *EVENT_FIELD_OPTIONS)


class Ed25519Provider(ProviderBase[Ed25519PublicKey]):
    """Verifies an Ed25519 signature of ``[timestamp +] body`` against any of several keys.

    With a ``timestamp_header`` the timestamp must be unix seconds within ``tolerance``.
    """

    def __init__(
        self,
        keys: Sequence[Ed25519PublicKey],
        *,
        header: str,
        encoding: Encoding = "hex",
        timestamp_header: str | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        fields: EventFields | None = None,
        name: str = NAME,
    ) -> None:
        super().__init__(name, keys, fields)
        self._header = header
        self._encoding: Encoding = encoding
        self._timestamp_header = timestamp_header
        self._tolerance = tolerance

    def verify(self, request: WebhookRequest, now: float) -> None:
        value = require_header(request, self._header)
        message = request.body
        if self._timestamp_header is not None:
            raw = require_header(request, self._timestamp_header, "missing_timestamp")
            check_tolerance(parse_timestamp(raw), now, self._tolerance)
            message = header_bytes(raw) + request.body
        signature = decode_signature(value, self._encoding, size=ED25519_SIGNATURE_SIZE)
        if not any_verifies(self._keys, lambda key: key.verify(signature, message)):
            raise VerificationError("signature_mismatch", f"{self._header} does not verify")


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> Ed25519Provider:
    reject_unknown_options(options, _OPTIONS)
    header = option_str(options, "header")
    encoding = cast(Encoding, option_choice(options, "encoding", ENCODINGS, "hex"))
    timestamp_header = option_optional_str(options, "timestamp_header")
    if timestamp_header is None and "tolerance" in options:
        raise ConfigError("option 'tolerance' needs 'timestamp_header'", key="tolerance")
    tolerance = option_positive_number(options, "tolerance", DEFAULT_TOLERANCE)
    return Ed25519Provider(
        ed25519_keys(secrets),
        header=header,
        encoding=encoding,
        timestamp_header=timestamp_header,
        tolerance=tolerance,
        fields=event_fields(options),
    )


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Give the sender this URL; put its Ed25519 public key in secrets and set "
    "header (and timestamp_header) to where it sends the signature.",
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """The source's options: ``header`` (required), ``encoding``, ``timestamp_header``."""
    options = Options(NAME, opts, ("header", "encoding", "timestamp_header"))
    header = options.text("header").lower()
    encoding = options.choice("encoding", ENCODINGS, "hex")
    key = ed25519_private_key(NAME, secret)
    headers: dict[str, str] = {}
    message = body
    timestamp_header = options.optional("timestamp_header")
    if timestamp_header is not None:
        headers[timestamp_header.lower()] = str(int(now))
        message = str(int(now)).encode("ascii") + body
    signature = key.sign(message)
    headers[header] = (
        signature.hex() if encoding == "hex" else base64.b64encode(signature).decode("ascii")
    )
    return headers_only(body, headers)


SENDING: Final = Sending(
    sign=_sign,
    signs_with=ED25519_SEED,
    sample=GENERIC,
)
