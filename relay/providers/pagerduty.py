"""PagerDuty (v3 webhooks): ``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]`` of the raw body.

Several ``v1`` entries are sent while a secret is rotated; any one matching accepts. The event
is the body's ``event.event_type`` (``incident.triggered``), the id ``event.id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="pagerduty",
    header="x-pagerduty-signature",
    pairs=",",
    signature_key="v1",
    event_type=body("event", "event_type"),
    event_id=body("event", "id"),
)
SPEC: Final = SCHEME.spec()
