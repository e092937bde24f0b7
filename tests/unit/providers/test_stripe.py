"""Stripe specifics, cross-checked with the official ``stripe`` SDK in both directions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import stripe

from relay.devtools.signing import sign
from tests.unit.providers.cases import build, reason_of, request

SECRET = "whsec_test_secret_f5b1c0a9e2d84e3b"
PAYLOAD = json.dumps(
    {
        "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        "object": "event",
        "api_version": "2022-11-15",
        "created": 1686089970,
        "type": "setup_intent.created",
        "data": {"object": {"id": "seti_1NG8Du2eZvKYlo2C9XMqbR0x", "object": "setup_intent"}},
    }
)


def test_relay_accepts_what_the_sdk_signs() -> None:
    now = 1_700_000_000
    header = stripe.WebhookSignature.generate_signature_header(PAYLOAD, SECRET, timestamp=now)
    build("stripe", SECRET).verify(request(PAYLOAD.encode(), {"stripe-signature": header}), now)


def test_the_sdk_accepts_what_relay_signs() -> None:
    headers = sign("stripe", SECRET, PAYLOAD.encode(), time.time())
    event = stripe.Webhook.construct_event(PAYLOAD, headers["stripe-signature"], SECRET)
    assert event["id"] == "evt_1NG8Du2eZvKYlo2CUI79vXWy"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(PAYLOAD + " ", headers["stripe-signature"], SECRET)


def test_the_key_is_the_whsec_string_itself_not_its_base64_decoding() -> None:
    now = 1_700_000_000
    decoded = base64.b64decode(SECRET.removeprefix("whsec_") + "==")
    message = f"{now}.{PAYLOAD}".encode()
    digest = hmac.new(decoded, message, hashlib.sha256).hexdigest()
    req = request(PAYLOAD.encode(), {"stripe-signature": f"t={now},v1={digest}"})
    assert reason_of(build("stripe", SECRET), req, now) == "signature_mismatch"


def test_accepts_a_secret_roll_with_two_v1_signatures_and_ignores_v0() -> None:
    now = 1_700_000_000
    old = stripe.WebhookSignature.generate_signature_header(PAYLOAD, "whsec_old", timestamp=now)
    new = stripe.WebhookSignature.generate_signature_header(PAYLOAD, SECRET, timestamp=now)
    header = f"{old},{new.split(',')[1]},v0={'0' * 64}"
    build("stripe", SECRET).verify(request(PAYLOAD.encode(), {"stripe-signature": header}), now)
    build("stripe", "whsec_old").verify(
        request(PAYLOAD.encode(), {"stripe-signature": header}), now
    )
