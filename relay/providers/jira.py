"""Jira (admin webhooks with a secret): ``X-Hub-Signature: sha256=<hex>`` of the raw body.

The event is the body's ``webhookEvent`` (``jira:issue_updated``), the delivery id the
``X-Atlassian-Webhook-Identifier`` header (the same on retries of one delivery).
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body, header

__all__ = ["SCHEME", "SPEC"]

SCHEME: Final = Scheme(
    name="jira",
    header="x-hub-signature",
    prefix="sha256=",
    event_type=body("webhookEvent"),
    event_id=header("x-atlassian-webhook-identifier"),
)
SPEC: Final = SCHEME.spec()
