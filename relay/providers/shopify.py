"""Shopify: ``X-Shopify-Hmac-Sha256: <base64>``, HMAC-SHA256 of the raw body.

The event is the ``X-Shopify-Topic`` header (``orders/create``), the id
``X-Shopify-Webhook-Id`` (else ``X-Shopify-Event-Id``).
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, header

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="shopify",
    header="x-shopify-hmac-sha256",
    encoding="base64",
    event_type=header("x-shopify-topic"),
    event_id=header("x-shopify-webhook-id", "x-shopify-event-id"),
)
SPEC: Final = SCHEME.spec()
