"""Stripe: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>]`` over ``"{t}.{raw body}"``.

HMAC-SHA256, hex. The key is the ``whsec_...`` signing secret used as UTF-8 text as it is
(Stripe does not base64-decode it). Several ``v1`` entries are sent while a secret is rolled;
other schemes (``v0``) are ignored. Timestamps more than ``tolerance`` seconds (default 300)
before or after now are refused. The event type and id are the body's ``type`` and ``id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="stripe",
    header="stripe-signature",
    pairs=",",
    timestamp_key="t",
    signature_key="v1",
    signed_prefix="{ts}.",
    tolerance=300.0,
    event_type=body("type"),
    event_id=body("id"),
)
SPEC: Final = SCHEME.spec()
