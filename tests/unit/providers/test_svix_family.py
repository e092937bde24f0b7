"""Svix, Clerk and Resend: cross-checked with the official ``svix`` SDK in both directions."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from svix.webhooks import Webhook, WebhookVerificationError

from relay.devtools.signing import sign
from tests.unit.providers.cases import SVIX_FAMILY, build, reason_of, request

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"type":"user.created","data":{"id":"user_29w83sxmDNGwOuEthce5gg56FcC"}}'


@pytest.mark.parametrize("name", SVIX_FAMILY)
def test_relay_accepts_what_the_sdk_signs(name: str) -> None:
    now = 1_700_000_000
    moment = datetime.fromtimestamp(now, tz=UTC)
    signature = Webhook(SECRET).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", moment, BODY.decode())
    headers = {
        "svix-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "svix-timestamp": str(now),
        "svix-signature": signature,
    }
    provider = build(name, SECRET)
    provider.verify(request(BODY, headers), now)
    assert provider.event_id(request(BODY, headers), {}) == "msg_p5jXN8AQM9LWM0D4loKWxJek"
    assert provider.event_type(request(BODY, headers), {"type": "user.created"}) == "user.created"
    assert reason_of(provider, request(BODY + b" ", headers), now) == "signature_mismatch"


@pytest.mark.parametrize("name", SVIX_FAMILY)
def test_the_sdk_accepts_what_relay_signs(name: str) -> None:
    headers = sign(name, SECRET, BODY, time.time())
    assert set(headers) == {"svix-id", "svix-timestamp", "svix-signature"}
    Webhook(SECRET).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY + b" ", headers)


@pytest.mark.parametrize("name", SVIX_FAMILY)
def test_webhook_prefixed_headers_are_not_read_by_default(name: str) -> None:
    now = 1_700_000_000
    headers = sign(name, SECRET, BODY, now, header_prefix="webhook-")
    assert reason_of(build(name, SECRET), request(BODY, headers), now) == "missing_id"
    build(name, SECRET, header_prefix="webhook-").verify(request(BODY, headers), now)
