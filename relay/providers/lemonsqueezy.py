"""Lemon Squeezy: ``X-Signature: <hex>``, HMAC-SHA256 of the raw body.

The event is the body's ``meta.event_name`` (``order_created``); there is no delivery id.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body
from relay.providers.sample import BodyPath, Header, Sample
from relay.providers.sender import SHARED_KEY, Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="lemonsqueezy",
    header="x-signature",
    event_type=body("meta", "event_name"),
)
SPEC: Final = SCHEME.spec(
    hint="Settings > Webhooks > +: paste the URL, set a Signing secret "
    "(X-Signature), tick the events your routes use."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={
            "meta": {"event_name": "order_created", "test_mode": True},
            "data": {
                "type": "orders",
                "id": "1",
                "attributes": {"store_id": 1, "status": "paid", "total": 999},
            },
        },
        headers={"x-event-name": "order_created"},
        event=(BodyPath(("meta", "event_name")), Header("x-event-name")),
    ),
)
