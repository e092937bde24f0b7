"""Calendly: ``Calendly-Webhook-Signature: t=<unix>,v1=<hex>`` over ``"{t}.{raw body}"``.

HMAC-SHA256, hex, key = the webhook signing key. Timestamps more than ``tolerance`` seconds
(default 180, Calendly's three minutes) away from now are refused. The event is the body's
``event`` (``invitee.created``); Calendly sends no delivery id.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body
from relay.providers.sample import BodyPath, Sample
from relay.providers.sender import SHARED_KEY, Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="calendly",
    header="calendly-webhook-signature",
    pairs=",",
    timestamp_key="t",
    signature_key="v1",
    signed_prefix="{ts}.",
    tolerance=180.0,
    event_type=body("event"),
)
SPEC: Final = SCHEME.spec(
    hint="Create a webhook subscription with the API (POST /webhook_subscriptions, "
    "url = this URL, signing_key = your secret), the events your routes "
    "use (Calendly-Webhook-Signature)."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={
            "created_at": "2024-05-01T12:00:00.000000Z",
            "created_by": "https://api.calendly.com/users/AAAAAAAAAAAAAAAA",
            "event": "invitee.created",
            "payload": {
                "email": "test@example.com",
                "name": "John Doe",
                "status": "active",
                "uri": "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/A1",
            },
        },
        event=(BodyPath(("event",)),),
    ),
)
