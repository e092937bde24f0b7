"""Sentry integrations: ``Sentry-Hook-Signature: <hex>``, HMAC-SHA256 of the raw body.

The event is ``{Sentry-Hook-Resource}.{action}`` (``issue.created``), or the resource alone
when the body has no ``action``; the id is the ``Request-ID`` header.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body, header, joined
from relay.providers.sample import Fresh, Header, Sample
from relay.providers.sender import Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="sentry",
    header="sentry-hook-signature",
    event_type=joined(header("sentry-hook-resource"), body("action")),
    event_id=header("request-id"),
)
SPEC: Final = SCHEME.spec(
    hint="Settings > Developer Settings > Custom Integration: Webhook URL = this URL, "
    "tick the resources your routes use; the Client Secret signs Sentry-Hook-Signature."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with="the integration's client secret",
    sample=Sample(
        payload={
            "action": "created",
            "installation": {"uuid": "7a485448-a9e2-4c85-8a3c-4f44175783c9"},
            "data": {"issue": {"id": "1170820242", "title": "ZeroDivisionError"}},
            "actor": {"type": "application", "id": "sentry", "name": "Sentry"},
        },
        headers={"sentry-hook-resource": "issue"},
        event=(Header("sentry-hook-resource"),),
        event_id=Fresh(Header("request-id")),
    ),
)
