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

__all__ = ["SPEC", "MicrosoftGraphProvider", "build"]

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


SPEC: Final = ProviderSpec(name=NAME, build=build, allows_get=True)
