"""Notion: ``X-Notion-Signature: sha256=<hex>``, HMAC-SHA256 of the raw body.

The key is the subscription's ``verification_token``. Notion sends that token once, in an
unsigned POST ``{"verification_token": "..."}`` when the subscription is created; relay
answers it 200 ``{}`` and neither stores nor forwards it (it cannot be authenticated). The
operator must then put that token in the source's ``secrets`` (and paste it into Notion to
finish the setup); until then every signed event is refused with ``signature_mismatch``.
Relay does not yet show the token anywhere: capture it from the request (e.g. a proxy log)
until the receiver logs handshakes' contents. The event type is the body's ``type``
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
    if data is None or not isinstance(data.get("verification_token"), str):
        return None
    return json_reply({})


SCHEME: Final = Scheme(
    name="notion",
    header=SIGNATURE_HEADER,
    prefix="sha256=",
    handshake=_handshake,
    event_type=body("type"),
    event_id=body("id"),
)
SPEC: Final = SCHEME.spec()
