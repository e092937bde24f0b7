"""SendGrid Event Webhook: ECDSA P-256 / SHA-256 over timestamp + raw body.

Headers ``X-Twilio-Email-Event-Webhook-Signature`` (base64 of a DER ECDSA signature) and
``X-Twilio-Email-Event-Webhook-Timestamp`` (unix seconds). ``secrets`` are the verification
keys SendGrid shows (base64 of the DER SubjectPublicKeyInfo; PEM works too); any one verifying
accepts. A timestamp that is not unix seconds is refused, and so is one more than
``tolerance`` seconds (default 300) before or after now. SendGrid documents no replay window;
300 s is the window of the other signed-timestamp schemes (Stripe, Slack, Standard Webhooks).
If SendGrid's retries (for up to 24 hours) arrive refused as ``timestamp_too_old``, raise
``tolerance``.

The body is a JSON array of events, so the event type is ``batch`` and there is no event id.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from relay.providers._asymmetric import any_verifies, ecdsa_p256_keys
from relay.providers._common import ProviderBase, header_bytes, require_header
from relay.providers._hmac import (
    check_tolerance,
    decode_signature,
    option_positive_number,
    parse_timestamp,
    reject_unknown_options,
)
from relay.providers._private_keys import P256_KEY, p256_private_key
from relay.providers.base import ProviderSpec, VerificationError, WebhookRequest
from relay.providers.sample import Sample
from relay.providers.sender import Options, Sending, SignedRequest, headers_only

__all__ = ["DEFAULT_TOLERANCE", "SENDING", "SPEC", "SendGridProvider", "build"]

NAME: Final = "sendgrid"
SIGNATURE_HEADER: Final = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER: Final = "X-Twilio-Email-Event-Webhook-Timestamp"
DEFAULT_TOLERANCE: Final = 300.0
#: A DER ECDSA P-256 signature is at most 72 bytes; anything far longer is not one.
MAX_SIGNATURE_BYTES: Final = 80


class SendGridProvider(ProviderBase[ec.EllipticCurvePublicKey]):
    """Verifies SendGrid Event Webhook batches against one or more public keys."""

    def __init__(
        self, keys: Sequence[ec.EllipticCurvePublicKey], tolerance: float = DEFAULT_TOLERANCE
    ) -> None:
        super().__init__(NAME, keys)
        self._tolerance = tolerance

    def verify(self, request: WebhookRequest, now: float) -> None:
        value = require_header(request, SIGNATURE_HEADER)
        raw_timestamp = require_header(request, TIMESTAMP_HEADER, "missing_timestamp")
        check_tolerance(parse_timestamp(raw_timestamp), now, self._tolerance)
        signature = decode_signature(value, "base64")
        if not signature or len(signature) > MAX_SIGNATURE_BYTES:
            raise VerificationError("malformed_signature", "signature has the wrong length")
        message = header_bytes(raw_timestamp) + request.body
        algorithm = ec.ECDSA(hashes.SHA256())
        if not any_verifies(self._keys, lambda key: key.verify(signature, message, algorithm)):
            raise VerificationError("signature_mismatch", f"{SIGNATURE_HEADER} does not verify")

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return "batch"


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> SendGridProvider:
    reject_unknown_options(options, ("tolerance",))
    return SendGridProvider(
        ecdsa_p256_keys(secrets), option_positive_number(options, "tolerance", DEFAULT_TOLERANCE)
    )


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Settings > Mail Settings > Event Webhook: Post URL = this URL, pick events, "
    "enable Signed Event Webhook and put its Verification Key in secrets.",
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    Options(NAME, opts, ())
    key = p256_private_key(NAME, secret)
    timestamp = str(int(now))
    signature = key.sign(timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
    return headers_only(
        body,
        {
            "x-twilio-email-event-webhook-signature": base64.b64encode(signature).decode("ascii"),
            "x-twilio-email-event-webhook-timestamp": timestamp,
        },
    )


SENDING: Final = Sending(
    sign=_sign,
    signs_with=P256_KEY,
    sample=Sample(
        payload=[
            {
                "email": "example@test.com",
                "timestamp": 1714564800,
                "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
                "event": "delivered",
                "sg_event_id": "sg_event_id",
                "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            }
        ],
    ),
)
