"""Dropbox: ``X-Dropbox-Signature: <hex>``, HMAC-SHA256 of the raw body (key: app secret).

Handshake: ``GET ?challenge=C`` is answered 200 ``text/plain`` C with
``X-Content-Type-Options: nosniff`` (so the source accepts GET); a challenge that is not
printable text of at most 4096 characters is refused. Notifications only say that
something changed (``list_folder``); they carry no id.
"""

from __future__ import annotations

from typing import Final

from relay.providers._common import require_challenge, text_reply
from relay.providers._schemes import Scheme, SchemeProvider, constant
from relay.providers.base import HandshakeReply, WebhookRequest
from relay.providers.sample import Sample
from relay.providers.sender import Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]


def _handshake(
    provider: SchemeProvider, request: WebhookRequest, now: float
) -> HandshakeReply | None:
    challenge = request.query.get("challenge") if request.method == "GET" else None
    if challenge is None:
        return None
    return text_reply(require_challenge(challenge, "challenge"))


SCHEME: Final = Scheme(
    name="dropbox",
    header="x-dropbox-signature",
    handshake=_handshake,
    allows_get=True,
    event_type=constant("list_folder"),
)
SPEC: Final = SCHEME.spec(
    hint="App Console > your app > Webhooks: add the URL (Dropbox's GET ?challenge= is "
    "echoed); the App secret signs X-Dropbox-Signature."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with="the app secret",
    sample=Sample(
        payload={
            "list_folder": {"accounts": ["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]},
            "delta": {"users": [12345678]},
        },
    ),
)
