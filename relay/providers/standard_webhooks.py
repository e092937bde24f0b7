"""Standard Webhooks (https://www.standardwebhooks.com), also the base for Svix-style senders.

Headers ``{prefix}id``, ``{prefix}timestamp`` and ``{prefix}signature`` (prefix ``webhook-``
by default, ``svix-`` for Svix). The signature header is a space-separated list of
``v1,<base64>`` entries; entries of other versions are ignored. The signed content is
``{id}.{timestamp}.{raw body}``, HMAC-SHA256, base64. The key is the base64-decoding of the
secret without its ``whsec_`` prefix.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._hmac import (
    check_tolerance,
    compute,
    decode_signature,
    digest_size,
    matches_any,
    option_positive_number,
    option_str,
    parse_timestamp,
    reject_unknown_options,
    secret_list,
)
from relay.providers.base import (
    ConfigError,
    HandshakeReply,
    ProviderSpec,
    VerificationError,
    WebhookRequest,
)
from relay.providers.sample import BodyPath, Fresh, Sample, SignerOption
from relay.providers.sender import (
    WHSEC_KEY,
    Options,
    Sending,
    SignedRequest,
    Signer,
    derived_id,
    headers_only,
)

__all__ = [
    "SENDING",
    "SPEC",
    "StandardWebhooksProvider",
    "build",
    "decode_secret",
    "signer",
    "svix_sample",
]

NAME: Final = "standard-webhooks"
DEFAULT_PREFIX: Final = "webhook-"
DEFAULT_TOLERANCE: Final = 300.0
MAX_SIGNATURES: Final = 100
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a format marker, not a secret
_VERSION: Final = "v1"
_SIZE: Final = digest_size("sha256")
_OPTIONS: Final = ("tolerance", "header_prefix")


def decode_secret(secret: str, index: int = 1) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` (or bare base64) secret; ``ConfigError`` if invalid."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (ValueError, binascii.Error):
        raise ConfigError(
            f"secret #{index} is not valid base64 (expected 'whsec_<base64>')", key="secrets"
        ) from None
    if not key:
        raise ConfigError(f"secret #{index} decodes to an empty key", key="secrets")
    return key


class StandardWebhooksProvider:
    """Verifies Standard Webhooks deliveries against one or more keys."""

    def __init__(
        self,
        keys: Sequence[bytes],
        *,
        tolerance: float = DEFAULT_TOLERANCE,
        header_prefix: str = DEFAULT_PREFIX,
        name: str = NAME,
    ) -> None:
        self.name: str = name
        self._keys = tuple(keys)
        self._tolerance = tolerance
        prefix = header_prefix.lower()
        self._id_header = f"{prefix}id"
        self._timestamp_header = f"{prefix}timestamp"
        self._signature_header = f"{prefix}signature"

    def __repr__(self) -> str:
        return (
            f"StandardWebhooksProvider(name={self.name!r}, secrets={len(self._keys)}, "
            f"tolerance={self._tolerance:g}, signature_header={self._signature_header!r})"
        )

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        return None

    def _candidates(self, header: str) -> list[bytes]:
        entries = [entry for entry in header.split(" ") if entry]
        if len(entries) > MAX_SIGNATURES:
            raise VerificationError(
                "malformed_signature", f"more than {MAX_SIGNATURES} signatures in the header"
            )
        candidates: list[bytes] = []
        for entry in entries:
            version, sep, value = entry.partition(",")
            if not sep:
                raise VerificationError(
                    "malformed_signature", "signature entries must look like 'v1,<base64>'"
                )
            if version == _VERSION:
                candidates.append(decode_signature(value, "base64", size=_SIZE))
        if not candidates:
            raise VerificationError(
                "missing_signature", f"{self._signature_header} holds no v1 signature"
            )
        return candidates

    def verify(self, request: WebhookRequest, now: float) -> None:
        headers = request.headers
        msg_id = headers.get(self._id_header)
        if not msg_id:
            raise VerificationError("missing_id", f"{self._id_header} header is missing")
        raw_timestamp = headers.get(self._timestamp_header)
        if raw_timestamp is None:
            raise VerificationError(
                "missing_timestamp", f"{self._timestamp_header} header is missing"
            )
        signature = headers.get(self._signature_header)
        if signature is None:
            raise VerificationError(
                "missing_signature", f"{self._signature_header} header is missing"
            )
        timestamp = parse_timestamp(raw_timestamp)
        check_tolerance(timestamp, now, self._tolerance)
        candidates = self._candidates(signature)
        # The reference libraries sign the integer timestamp re-formatted, not the raw header.
        # "surrogatepass" makes encoding total: an odd id cannot raise anything here.
        signed = b"%s.%d.%s" % (msg_id.encode("utf-8", "surrogatepass"), timestamp, request.body)
        if not matches_any(self._keys, signed, candidates, "sha256"):
            raise VerificationError(
                "signature_mismatch", f"no {self._signature_header} entry matches"
            )

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return request.headers.get(self._id_header) or None

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        if isinstance(body, dict):
            value = body.get("type")
            if isinstance(value, str):
                return value
        return None


def build_with(
    secrets: Sequence[str],
    options: Mapping[str, Any],
    *,
    name: str = NAME,
    default_prefix: str = DEFAULT_PREFIX,
) -> StandardWebhooksProvider:
    """Build a provider of this scheme under another ``name`` (e.g. svix, with ``svix-``)."""
    reject_unknown_options(options, _OPTIONS)
    tolerance = option_positive_number(options, "tolerance", DEFAULT_TOLERANCE)
    header_prefix = option_str(options, "header_prefix", default_prefix)
    keys = [decode_secret(secret, index) for index, secret in enumerate(secret_list(secrets), 1)]
    return StandardWebhooksProvider(
        keys, tolerance=tolerance, header_prefix=header_prefix, name=name
    )


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> StandardWebhooksProvider:
    return build_with(secrets, options)


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Give the sender this URL; put its whsec_... secret in secrets "
    "(webhook-id, webhook-timestamp, webhook-signature headers).",
)


# ---------------------------------------------------------------- sending side (relay send)


def signer(name: str, default_prefix: str) -> Signer:
    """Signs as ``name`` does. Options: ``msg_id`` (default: derived from body and time),
    ``header_prefix``."""

    def sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
        options = Options(name, opts, ("msg_id", "header_prefix"))
        timestamp = int(now)
        msg_id = options.text("msg_id", derived_id("msg_", body, now))
        prefix = options.text("header_prefix", default_prefix).lower()
        key = decode_secret(secret)
        signed = b"%s.%d.%s" % (msg_id.encode("utf-8"), timestamp, body)
        signature = base64.b64encode(compute(key, signed)).decode("ascii")
        return headers_only(
            body,
            {
                f"{prefix}id": msg_id,
                f"{prefix}timestamp": str(timestamp),
                f"{prefix}signature": f"v1,{signature}",
            },
        )

    return sign


def svix_sample(kind: str, data: dict[str, Any]) -> Sample:
    """A Svix-style event: ``type``, ``timestamp`` and ``data``; the id is the signed ``msg_id``."""
    return Sample(
        payload={"type": kind, "timestamp": "2024-05-01T12:00:00.000Z", "data": data},
        event=(BodyPath(("type",)),),
        event_id=Fresh(SignerOption("msg_id"), "hex", "msg_"),
    )


SENDING: Final = Sending(
    sign=signer(NAME, DEFAULT_PREFIX),
    signs_with=WHSEC_KEY,
    sample=svix_sample("invoice.paid", {"id": "in_1042", "amount": 4200}),
)
