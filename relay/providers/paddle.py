"""Paddle Billing: ``Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>]`` over ``"{ts}:{raw}"``.

HMAC-SHA256, hex, key = the notification destination's secret key. Several ``h1`` entries are
sent during a secret rotation. The replay window defaults to 5 seconds like Paddle's SDK
(option ``tolerance``; raise it if clocks drift). Type and id: the body's ``event_type`` and
``event_id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="paddle",
    header="paddle-signature",
    pairs=";",
    timestamp_key="ts",
    signature_key="h1",
    signed_prefix="{ts}:",
    tolerance=5.0,
    event_type=body("event_type"),
    event_id=body("event_id"),
)
SPEC: Final = SCHEME.spec()
