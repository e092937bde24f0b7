"""PagerDuty (v3 webhooks): ``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]`` of the raw body.

Several ``v1`` entries are sent while a secret is rotated; any one matching accepts. The event
is the body's ``event.event_type`` (``incident.triggered``), the id ``event.id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import SHARED_KEY, Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="pagerduty",
    header="x-pagerduty-signature",
    pairs=",",
    signature_key="v1",
    event_type=body("event", "event_type"),
    event_id=body("event", "id"),
)
SPEC: Final = SCHEME.spec(
    hint="Integrations > Generic Webhooks (v3) > New Webhook: paste the URL, pick "
    "event types; copy the signing secret shown once (X-PagerDuty-Signature)."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={
            "event": {
                "id": "5ac64822-4adc-4fda-ade0-410becf0de4f",
                "event_type": "incident.triggered",
                "resource_type": "incident",
                "occurred_at": "2024-05-01T12:00:00.000Z",
                "data": {"id": "PGR0VU2", "type": "incident", "title": "Disk full on db-1"},
            }
        },
        event=(BodyPath(("event", "event_type")),),
        event_id=Fresh(BodyPath(("event", "id"))),
    ),
)
