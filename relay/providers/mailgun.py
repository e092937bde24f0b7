"""Mailgun: the signature travels inside the JSON body.

``{"signature": {"timestamp": T, "token": N, "signature": hex}, "event-data": {...}}`` where
the signature is hex HMAC-SHA256(webhook signing key, ``T + N``). The body is parsed here
because the signed material is in it. Note that Mailgun's signature covers only the timestamp
and token, not ``event-data``. The token is the event id (relay's dedupe key), as Mailgun
recommends deduplicating on it, so a replayed token is recognised as a duplicate.

A timestamp that is not unix seconds is refused, and so is one more than ``tolerance``
seconds (default 28,800: 8 hours) before or after now. Mailgun asks receivers to check that the
timestamp is "not too far from the current time" without giving a number, and its retries
(for 8 hours: after 5, 10, 15 minutes, 1, 2 and 4 hours) are reported to resend the signature
block of the first attempt, so a shorter window could refuse the retries of an event relay
could not take the first time. A replay inside the window carries a token relay has already
stored: a duplicate (or, with other event data, a conflict), never a second event forwarded.
``secrets`` are signing keys (several while rotating).

Event type: ``event-data.event``. Event id: the signature token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import ProviderBase, check_hmac, dig, load_json, scalar, text_bytes
from relay.providers._hmac import (
    check_tolerance,
    compute,
    option_positive_number,
    parse_timestamp,
    reject_unknown_options,
    utf8_keys,
)
from relay.providers.base import ProviderSpec, VerificationError, WebhookRequest
from relay.providers.sample import BodyPath, Fresh, Sample, SignerOption
from relay.providers.sender import Options, Sending, SignedRequest, derived_id

__all__ = ["DEFAULT_TOLERANCE", "SENDING", "SPEC", "MailgunProvider", "build"]

NAME: Final = "mailgun"
#: Mailgun retries for 8 hours with the first attempt's signature (see above).
DEFAULT_TOLERANCE: Final = 8 * 3600.0
#: Longest token accepted (Mailgun sends 50 characters).
MAX_TOKEN: Final = 512


def _field(signature: dict[str, Any], name: str, missing: str) -> str:
    value = signature.get(name)
    if value is None:
        raise VerificationError(missing, f"signature.{name} is missing")
    if isinstance(value, int) and not isinstance(value, bool) and name == "timestamp":
        return str(value)
    if not isinstance(value, str):
        reason = "invalid_timestamp" if name == "timestamp" else f"malformed_{name}"
        raise VerificationError(reason, f"signature.{name} is not a string")
    return value


class MailgunProvider(ProviderBase[bytes]):
    """Verifies Mailgun webhooks (the JSON ``signature`` object) against signing keys."""

    def __init__(self, keys: Sequence[bytes], tolerance: float = DEFAULT_TOLERANCE) -> None:
        super().__init__(NAME, keys)
        self._tolerance = tolerance

    def verify(self, request: WebhookRequest, now: float) -> None:
        signature = dig(load_json(request.body), "signature")
        if not isinstance(signature, dict):
            raise VerificationError("missing_signature", "the body has no signature object")
        value = _field(signature, "signature", "missing_signature")
        raw_timestamp = _field(signature, "timestamp", "missing_timestamp")
        token = _field(signature, "token", "missing_token")
        if not token or len(token) > MAX_TOKEN:
            raise VerificationError("malformed_token", "signature.token is empty or too long")
        check_tolerance(parse_timestamp(raw_timestamp), now, self._tolerance)
        message = text_bytes(raw_timestamp + token)
        check_hmac(self._keys, message, value, label="signature.signature", encoding="hex")

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(body, "event-data", "event"))

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(body, "signature", "token"))


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> MailgunProvider:
    reject_unknown_options(options, ("tolerance",))
    return MailgunProvider(
        utf8_keys(secrets), option_positive_number(options, "tolerance", DEFAULT_TOLERANCE)
    )


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Sending > Webhooks > Add webhook: pick the event types your routes use, paste "
    "the URL; the HTTP webhook signing key goes in secrets (the signature is in the body).",
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Adds the ``signature`` object to a JSON object body. Options: ``token``."""
    options = Options(NAME, opts, ("token",))
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # too deep to parse
        raise ValueError("signer 'mailgun' signs a JSON object body") from None
    if not isinstance(payload, dict):
        raise ValueError("signer 'mailgun' signs a JSON object body")
    token = options.text("token", derived_id("", body, now, 50))
    timestamp = str(int(now))
    signature = compute(secret.encode("utf-8"), (timestamp + token).encode("utf-8")).hex()
    signed = {
        "signature": {"token": token, "timestamp": timestamp, "signature": signature},
        **{key: value for key, value in payload.items() if key != "signature"},
    }
    return SignedRequest(headers={}, body=json.dumps(signed, allow_nan=False).encode("utf-8"))


SENDING: Final = Sending(
    sign=_sign,
    signs_with="the HTTP webhook signing key",
    sample=Sample(
        payload={
            "event-data": {
                "event": "delivered",
                "id": "CPgfbmQMTCKtHW6uIWtuVe",
                "timestamp": 1714564800.0,
                "recipient": "alice@example.com",
                "message": {"headers": {"message-id": "20240501120000.1.ABC@mg.example.com"}},
            }
        },
        event=(BodyPath(("event-data", "event")),),
        event_id=Fresh(SignerOption("token"), "hex"),
    ),
)
