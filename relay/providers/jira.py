"""Jira (admin webhooks with a secret): ``X-Hub-Signature: sha256=<hex>`` of the raw body.

The event is the body's ``webhookEvent`` (``jira:issue_updated``), the delivery id the
``X-Atlassian-Webhook-Identifier`` header (the same on retries of one delivery).
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body, header
from relay.providers.sample import BodyPath, Fresh, Header, Sample
from relay.providers.sender import SHARED_KEY, Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="jira",
    header="x-hub-signature",
    prefix="sha256=",
    event_type=body("webhookEvent"),
    event_id=header("x-atlassian-webhook-identifier"),
)
SPEC: Final = SCHEME.spec(
    hint="Settings > System > WebHooks > Create a WebHook: paste the URL, set a Secret "
    "(X-Hub-Signature), pick the events your routes use."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={
            "timestamp": 1714564800000,
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Ada"},
            "issue": {"id": "10002", "key": "PROJ-7", "fields": {"summary": "Crash on start"}},
        },
        event=(BodyPath(("webhookEvent",)),),
        event_id=Fresh(Header("x-atlassian-webhook-identifier")),
    ),
)
