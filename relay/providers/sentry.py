"""Sentry integrations: ``Sentry-Hook-Signature: <hex>``, HMAC-SHA256 of the raw body.

The event is ``{Sentry-Hook-Resource}.{action}`` (``issue.created``), or the resource alone
when the body has no ``action``; the id is the ``Request-ID`` header.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body, header, joined

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="sentry",
    header="sentry-hook-signature",
    event_type=joined(header("sentry-hook-resource"), body("action")),
    event_id=header("request-id"),
)
SPEC: Final = SCHEME.spec()
