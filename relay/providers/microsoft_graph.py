"""Microsoft Graph change notifications.

Handshake: a request (POST, or GET) with ``?validationToken=V`` is answered 200 ``text/plain``
V, as Graph requires when a subscription is created or renewed.

Notifications carry no signature: each item of the body's ``value`` array has the
``clientState`` given when subscribing, which must equal one of the secrets (compared in
constant time). The JSON body is parsed here because that material is inside it; every item
must match, so one forged item cannot ride along with a genuine one. (Rich notifications'
encrypted content and ``validationTokens`` JWTs are not checked.)

Event type: ``value[0].changeType`` (``created``, ``updated``, ``deleted``...). Graph sends no
delivery id, so there is no event id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import (
    ProviderBase,
    dig,
    equals_any,
    load_json,
    require_challenge,
    scalar,
    text_bytes,
    text_reply,
)
from relay.providers._hmac import reject_unknown_options, utf8_keys
from relay.providers.base import HandshakeReply, ProviderSpec, VerificationError, WebhookRequest
from relay.providers.sample import BodyPath, Sample
from relay.providers.sender import Options, Sending, SignedRequest

__all__ = ["SENDING", "SPEC", "MicrosoftGraphProvider", "build"]

NAME: Final = "microsoft-graph"
VALIDATION_PARAM: Final = "validationToken"


class MicrosoftGraphProvider(ProviderBase[bytes]):
    """Graph webhooks authenticated by ``clientState``."""

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        if VALIDATION_PARAM not in request.query:
            return None
        return text_reply(require_challenge(request.query.get(VALIDATION_PARAM), VALIDATION_PARAM))

    def verify(self, request: WebhookRequest, now: float) -> None:
        items = dig(load_json(request.body), "value")
        if not isinstance(items, list) or not items:
            raise VerificationError("malformed_body", "the body has no 'value' notifications")
        matched = True
        for item in items:
            state = dig(item, "clientState")
            if not isinstance(state, str):
                raise VerificationError("missing_client_state", "a notification has no clientState")
            matched &= equals_any(text_bytes(state), self._keys)
        if not matched:
            raise VerificationError("client_state_mismatch", "a clientState does not match")

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(body, "value", 0, "changeType"))


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> MicrosoftGraphProvider:
    reject_unknown_options(options, ())
    return MicrosoftGraphProvider(NAME, utf8_keys(secrets))


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    allows_get=True,
    hint="Create a subscription (POST /subscriptions) with notificationUrl = "
    "this URL and clientState = one of secrets; Graph's ?validationToken= check is echoed.",
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Sets ``clientState`` on every notification of the body's ``value`` array."""
    Options(NAME, opts, ())
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # too deep to parse
        payload = None
    items = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ValueError("signer 'microsoft-graph' needs a body {'value': [notification, ...]}")
    signed = {**payload, "value": [{**item, "clientState": secret} for item in items]}
    return SignedRequest(headers={}, body=json.dumps(signed, allow_nan=False).encode("utf-8"))


SENDING: Final = Sending(
    sign=_sign,
    signs_with="the subscription's clientState",
    sample=Sample(
        payload={
            "value": [
                {
                    "subscriptionId": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
                    "subscriptionExpirationDateTime": "2024-05-03T12:00:00.0000000Z",
                    "changeType": "created",
                    "resource": "Users/{user-id}/messages/AAMkADExAAA=",
                    "resourceData": {"@odata.type": "#Microsoft.Graph.Message", "id": "AAMk"},
                    "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
                }
            ]
        },
        event=(BodyPath(("value", 0, "changeType")),),
    ),
)
