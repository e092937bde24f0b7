"""Bitbucket: ``X-Hub-Signature: sha256=<hex>``, HMAC-SHA256 of the raw body.

Bitbucket sends no signature header at all when the webhook has no secret; such requests are
refused. The event is ``X-Event-Key`` (``repo:push``), the delivery id ``X-Request-UUID``
(Bitbucket Cloud) or ``X-Request-Id`` (Data Center, same signature scheme). ``X-Hook-UUID`` is
deliberately not used: it names the webhook, so every delivery would look like a duplicate.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, header

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="bitbucket",
    header="x-hub-signature",
    prefix="sha256=",
    event_type=header("x-event-key"),
    event_id=header("x-request-uuid", "x-request-id"),
)
SPEC: Final = SCHEME.spec()
