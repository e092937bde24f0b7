"""Typeform: ``Typeform-Signature: sha256=<base64>``, HMAC-SHA256 of the raw body.

The event is the body's ``event_type`` (``form_response``), the id its ``event_id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="typeform",
    header="typeform-signature",
    encoding="base64",
    prefix="sha256=",
    event_type=body("event_type"),
    event_id=body("event_id"),
)
SPEC: Final = SCHEME.spec()
