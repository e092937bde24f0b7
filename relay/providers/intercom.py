"""Intercom: ``X-Hub-Signature: sha1=<hex>``, HMAC-SHA1 of the raw body (key: client secret).

The event is the body's ``topic`` (``conversation.user.created``), the id the body's ``id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="intercom",
    header="x-hub-signature",
    algorithm="sha1",
    prefix="sha1=",
    event_type=body("topic"),
    event_id=body("id"),
)
SPEC: Final = SCHEME.spec(
    hint="Developer Hub > your app > Webhooks: paste the URL and pick topics; the "
    "app's Client secret signs X-Hub-Signature (sha1)."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with="the app's client secret",
    sample=Sample(
        payload={
            "type": "notification_event",
            "app_id": "abc123de",
            "topic": "conversation.user.created",
            "id": "notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3",
            "created_at": 1714564800,
            "data": {"type": "notification_event_data", "item": {"type": "conversation"}},
        },
        event=(BodyPath(("topic",)),),
        event_id=Fresh(BodyPath(("id",)), "uuid", "notif_"),
    ),
)
