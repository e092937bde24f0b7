"""X (Twitter) Account Activity API: ``x-twitter-webhooks-signature: sha256=<base64>``.

HMAC-SHA256 of the raw body keyed with the app's consumer secret (``secrets``).

Handshake (so the source accepts GET): the CRC check ``GET ?crc_token=T`` is answered 200
``{"response_token": "sha256=" + base64(HMAC-SHA256(consumer secret, T))}`` using the *first*
configured secret (list the current one first when rotating).

Event type: the first key of the body ending in ``_events`` (``tweet_create_events``,
``direct_message_events``...). X sends no delivery id.
"""

from __future__ import annotations

import base64
from typing import Any, Final

from relay.providers._common import json_reply, require_challenge, text_bytes
from relay.providers._hmac import compute
from relay.providers._schemes import Scheme, SchemeProvider
from relay.providers.base import HandshakeReply, WebhookRequest
from relay.providers.sample import Sample
from relay.providers.sender import Sending

__all__ = ["SCHEME", "SENDING", "SPEC", "crc_response"]

NAME: Final = "twitter"
_SUFFIX: Final = "_events"


def crc_response(key: bytes, crc_token: str) -> str:
    """The ``response_token`` for ``crc_token``."""
    digest = compute(key, text_bytes(crc_token))
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def _handshake(
    provider: SchemeProvider, request: WebhookRequest, now: float
) -> HandshakeReply | None:
    if request.method != "GET" or "crc_token" not in request.query:
        return None
    token = require_challenge(request.query.get("crc_token"), "crc_token")
    return json_reply({"response_token": crc_response(provider.first_key, token)})


def _event_type(request: WebhookRequest, body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    return next((key for key in body if isinstance(key, str) and key.endswith(_SUFFIX)), None)


SCHEME: Final = Scheme(
    name=NAME,
    header="x-twitter-webhooks-signature",
    prefix="sha256=",
    encoding="base64",
    handshake=_handshake,
    allows_get=True,
    event_type=_event_type,
)
SPEC: Final = SCHEME.spec(
    hint="Register the URL as an Account Activity API webhook, then subscribe users; "
    "the CRC check (GET ?crc_token=) is answered with the consumer secret (first of "
    "secrets)."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with="the app's consumer secret (API key secret)",
    sample=Sample(
        payload={
            "for_user_id": "2244994945",
            "tweet_create_events": [
                {"id_str": "1786000000000000000", "text": "hello", "user": {"id_str": "6253282"}}
            ],
        },
    ),
)
