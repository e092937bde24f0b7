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

__all__ = ["SCHEME", "SPEC"]

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
SPEC: Final = SCHEME.spec()
