"""Vercel: ``x-vercel-signature: <hex>``, HMAC-SHA1 of the raw body.

The event is the body's ``type`` (``deployment.succeeded``), the id the body's ``id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="vercel",
    header="x-vercel-signature",
    algorithm="sha1",
    event_type=body("type"),
    event_id=body("id"),
)
SPEC: Final = SCHEME.spec()
