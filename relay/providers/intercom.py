"""Intercom: ``X-Hub-Signature: sha1=<hex>``, HMAC-SHA1 of the raw body (key: client secret).

The event is the body's ``topic`` (``conversation.user.created``), the id the body's ``id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="intercom",
    header="x-hub-signature",
    algorithm="sha1",
    prefix="sha1=",
    event_type=body("topic"),
    event_id=body("id"),
)
SPEC: Final = SCHEME.spec()
