"""PayPal webhooks, verified offline (no call to PayPal, no certificate download).

Headers ``PAYPAL-TRANSMISSION-ID``, ``PAYPAL-TRANSMISSION-TIME`` (RFC 3339),
``PAYPAL-TRANSMISSION-SIG`` (base64) and ``PAYPAL-AUTH-ALGO`` (must be ``SHA256withRSA``);
``PAYPAL-CERT-URL`` is ignored: fetching a URL named by the request is exactly what an
attacker would want. The signed string is
``"{transmission id}|{transmission time}|{webhook id}|{crc32(raw body), unsigned decimal}"``,
RSA PKCS#1 v1.5 with SHA-256.

``secrets`` are PayPal's signing certificates or their public keys, in PEM (any one verifying
accepts: list the next certificate before PayPal rotates). Option ``webhook_id`` (required) is
the id PayPal shows for this webhook. A transmission time that is not RFC 3339 is refused, and
so is one more than ``tolerance`` seconds (default 300) before or after now. PayPal documents
no replay window; 300 s is the window of the other signed-timestamp schemes (Stripe, Slack,
Standard Webhooks). Each transmission is signed with its own id and time; if PayPal's retries
arrive refused as ``timestamp_too_old``, raise ``tolerance``.

Event type: the body's ``event_type``. Event id: its ``id``, else the transmission id.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from relay.providers._asymmetric import any_verifies, rsa_keys
from relay.providers._common import (
    ProviderBase,
    dig,
    header_bytes,
    require_header,
    scalar,
    text_bytes,
)
from relay.providers._configurable import parse_rfc3339
from relay.providers._hmac import (
    check_tolerance,
    decode_signature,
    option_positive_number,
    option_str,
    reject_unknown_options,
)
from relay.providers._private_keys import RSA_KEY, rsa_private_key
from relay.providers.base import ProviderSpec, VerificationError, WebhookRequest
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import Options, Sending, SignedRequest, derived_id, headers_only

__all__ = ["DEFAULT_TOLERANCE", "SENDING", "SPEC", "PayPalProvider", "build", "signed_string"]

NAME: Final = "paypal"
ID_HEADER: Final = "PAYPAL-TRANSMISSION-ID"
TIME_HEADER: Final = "PAYPAL-TRANSMISSION-TIME"
SIGNATURE_HEADER: Final = "PAYPAL-TRANSMISSION-SIG"
ALGORITHM_HEADER: Final = "PAYPAL-AUTH-ALGO"
ALGORITHM: Final = "SHA256withRSA"
DEFAULT_TOLERANCE: Final = 300.0
#: Longest RSA signature accepted (a 8192-bit key's).
MAX_SIGNATURE_BYTES: Final = 1024


def signed_string(transmission_id: bytes, time: bytes, webhook_id: bytes, body: bytes) -> bytes:
    """The bytes PayPal signs for one delivery."""
    return b"|".join((transmission_id, time, webhook_id, b"%d" % zlib.crc32(body)))


class PayPalProvider(ProviderBase[rsa.RSAPublicKey]):
    """Verifies PayPal webhook signatures against configured certificates / public keys."""

    def __init__(
        self,
        keys: Sequence[rsa.RSAPublicKey],
        webhook_id: str,
        tolerance: float = DEFAULT_TOLERANCE,
    ) -> None:
        super().__init__(NAME, keys)
        self._webhook_id = text_bytes(webhook_id)
        self._tolerance = tolerance

    def verify(self, request: WebhookRequest, now: float) -> None:
        value = require_header(request, SIGNATURE_HEADER)
        transmission_id = require_header(request, ID_HEADER, "missing_id")
        time = require_header(request, TIME_HEADER, "missing_timestamp")
        algorithm = require_header(request, ALGORITHM_HEADER, "missing_algorithm")
        if algorithm != ALGORITHM:
            raise VerificationError(
                "unsupported_algorithm", f"{ALGORITHM_HEADER} is not {ALGORITHM}"
            )
        check_tolerance(parse_rfc3339(time), now, self._tolerance)
        signature = decode_signature(value, "base64")
        if not signature or len(signature) > MAX_SIGNATURE_BYTES:
            raise VerificationError("malformed_signature", "signature has the wrong length")
        message = signed_string(
            header_bytes(transmission_id), header_bytes(time), self._webhook_id, request.body
        )
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
        if not any_verifies(self._keys, lambda key: key.verify(signature, message, pkcs1, sha256)):
            raise VerificationError("signature_mismatch", f"{SIGNATURE_HEADER} does not verify")

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(body, "event_type"))

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(body, "id")) or request.headers.get(ID_HEADER.lower()) or None


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> PayPalProvider:
    reject_unknown_options(options, ("webhook_id", "tolerance"))
    return PayPalProvider(
        rsa_keys(secrets),
        option_str(options, "webhook_id"),
        option_positive_number(options, "tolerance", DEFAULT_TOLERANCE),
    )


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Developer Dashboard > your app > Webhooks > Add Webhook: paste the URL, pick "
    "event types; put the Webhook ID in webhook_id and PayPal's signing certificate (PEM) "
    "in secrets.",
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Options: ``webhook_id`` (required, the source's), ``transmission_id``."""
    options = Options(NAME, opts, ("webhook_id", "transmission_id"))
    webhook_id = options.text("webhook_id")
    transmission_id = options.text("transmission_id", derived_id("", body, now, 32))
    key = rsa_private_key(NAME, secret)
    moment = datetime.fromtimestamp(int(now), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = signed_string(
        transmission_id.encode("utf-8"),
        moment.encode("ascii"),
        webhook_id.encode("utf-8"),
        body,
    )
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return headers_only(
        body,
        {
            "paypal-transmission-id": transmission_id,
            "paypal-transmission-time": moment,
            "paypal-transmission-sig": base64.b64encode(signature).decode("ascii"),
            "paypal-auth-algo": ALGORITHM,
        },
    )


SENDING: Final = Sending(
    sign=_sign,
    signs_with=RSA_KEY,
    sample=Sample(
        payload={
            "id": "WH-58D329510W468432D-8HN650336L201105X",
            "event_version": "1.0",
            "create_time": "2024-05-01T12:00:00.000Z",
            "resource_type": "capture",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "summary": "Payment completed for $ 7.47 USD",
            "resource": {"id": "42311647XV020574X", "status": "COMPLETED"},
        },
        event=(BodyPath(("event_type",)),),
        event_id=Fresh(BodyPath(("id",)), "hex", "WH-"),
    ),
)
