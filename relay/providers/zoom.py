"""Zoom: ``x-zm-signature: v0=<hex>`` over ``"v0:{x-zm-request-timestamp}:{raw}"``.

HMAC-SHA256 keyed with the app's secret token; timestamps more than ``tolerance`` seconds
(default 300) from now are refused. Handshake: the signed ``endpoint.url_validation`` event with
``payload.plainToken`` P is answered 200 ``{"plainToken": P, "encryptedToken": hex(HMAC-SHA256
(secret, P))}`` using the *first* configured secret (list the current one first when rotating).

The event type is the body's ``event``; the id is ``"{event}:{event_ts}"`` when both are
present (Zoom sends no delivery id).
"""

from __future__ import annotations

from typing import Final

from relay.providers._common import json_reply, text_bytes
from relay.providers._hmac import compute
from relay.providers._schemes import Scheme, SchemeProvider, body, joined, signed_json
from relay.providers.base import HandshakeReply, WebhookRequest
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

VALIDATION_EVENT: Final = "endpoint.url_validation"


def _handshake(
    provider: SchemeProvider, request: WebhookRequest, now: float
) -> HandshakeReply | None:
    data = signed_json(provider, request, now, VALIDATION_EVENT.encode("ascii"))
    if data is None or data.get("event") != VALIDATION_EVENT:
        return None
    payload = data.get("payload")
    token = payload.get("plainToken") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token:
        return None
    encrypted = compute(provider.first_key, text_bytes(token)).hex()
    return json_reply({"plainToken": token, "encryptedToken": encrypted})


SCHEME: Final = Scheme(
    name="zoom",
    header="x-zm-signature",
    prefix="v0=",
    timestamp_header="x-zm-request-timestamp",
    signed_prefix="v0:{ts}:",
    tolerance=300.0,
    handshake=_handshake,
    event_type=body("event"),
    event_id=joined(body("event"), body("event_ts"), ":", both=True),
)
SPEC: Final = SCHEME.spec(
    hint="Marketplace > your app > Features > Event Subscriptions: endpoint URL = this "
    "URL (endpoint.url_validation is answered), pick events; the Secret Token goes in "
    "secrets."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with="the app's secret token",
    sample=Sample(
        payload={
            "event": "meeting.started",
            "event_ts": 1714564800000,
            "payload": {
                "account_id": "D8cJuqWVQ623CI4Q8yQK0Q",
                "object": {"id": "85645238412", "topic": "Weekly sync", "host_id": "x1y2z3"},
            },
        },
        event=(BodyPath(("event",)),),
        event_id=Fresh(BodyPath(("event_ts",)), "millis"),
    ),
)
