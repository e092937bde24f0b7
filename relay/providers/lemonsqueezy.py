"""Lemon Squeezy: ``X-Signature: <hex>``, HMAC-SHA256 of the raw body.

The event is the body's ``meta.event_name`` (``order_created``); there is no delivery id.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="lemonsqueezy",
    header="x-signature",
    event_type=body("meta", "event_name"),
)
SPEC: Final = SCHEME.spec()
