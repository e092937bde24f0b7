"""Calendly: ``Calendly-Webhook-Signature: t=<unix>,v1=<hex>`` over ``"{t}.{raw body}"``.

HMAC-SHA256, hex, key = the webhook signing key. Timestamps more than ``tolerance`` seconds
(default 180, Calendly's three minutes) away from now are refused. The event is the body's
``event`` (``invitee.created``); Calendly sends no delivery id.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body

__all__ = ["SCHEME", "SPEC"]

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
SPEC: Final = SCHEME.spec()
