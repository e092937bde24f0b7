"""Coinbase Commerce: ``X-CC-Webhook-Signature: <hex>``, HMAC-SHA256 of the raw body.

The event is the body's ``event.type`` (``charge:confirmed``), the id ``event.id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import SHARED_KEY, Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="coinbase-commerce",
    header="x-cc-webhook-signature",
    event_type=body("event", "type"),
    event_id=body("event", "id"),
)
SPEC: Final = SCHEME.spec(
    hint="Settings > Webhook subscriptions > Add an endpoint: paste the URL; "
    "copy the Shared secret (X-CC-Webhook-Signature)."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={
            "id": 1,
            "scheduled_for": "2024-05-01T12:00:00Z",
            "event": {
                "id": "24934862-d980-46cb-9402-43c81b0cdba6",
                "resource": "event",
                "type": "charge:created",
                "api_version": "2018-03-22",
                "created_at": "2024-05-01T12:00:00Z",
                "data": {"code": "66BEOV2A", "name": "The Sovereign Individual"},
            },
        },
        event=(BodyPath(("event", "type")),),
        event_id=Fresh(BodyPath(("event", "id"))),
    ),
)
