"""Coinbase Commerce: ``X-CC-Webhook-Signature: <hex>``, HMAC-SHA256 of the raw body.

The event is the body's ``event.type`` (``charge:confirmed``), the id ``event.id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="coinbase-commerce",
    header="x-cc-webhook-signature",
    event_type=body("event", "type"),
    event_id=body("event", "id"),
)
SPEC: Final = SCHEME.spec()
