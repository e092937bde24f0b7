"""Notion: ``X-Notion-Signature: sha256=<hex>``, HMAC-SHA256 of the raw body.

The key is the subscription's ``verification_token``. Notion sends that token once, in an
unsigned POST ``{"verification_token": "..."}`` when the subscription is created. relay
answers it 200 ``{}``, never forwards it, and keeps the token as this source's key while the
source has none (see ``relay.providers._handed``); ``relay secrets reveal SOURCE`` shows it
so the operator can paste it into Notion to finish the setup. ``secrets`` may therefore be
empty; a configured token works too. The event type is the body's ``type``
(``page.created``), the id its ``id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._common import json_reply
from relay.providers._schemes import Scheme, SchemeProvider, body, json_object
from relay.providers.base import HandshakeReply, WebhookRequest
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SIGNATURE_HEADER: Final = "x-notion-signature"


def _handshake(
    provider: SchemeProvider, request: WebhookRequest, now: float
) -> HandshakeReply | None:
    if SIGNATURE_HEADER in request.headers or b"verification_token" not in request.body:
        return None
    data = json_object(request.body)
    token = None if data is None else data.get("verification_token")
    if not isinstance(token, str):
        return None
    reply = json_reply({})
    return HandshakeReply(
        body=reply.body, media_type=reply.media_type, handed_secret=token if token else None
    )


SCHEME: Final = Scheme(
    name="notion",
    header=SIGNATURE_HEADER,
    prefix="sha256=",
    handshake=_handshake,
    handed_secret=True,
    event_type=body("type"),
    event_id=body("id"),
)
SPEC: Final = SCHEME.spec(
    hint="Integration settings > Webhooks > Create a subscription: paste the URL; Notion "
    "POSTs a verification_token: paste it back into Notion and into secrets "
    "(X-Notion-Signature)."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with="the subscription's verification_token",
    sample=Sample(
        payload={
            "id": "367cba44-b6f3-4c92-81e7-6a2e9659efd4",
            "timestamp": "2024-05-01T12:00:00.000Z",
            "workspace_id": "13950b26-c203-4f3b-b97d-93ec06319565",
            "subscription_id": "29d75c0d-5546-4414-8459-7b7a92f1fc4b",
            "type": "page.created",
            "entity": {"id": "153104cd-477e-809d-8dc4-ff2d96ae3090", "type": "page"},
            "data": {"parent": {"id": "13950b26-c203-4f3b-b97d-93ec06319565"}},
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(BodyPath(("id",))),
    ),
)
